package dev.flywheel.trainingtrigger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.events.ModelTask;
import dev.flywheel.registry.SchemaRegistryClient;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import dev.flywheel.trainingtrigger.config.ExecutorSpec;
import dev.flywheel.trainingtrigger.config.ModelSpec;
import dev.flywheel.trainingtrigger.config.TrainingTriggerConfig;
import io.javalin.Javalin;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReadmeSnippetTest {

  /** The README's "In code" snippet; compiled here so the two cannot drift apart. */
  @SuppressWarnings("unused")
  static void snippet() {
    TrainingTriggerConfig config = TrainingTriggerConfig.load(Path.of("flywheel.yaml"));
    SchemaRegistryClient registry = SchemaRegistryClient.builder().url("http://127.0.0.1:8081").build();
    Topics topics = Topics.builder(new AvroSerdes(registry, Map.of())).build();
    try (TrainingTriggerService service = TrainingTriggerService.builder()
        .config(config)
        .kafka(Map.of("bootstrap.servers", "127.0.0.1:9092"))
        .schemaRegistryUrl("http://127.0.0.1:8081")
        .topics(topics)
        .build()
        .start()) {
      Javalin http = Javalin.create(c -> service.routes(c.routes)).start(8084);
      // ... until shutdown
      http.stop();
    }
  }

  @Test
  void shouldParseTheReadmeConfigurationExample() throws Exception {
    // Given the YAML block of the README
    String readme = Files.readString(Path.of("README.md"));
    int start = readme.indexOf("```yaml\nmodels:") + "```yaml\n".length();
    String yaml = readme.substring(start, readme.indexOf("```", start));
    // When parsed
    TrainingTriggerConfig config = TrainingTriggerConfig.parse(yaml, "README.md");
    // Then every documented setting is read
    ModelSpec m = config.model("fraud-detector").orElseThrow();
    assertThat(m.target()).isEqualTo("is_fraud");
    assertThat(m.task()).isEqualTo(ModelTask.BINARY_CLASSIFICATION);
    assertThat(m.training().params()).containsEntry("num_round", "200")
        .containsEntry("device", "cpu");
    assertThat(m.training().executor().kind()).isEqualTo(ExecutorSpec.Kind.LOCAL);
    assertThat(m.triggers().newLabels()).isEqualTo(5000L);
    assertThat(m.triggers().schedule()).isEqualTo(Duration.ofDays(1));
    assertThat(m.triggers().backoffAfter(2)).isEqualTo(Duration.ofMinutes(10));
    assertThat(m.training().allowUnknownParams()).isFalse();
    assertThat(config.externalModels()).containsExactly("vendor-scorer");
    assertThat(config.service().tick()).isEqualTo(Duration.ofSeconds(5));
  }
}
