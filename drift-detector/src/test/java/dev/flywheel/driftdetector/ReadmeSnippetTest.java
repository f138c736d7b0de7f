package dev.flywheel.driftdetector;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.devstack.junit.ReadmeSnippet;
import dev.flywheel.driftdetector.config.DriftDetectorConfig;
import dev.flywheel.driftdetector.config.DriftPolicy;
import dev.flywheel.events.DriftMethod;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The README's Java snippet compiles here, and the README shows it as it is here. */
class ReadmeSnippetTest {

  @SuppressWarnings("unused")
  static void snippet(Topics topics, AvroSerdes serdes, MeterRegistry meters) {
    // README:BEGIN
    DriftDetectorConfig config = DriftDetectorConfig.load(Path.of("flywheel.yaml"));
    try (DriftDetectorService drift = DriftDetectorService.builder()
        .config(config)
        .kafka(Map.of("bootstrap.servers", "127.0.0.1:9092"))
        .schemaRegistryUrl("http://127.0.0.1:8081")
        .topics(topics)                  // the catalogue, on dev.flywheel.serde.AvroSerdes
        .serdes(serdes)                  // the same AvroSerdes (for the baselines store)
        .stateDir(Path.of(".flywheel/state"))
        .meterRegistry(meters)           // any Micrometer MeterRegistry
        .build()
        .start()) {                      // creates missing topics, starts Kafka Streams
      System.out.println(drift.healthProblem().orElse("drift-detector is running"));
    }
    // README:END
  }

  @Test
  void shouldShowTheCompiledSnippetInTheReadme() throws Exception {
    String snippet = ReadmeSnippet.of(Path.of("src/test/java/dev/flywheel/driftdetector/"
        + "ReadmeSnippetTest.java"));
    assertThat(Files.readString(Path.of("README.md"))).contains(snippet);
  }

  @Test
  void shouldParseTheReadmesYamlIntoThePolicyItDescribes() throws Exception {
    // Given the README's flywheel.yaml example
    String readme = Files.readString(Path.of("README.md"));
    int start = readme.indexOf("```yaml\n") + 8;
    String yaml = readme.substring(start, readme.indexOf("```", start));
    // When it is parsed
    DriftDetectorConfig config = DriftDetectorConfig.parse(yaml, "README.md");
    // Then every documented key reaches the policy
    assertThat(config.applicationId()).isEqualTo("flywheel-drift-detector");
    assertThat(config.labelWindow()).isEqualTo(Duration.ofHours(24));
    DriftPolicy p = config.policyFor("fraud-detector");
    assertThat(p.alias()).isEqualTo("champion");
    assertThat(p.windowCount()).isEqualTo(5000);
    assertThat(p.windowDuration()).isEqualTo(Duration.ofHours(1));
    assertThat(p.grace()).isEqualTo(Duration.ofMinutes(5));
    assertThat(p.numeric().methodFor(false, 20_000, p.smallSample()))
        .isEqualTo(DriftMethod.WASSERSTEIN);
    assertThat(p.categorical().methodFor(true, 500, p.smallSample()))
        .isEqualTo(DriftMethod.CHI_SQUARE);
    assertThat(p.important()).containsExactly("amount");
    assertThat(p.consecutiveWindows()).isEqualTo(2);
    assertThat(p.cooldown()).isEqualTo(Duration.ofHours(6));
    assertThat(p.topFeatures()).isEqualTo(5);
  }
}
