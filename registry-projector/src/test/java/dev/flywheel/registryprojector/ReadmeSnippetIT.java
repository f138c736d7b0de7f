package dev.flywheel.registryprojector;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.ReadmeSnippet;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import io.javalin.Javalin;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The "From Java" snippet of the README, verbatim between the markers, on the devstack. */
@WithDevstack
class ReadmeSnippetIT {

  @TempDir Path dir;

  @Test
  void shouldRunTheReadmeSnippet(Devstack devstack, UniqueNames names) throws Exception {
    String registryUrl = devstack.schemaRegistryUrl();
    String bootstrap = devstack.bootstrapServers();
    Path yaml = dir.resolve("flywheel.yaml");
    Files.writeString(yaml, "registry: {applicationId: " + names.applicationId("registry")
        + "}\n");
    Path stateDir = dir.resolve("state");
    PrintStream original = System.out;
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
    try {
      // README:BEGIN
      AvroSerdes serdes = AvroSerdes.fromConfig(Map.of("schema.registry.url", registryUrl));
      Topics topics = Topics.builder(serdes).build();
      try (RegistryProjectorService registry = RegistryProjectorService.builder()
          .config(RegistryConfig.load(yaml))               // yaml = Path.of("flywheel.yaml")
          .kafka(Map.of("bootstrap.servers", bootstrap))   // any Kafka client property passes through
          .serdes(serdes)
          .topics(topics)
          .stateDir(stateDir)                              // where RocksDB keeps the stores
          .build()
          .start()) {
        Javalin http = Javalin.create(c -> registry.routes(c.routes)).start(0);
        System.out.println("registry at http://127.0.0.1:" + http.port() + "/models");
        http.stop();
      }
      // README:END
    } finally {
      System.setOut(original);
    }
    assertThat(printed.toString(StandardCharsets.UTF_8))
        .matches("(?s).*registry at http://127\\.0\\.0\\.1:\\d+/models.*");
    assertThat(Files.readString(Path.of("README.md"))).contains("```java\n"
        + ReadmeSnippet.of(Path.of("src", "test", "java", "dev", "flywheel", "registryprojector",
            "ReadmeSnippetIT.java"), 6) + "```");
  }
}
