package dev.flywheel.featurestreams.lookup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.featurestreams.FeatureStreamsConfig;
import dev.flywheel.featurestreams.FeatureStreamsService;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the snippet of the "Online lookup" section of feature-streams/README.md; fails when the
 * two drift apart.
 */
@WithDevstack
class LookupReadmeSnippetIT {

  @TempDir Path dir;

  @Test
  void shouldRunTheReadmeLookupSnippet(Devstack devstack, UniqueNames names) throws Exception {
    // Given the demo source with one transaction of card-7, and flywheel.yaml declaring
    // card_activity
    AvroSerdes serdes = AvroSerdes.fromConfig(Map.of("schema.registry.url",
        devstack.schemaRegistryUrl()));
    Topics topics = Topics.builder(serdes).build();
    CardTransactions source = CardTransactions.add(devstack.bootstrapServers(), serdes, topics);
    source.produce(List.of(source.tx("tx-1", "card-7", 42.0, "m-1",
        Instant.parse("2026-11-23T10:00:00Z"))));
    Path yaml = dir.resolve("flywheel.yaml");
    try (InputStream in = FeatureStreamsConfig.class.getResourceAsStream(
        FeatureStreamsConfig.CARD_ACTIVITY_RESOURCE)) {
      Files.write(yaml, in.readAllBytes());
    }
    String bootstrap = devstack.bootstrapServers();
    String registryUrl = devstack.schemaRegistryUrl();
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path stateDir = dir.resolve("state");
    String applicationId = names.applicationId("features");

    // When the snippet runs (README text from here ...)
    FeatureStreamsConfig config = FeatureStreamsConfig.load(yaml);   // featureGroups: of flywheel.yaml
    try (FeatureStreamsService features = FeatureStreamsService.builder()
            .config(config)
            .bootstrapServers(bootstrap)
            .schemaRegistryUrl(registryUrl)
            .applicationId(applicationId)
            .stateDir(stateDir)
            .applicationServer("127.0.0.1:" + port)  // where the other instances reach this one
            .build()
            .start();
        FeatureLookupService lookup = FeatureLookupService.builder()
            .streams(features::kafkaStreams)
            .applicationServer("127.0.0.1:" + port)
            .groups(LookupGroup.of(config))
            .port(port)                              // or lookup.routes(..) on a shared server
            .build()
            .start()) {
      FeatureClient client = FeatureClient.builder()
          .url("http://127.0.0.1:" + port)
          .retryUnavailableFor(Duration.ofSeconds(30))  // rides out start-up and rebalances
          .build();
      FeatureValues card = client.get("card_activity", "card-7");
      System.out.println(card.found() + " as of " + card.asOf() + ": " + card.features());
      // (... to here)

      // Then card-7's features are answered, as of its transaction
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
        FeatureValues values = client.get("card_activity", "card-7");
        assertThat(values.found()).isTrue();
        assertThat(values.asOf()).isEqualTo(Instant.parse("2026-11-23T10:00:00Z"));
        assertThat(values.features()).containsEntry("amount_sum_24h", 42.0);
      });
    }
  }
}
