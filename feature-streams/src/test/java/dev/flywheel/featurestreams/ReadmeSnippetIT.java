package dev.flywheel.featurestreams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.ReadmeSnippet;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.events.FeatureVector;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The "Running it" snippet of the README, run against the devstack; fails when the README no longer
 * shows it as compiled here.
 */
@WithDevstack
class ReadmeSnippetIT {

  @TempDir Path dir;

  @Test
  void shouldRunTheReadmeSnippet(Devstack devstack, UniqueNames names) throws Exception {
    // Given the transactions source (prefixed for this test) and one transaction of card-42
    String bootstrap = devstack.bootstrapServers();
    String registryUrl = devstack.schemaRegistryUrl();
    AvroSerdes serdes = AvroSerdes.fromConfig(Map.of("schema.registry.url", registryUrl));
    Topics topics = Topics.builder(serdes).prefix(names.prefix()).build();
    Topic<String, GenericRecord> data = topics.data(TransactionSource.NAME);
    serdes.client().register(data.name() + "-value", TransactionSource.schema());
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      new TopicBootstrap(admin).ensure(List.of(data));
    }
    long now = System.currentTimeMillis();
    try (KafkaProducer<String, GenericRecord> producer = new KafkaProducer<>(
        Map.of("bootstrap.servers", bootstrap), data.keySerde().serializer(),
        data.valueSerde().serializer())) {
      producer.send(new ProducerRecord<>(data.name(), null, now, "card-42",
          new TransactionSource.Tx("e-1", "card-42", "m-1", "travel", 120.0, "FR", "ECOMMERCE",
              now).toRecord(TransactionSource.schema()))).get();
    }
    Path yaml = dir.resolve("flywheel.yaml");
    Files.writeString(yaml, RandomizedCorrectnessTest.resource("/card_activity.yaml"));
    Path stateDir = dir.resolve("state");
    FeatureVector[] seen = new FeatureVector[1];

    String applicationId = names.applicationId("flywheel-feature-streams");
    String prefix = names.prefix();

    // When the snippet runs (with this test's topic prefix and application id)
    // README:BEGIN
    try (FeatureStreamsService features = FeatureStreamsService.builder()
        .config(FeatureStreamsConfig.load(yaml))           // yaml = Path.of("flywheel.yaml")
        .bootstrapServers(bootstrap)
        .schemaRegistryUrl(registryUrl)
        .applicationId(applicationId)                      // the consumer group; default
                                                           // "flywheel-feature-streams"
        .topicPrefix(prefix)                               // null unless topics are prefixed
        .stateDir(stateDir)                                // where RocksDB keeps the stores
        .standbyReplicas(1)                                // warm copies on other instances
        .applicationServer("127.0.0.1:8080")               // this instance's lookup address
        .build()
        .start()) {
      features.awaitRunning(Duration.ofSeconds(60));
      ReadOnlyKeyValueStore<String, FeatureVector> online = features.kafkaStreams().store(
          StoreQueryParameters.fromNameAndType(FeatureTopology.onlineStoreName("card_activity"),
              QueryableStoreTypes.keyValueStore()));
      // README:END
      // (once card-42's transaction, sent above, is processed)
      await().atMost(Duration.ofSeconds(60)).until(() -> (seen[0] = online.get("card-42")) != null);
      // README:BEGIN
      System.out.println(online.get("card-42"));         // card-42's latest vector, or null
    }
    // README:END

    // Then card-42's features are in the online store, and the README shows the snippet as run
    assertThat(Files.readString(Path.of("README.md"))).contains(
        "```java\n" + ReadmeSnippet.of(Path.of("src", "test", "java", "dev", "flywheel",
            "featurestreams", "ReadmeSnippetIT.java")) + "```");
    assertThat(seen[0].getFeatures()).containsEntry("tx_count_10m", 1.0)
        .containsEntry("amount_max_24h", 120.0);
    assertThat(seen[0].getEventId()).isEqualTo("e-1");
  }
}
