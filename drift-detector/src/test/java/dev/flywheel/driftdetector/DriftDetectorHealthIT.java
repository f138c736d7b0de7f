package dev.flywheel.driftdetector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.driftdetector.config.DriftDetectorConfig;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.state.RocksDBConfigSetter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.Options;

/** What drift-detector's health says when its stream threads fail on every start. */
@WithDevstack
class DriftDetectorHealthIT {

  @TempDir Path dir;

  @Test
  void shouldReportUnhealthyWithTheCauseWhenAStreamThreadFailsOnEveryStart(Devstack devstack,
      UniqueNames names) {
    // Given a drift detector whose stores cannot open: a RocksDB setting refused on every start
    AvroSerdes serdes = AvroSerdes.fromConfig(
        Map.of("schema.registry.url", devstack.schemaRegistryUrl()));
    Topics topics = Topics.builder(serdes).prefix(names.prefix()).build();
    DriftDetectorConfig config = DriftDetectorConfig.parse("""
        driftDetector:
          applicationId: %s
        models:
          - name: %s
            training: {ignored: here}
            drift:
              window: {count: 100}
        """.formatted(names.applicationId("drift-health"), Fixtures.MODEL), "test");

    // When it starts, and each replaced stream thread fails as the one before
    try (DriftDetectorService drift = DriftDetectorService.builder()
        .config(config)
        .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers(),
            StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG, RefusedSetting.class.getName()))
        .schemaRegistryUrl(devstack.schemaRegistryUrl())
        .topics(topics).serdes(serdes).stateDir(dir.resolve("state"))
        .meterRegistry(new SimpleMeterRegistry())
        .build().start()) {

      // Then its health says how many failed in a row and why (the failed threads' exceptions
      // are expected, so not caught by Awaitility)
      await().atMost(Duration.ofSeconds(120)).dontCatchUncaughtExceptions().untilAsserted(() ->
          assertThat(drift.healthProblem()).hasValueSatisfying(problem -> assertThat(problem)
              .contains("drift-detector: a stream thread failed", "times in a row",
                  RefusedSetting.MESSAGE)));
      assertThat(drift.healthy()).isFalse();
      // while Kafka Streams itself still reports a state that looks healthy
      assertThat(drift.streams().state())
          .isIn(KafkaStreams.State.RUNNING, KafkaStreams.State.REBALANCING);
    }
  }

  /** A RocksDB setting every store refuses when it opens. */
  public static final class RefusedSetting implements RocksDBConfigSetter {
    static final String MESSAGE = "this RocksDB setting is refused";

    @Override
    public void setConfig(String storeName, Options options, Map<String, Object> configs) {
      throw new IllegalArgumentException(MESSAGE);
    }

    @Override
    public void close(String storeName, Options options) {}
  }
}
