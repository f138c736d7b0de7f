package dev.flywheel.servingsink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.devstack.junit.ReadmeSnippet;
import dev.flywheel.topics.Topics;
import io.javalin.Javalin;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The README's Java snippet compiles here, and the README shows it as it is here. */
class ReadmeSnippetTest {

  @SuppressWarnings("unused")
  static void snippet(Topics topics, MeterRegistry meters) throws Exception {
    // README:BEGIN
    ServingSinkConfig config = ServingSinkConfig.load(Path.of("flywheel.yaml"));
    try (ServingSinkService serving = ServingSinkService.builder()
        .config(config)
        .kafka(Map.of("bootstrap.servers", "127.0.0.1:9092"))
        .topics(topics)                  // the catalogue, on dev.flywheel.serde.AvroSerdes
        .meters(meters)                  // any Micrometer MeterRegistry
        .build()
        .start()) {                      // returns once the current champion serves
      Javalin http = Javalin.create(c -> serving.routes(c.routes)).start(8084);
      System.out.println("serving " + serving.served().values());
      http.stop();
    }
    // README:END
  }

  @Test
  void shouldShowTheCompiledSnippetInTheReadme() throws Exception {
    String snippet = ReadmeSnippet.of(Path.of("src/test/java/dev/flywheel/servingsink/"
        + "ReadmeSnippetTest.java"));
    String readme = Files.readString(Path.of("README.md"));
    assertThat(readme).contains(snippet);
  }

  @Test
  void shouldParseTheReadmesYamlSection() throws Exception {
    String readme = Files.readString(Path.of("README.md"));
    int start = readme.indexOf("```yaml\n") + 8;
    ServingSinkConfig config = ServingSinkConfig.parse(readme.substring(start,
        readme.indexOf("```", start)));
    assertThat(config.instanceId()).isEqualTo("serving-1");
    assertThat(config.models()).containsExactly("fraud");
    assertThat(config.featureGroups()).containsKey("card_activity");
    assertThat(config.maxBatch()).isEqualTo(500);
  }
}
