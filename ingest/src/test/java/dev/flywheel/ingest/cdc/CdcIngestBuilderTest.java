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

  private CdcIngest.Builder complete() {
    return CdcIngest.builder()
        .bootstrapServers("127.0.0.1:9")
        .topics(topics)
        .registry(serdes.client())
        .database("127.0.0.1", 5432, "shop", "postgres", "postgres");
  }
}
