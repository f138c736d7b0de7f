package dev.flywheel.featurestreams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.streams.BoundedMemoryRocksDBConfig;
import dev.flywheel.topics.Topics;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

/** The service's builder and the Kafka Streams properties it runs with. */
class FeatureStreamsServiceTest {

  @Test
  void shouldRunExactlyOnceWithStandbysBoundedRocksDbAndTheApplicationServer() {
    // Given
    FeatureStreamsService service = FeatureStreamsService.builder()
        .config(FeatureStreamsConfig.cardActivity())
        .bootstrapServers("broker:9092")
        .schemaRegistryUrl("http://registry:8081")
        .applicationId("features-a")
        .stateDir(Path.of("/var/lib/flywheel/state"))
        .standbyReplicas(1)
        .numStreamThreads(2)
        .applicationServer("10.0.0.7:8080")
        .kafka(Map.of("security.protocol", "SASL_SSL", StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 50))
        .build();

    // When
    Properties props = service.streamsProperties();

    // Then
    assertThat(props)
        .containsEntry(StreamsConfig.APPLICATION_ID_CONFIG, "features-a")
        .containsEntry(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "broker:9092")
        .containsEntry(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2)
        .containsEntry(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, 1)
        .containsEntry(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 2)
        .containsEntry(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG,
            BoundedMemoryRocksDBConfig.class)
        .containsEntry(StreamsConfig.APPLICATION_SERVER_CONFIG, "10.0.0.7:8080")
        .containsEntry(StreamsConfig.STATE_DIR_CONFIG, "/var/lib/flywheel/state")
        .containsEntry("security.protocol", "SASL_SSL")
        .containsEntry(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 50);
    // and the feature log and changelog are written in lz4
    assertThat(new StreamsConfig(props).getProducerConfigs("c"))
        .containsEntry(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    assertThat(service.healthProblem()).contains("feature-streams is not started");
  }

  @Test
  void shouldLeaveCompressionToAUserWhoSetsIt() {
    // Given a user whose consumers cannot read lz4
    FeatureStreamsService service = FeatureStreamsService.builder()
        .config(FeatureStreamsConfig.cardActivity())
        .bootstrapServers("broker:9092")
        .schemaRegistryUrl("http://registry:8081")
        .kafka(Map.of(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none"))
        .build();

    // Then the producers follow the user's setting, not the default
    assertThat(new StreamsConfig(service.streamsProperties()).getProducerConfigs("c"))
        .containsEntry(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none");
  }

  @Test
  void shouldReplicateChangelogsAsTheCatalogueReplicatesItsTopics() {
    // Given a catalogue whose topics are replicated 3 times (kafka.replicationFactor: 3)
    AvroSerdes serdes = AvroSerdes.fromConfig(Map.of("schema.registry.url",
        "http://registry:8081"));
    FeatureStreamsService service = FeatureStreamsService.builder()
        .config(FeatureStreamsConfig.cardActivity())
        .bootstrapServers("broker:9092")
        .serdes(serdes)
        .topics(Topics.builder(serdes).replicationFactor((short) 3).build())
        .build();

    // Then Kafka Streams creates the stores' changelogs with 3 replicas too
    assertThat(new StreamsConfig(service.streamsProperties())
        .getInt(StreamsConfig.REPLICATION_FACTOR_CONFIG)).isEqualTo(3);
  }

  @Test
  void shouldLeaveChangelogsToTheBrokersDefaultReplicationWhenTheCatalogueWasGivenNone() {
    // Given a catalogue built without a replication factor (a service started on its own, whose
    // topics were created elsewhere)
    AvroSerdes serdes = AvroSerdes.fromConfig(Map.of("schema.registry.url",
        "http://registry:8081"));
    FeatureStreamsService service = FeatureStreamsService.builder()
        .config(FeatureStreamsConfig.cardActivity())
        .bootstrapServers("broker:9092")
        .serdes(serdes)
        .topics(Topics.builder(serdes).build())
        .build();

    // Then Kafka Streams leaves the changelogs to the broker's default.replication.factor (-1),
    // rather than the catalogue's default of 1
    assertThat(new StreamsConfig(service.streamsProperties())
        .getInt(StreamsConfig.REPLICATION_FACTOR_CONFIG)).isEqualTo(-1);
  }

  @Test
  void shouldNameWhatIsMissing() {
    assertThatThrownBy(() -> FeatureStreamsService.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("config")
        .hasMessageContaining("bootstrapServers")
        .hasMessageContaining("schemaRegistryUrl");
  }

  @Test
  void shouldRefuseNegativeStandbys() {
    assertThatThrownBy(() -> FeatureStreamsService.builder().standbyReplicas(-1))
        .hasMessageContaining("standbyReplicas must be >= 0");
  }

  @Test
  void shouldBeClosableTwiceWithoutStarting() {
    FeatureStreamsService service = FeatureStreamsService.builder()
        .config(FeatureStreamsConfig.cardActivity())
        .bootstrapServers("broker:9092")
        .schemaRegistryUrl("http://registry:8081")
        .build();
    service.close();
    service.close();
    assertThat(service.healthProblem()).contains("feature-streams is closed");
    assertThatThrownBy(service::start).hasMessageContaining("closed");
  }
}
