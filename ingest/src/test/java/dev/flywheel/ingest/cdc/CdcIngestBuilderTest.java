package dev.flywheel.ingest.cdc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.registry.InMemorySchemaRegistryClient;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CdcIngestBuilderTest {

  private final AvroSerdes serdes =
      new AvroSerdes(new InMemorySchemaRegistryClient(), Map.of());
  private final Topics topics = Topics.builder(serdes).build();

  @Test
  void shouldNameTheFirstMissingSetting() {
    assertThatThrownBy(() -> CdcIngest.builder().topics(topics).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("bootstrapServers");
    assertThatThrownBy(() -> complete().table("orders", "orders").database(null, 1, "", "", ""))
        .isInstanceOf(NullPointerException.class);
  }

  @Test
  void shouldRequireAtLeastOneTable() {
    assertThatThrownBy(() -> complete().build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("at least one table");
  }

  @Test
  void shouldRefuseATableCapturedTwice() {
    assertThatThrownBy(() -> complete().table("public.orders", "orders").table("orders", "other"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("public.orders is already captured into source 'orders'");
  }

  @Test
  void shouldRefuseASlotNamePostgresWouldReject() {
    assertThatThrownBy(() -> complete().slotName("Flywheel-CDC"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("lower-case letters, digits and '_'");
  }

  @Test
  void shouldRefuseASourceNameThatMakesNoTopicName() {
    assertThatThrownBy(() -> complete().table("orders", "orders!").build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("orders!");
  }

  @Test
  void shouldParseQualifiedAndUnqualifiedTables() {
    assertThat(CdcTable.of("orders", "o").qualifiedName()).isEqualTo("public.orders");
    assertThat(CdcTable.of("sales.orders", "o").schema()).isEqualTo("sales");
    assertThatThrownBy(() -> CdcTable.of("sales.\"Orders\"", "o"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("plain");
  }

  @Test
  void shouldPassKafkaPropertiesToEveryKafkaClientOfCdc() {
    // Given CDC for a SASL cluster
    Map<String, Object> secured = Map.of(
        "security.protocol", "SASL_SSL",
        "sasl.mechanism", "SCRAM-SHA-512",
        "sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required;");
    CdcIngest.Builder builder = complete().table("orders", "orders");
    secured.forEach(builder::kafkaProperty);

    // When the settings of its Kafka clients are built
    CdcIngest cdc = builder.build();

    // Then the admin client, the producer, the position reader and the offset store all carry them
    assertThat(cdc.adminConfig()).containsAllEntriesOf(secured)
        .containsEntry("bootstrap.servers", "127.0.0.1:9");
    assertThat(cdc.producerConfig()).containsAllEntriesOf(secured);
    assertThat(cdc.consumerConfig()).containsAllEntriesOf(secured);
    assertThat(cdc.engineProperties()).containsAllEntriesOf(secured)
        .containsEntry("bootstrap.servers", "127.0.0.1:9");
  }

  @Test
  void shouldKeepWhatTheDeliveryGuaranteeRestsOnOverKafkaProperties() {
    // Given Kafka properties that would make the position reader commit or stop at a transaction
    // left open, and the producer drop idempotence or acknowledge early
    CdcIngest cdc = complete().table("orders", "orders")
        .kafkaProperty("enable.auto.commit", true)
        .kafkaProperty("isolation.level", "read_committed")
        .kafkaProperty("enable.idempotence", false)
        .kafkaProperty("acks", "1")
        .kafkaProperty("linger.ms", 20)
        .producerProperty("linger.ms", 50)
        .build();

    // When the client settings are built
    // Then the reader still neither commits nor stops at the last stable offset, the producer
    // stays idempotent with acks=all, and a producer property wins over both
    assertThat(cdc.consumerConfig()).containsEntry("enable.auto.commit", false)
        .containsEntry("isolation.level", "read_uncommitted");
    assertThat(cdc.producerConfig()).containsEntry("enable.idempotence", true)
        .containsEntry("acks", "all").containsEntry("linger.ms", 50);
  }

  private CdcIngest.Builder complete() {
    return CdcIngest.builder()
        .bootstrapServers("127.0.0.1:9")
        .topics(topics)
        .registry(serdes.client())
        .database("127.0.0.1", 5432, "shop", "postgres", "postgres");
  }
}
