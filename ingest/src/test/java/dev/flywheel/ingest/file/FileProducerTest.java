package dev.flywheel.ingest.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.ingest.json.FieldError;
import dev.flywheel.ingest.source.SourceDefinition;
import dev.flywheel.registry.InMemorySchemaRegistryClient;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;

class FileProducerTest {

  private static final SourceDefinition SOURCE = SourceDefinition.builder("card-tx")
      .schema(FileProducerIT.SCHEMA).keyField("card_id").timeField("event_time").build();

  @Test
  void shouldNameEverythingMissingFromTheBuilder() {
    assertThatThrownBy(() -> FileProducer.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("a FileProducer needs bootstrapServers, topics, source (or labels())");
  }

  @Test
  void shouldLayOverridesOverTheIdempotentThroughputDefaults() {
    FileProducer producer = FileProducer.builder()
        .bootstrapServers("127.0.0.1:9092")
        .topics(Topics.builder(new AvroSerdes(new InMemorySchemaRegistryClient(), Map.of()))
            .build())
        .source(SOURCE)
        .producerConfig(Map.of(ProducerConfig.LINGER_MS_CONFIG, 5,
            ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, "x.Y"))
        .build();

    Map<String, Object> config = producer.producerConfig();

    assertThat(config).containsEntry(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true)
        .containsEntry(ProducerConfig.ACKS_CONFIG, "all")
        .containsEntry(ProducerConfig.LINGER_MS_CONFIG, 5)
        .containsEntry(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1)
        .containsEntry(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9092")
        .doesNotContainKey(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG);
  }

  @Test
  void shouldRefuseANegativeNumberOfListedInvalidLines() {
    assertThatThrownBy(() -> FileProducer.builder().maxListedInvalid(-1))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void shouldDescribeASummaryInOneLine() {
    FileProducerSummary summary = new FileProducerSummary(Path.of("events.jsonl"), "card-tx",
        "flywheel.data.card-tx", 1000, 998, 2,
        List.of(new InvalidLine(7, List.of(new FieldError("amount", "expected a number")))),
        2, 0, null, true, 1000, Duration.ofSeconds(2));

    assertThat(summary.describe()).isEqualTo("read 1,000, produced 998 to flywheel.data.card-tx,"
        + " invalid 2 (2 on the dead-letter topic) in 2.0 s, 500 records/s; stopped after the"
        + " record on line 1000, the records after it were not produced");
    assertThat(summary.invalidLines().get(0)).hasToString("line 7: amount: expected a number");
    assertThat(summary.complete()).isFalse();
  }
}
