package dev.flywheel.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.ingest.http.IngestService;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's "Running it" snippet, verbatim between the markers, against the devstack. */
@WithDevstack
class ReadmeSnippetIT {

  @TempDir
  Path dir;

  @Test
  void shouldRunTheReadmeSnippet(Devstack devstack) throws Exception {
    // Given a flywheel.yaml declaring card-tx with its schema file next to it
    Files.createDirectories(dir.resolve("schemas"));
    Files.writeString(dir.resolve("schemas/tx.avsc"), """
        {"type": "record", "name": "Tx", "fields": [
          {"name": "card_id", "type": "string"},
          {"name": "event_time", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}""");
    Path yaml = dir.resolve("flywheel.yaml");
    Files.writeString(yaml, """
        sources:
          - name: card-tx
            schema: schemas/tx.avsc
            key: card_id
            time: event_time
        ingest:
          port: 0
        """);
    String registryUrl = devstack.schemaRegistryUrl();
    String bootstrap = devstack.bootstrapServers();
    String url;

    // When the README's snippet runs
    // --- README snippet start
    AvroSerdes serdes = AvroSerdes.fromConfig(Map.of("schema.registry.url", registryUrl));
    Topics topics = Topics.builder(serdes).build();
    try (IngestService ingest = IngestService.builder()
        .config(IngestConfig.load(yaml))                // yaml = Path.of("flywheel.yaml")
        .configDir(yaml.toAbsolutePath().getParent())   // schema paths in the YAML are relative to it
        .kafka(Map.of("bootstrap.servers", bootstrap))  // any Kafka client property passes through
        .serdes(serdes)
        .topics(topics)
        .build()
        .start()) {
      System.out.println("POST events to " + ingest.url() + "/ingest/card-tx");
      // --- README snippet end
      url = ingest.url();

      // Then the declared source takes events
      HttpResponse<String> response = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create(url + "/ingest/card-tx"))
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString(
                  "{\"card_id\": \"c-1\", \"event_time\": \"2024-05-01T10:00:00Z\"}"))
              .build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).isEqualTo(202);
    }
  }

  @Test
  void shouldKeepTheSnippetInTheReadme() throws Exception {
    String readme = Files.readString(Path.of("README.md"));
    String test = Files.readString(Path.of("src/test/java/dev/flywheel/ingest/ReadmeSnippetIT.java"));
    String snippet = test.substring(test.indexOf("// --- README snippet start"),
        test.indexOf("// --- README snippet end"));
    for (String line : snippet.lines().skip(1).toList()) {
      assertThat(readme).contains(line.strip());
    }
  }
}
