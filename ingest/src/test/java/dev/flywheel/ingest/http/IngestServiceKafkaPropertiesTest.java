package dev.flywheel.ingest.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.ingest.IngestConfig;
import dev.flywheel.registry.InMemorySchemaRegistryClient;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import org.junit.jupiter.api.Test;

class IngestServiceKafkaPropertiesTest {

  private static final Map<String, Object> SECURED = Map.of(
      "bootstrap.servers", "kafka-1:9093",
      "security.protocol", "SASL_SSL",
      "sasl.mechanism", "SCRAM-SHA-512",
      "sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required;");

  @Test
  void shouldPassTheKafkaPropertiesToTheAdminClientAndEveryProducer() {
    // Given an ingest service for a SASL cluster
    IngestService service = service(SECURED);

    // When the settings of its Kafka clients are built
    // Then the admin client, the batch producers and the dead-letter producer all carry them
    assertThat(service.adminProps()).containsAllEntriesOf(SECURED);
    assertThat(service.transactionalProps("flywheel-ingest-test-0"))
        .containsAllEntriesOf(SECURED);
    assertThat(service.producerProps("flywheel-ingest-dlq")).containsAllEntriesOf(SECURED);
  }

  private static IngestService service(Map<String, Object> kafka) {
    AvroSerdes serdes = new AvroSerdes(new InMemorySchemaRegistryClient(), Map.of());
    return IngestService.builder()
        .config(IngestConfig.parse("{}"))
        .kafka(kafka)
        .serdes(serdes)
        .topics(Topics.builder(serdes).build())
        .meterRegistry(new SimpleMeterRegistry())
        .build();
  }
}
