package dev.flywheel.driftdetector.topology;

import dev.flywheel.driftdetector.config.DriftDetectorConfig;
import dev.flywheel.driftdetector.metrics.DriftMetrics;
import dev.flywheel.events.DriftAlert;
import dev.flywheel.events.DriftReport;
import dev.flywheel.events.Label;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.Prediction;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.streams.StreamsProps;
import dev.flywheel.topics.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.errors.LogAndFailExceptionHandler;
import org.apache.kafka.streams.errors.LogAndFailProcessingExceptionHandler;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/** The production topology in a {@link TopologyTestDriver}, with typed topics. */
final class DriftDriver implements AutoCloseable {

  final Topics topics;
  final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  final TopologyTestDriver driver;
  final TestInputTopic<String, Prediction> predictions;
  final TestInputTopic<String, Label> labels;
  final TestInputTopic<String, ModelPromoted> promoted;
  final TestOutputTopic<String, DriftReport> reports;
  final TestOutputTopic<String, DriftAlert> alerts;
  final TestOutputTopic<byte[], byte[]> predictionsDlq;

  DriftDriver(DriftDetectorConfig config, Path stateDir) {
    this(config, stateDir, Materialized.StoreType.IN_MEMORY);
  }

  /** The same with stores of {@code storeType} (RocksDB for the few tests that pipe little). */
  DriftDriver(DriftDetectorConfig config, Path stateDir, Materialized.StoreType storeType) {
    this(config, stateDir, storeType, Map.of());
  }

  /** The same with these Streams or client properties (e.g. the producer's max.request.size). */
  DriftDriver(DriftDetectorConfig config, Path stateDir, Materialized.StoreType storeType,
      Map<String, Object> properties) {
    AvroSerdes serdes = AvroSerdes.fromConfig(
        Map.of("schema.registry.url", "mock://" + UUID.randomUUID()));
    topics = Topics.builder(serdes).build();
    Map<String, Object> overrides = new HashMap<>(properties);
    // No broker under the test driver: a bad record fails the test instead of going to a DLQ.
    overrides.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG,
        LogAndFailProcessingExceptionHandler.class);
    overrides.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
        LogAndFailExceptionHandler.class);
    Properties props = StreamsProps.builder(config.applicationId())
        .bootstrapServers("unused:9092")
        .stateDir(stateDir)
        .overrides(overrides)
        .build();
    driver = new TopologyTestDriver(
        // In-memory stores: the driver commits, flushing every store, after each record, and
        // these tests pipe 100,000s of records (DriftDetectorIT runs RocksDB on a broker).
        DriftTopology.build(config, topics, serdes, new DriftMetrics(meters), storeType),
        props);
    predictions = driver.createInputTopic(topics.predictions().name(),
        topics.predictions().keySerde().serializer(),
        topics.predictions().valueSerde().serializer());
    labels = driver.createInputTopic(topics.labels().name(),
        topics.labels().keySerde().serializer(), topics.labels().valueSerde().serializer());
    promoted = driver.createInputTopic(topics.modelPromoted().name(),
        topics.modelPromoted().keySerde().serializer(),
        topics.modelPromoted().valueSerde().serializer());
    reports = driver.createOutputTopic(topics.driftReports().name(),
        topics.driftReports().keySerde().deserializer(),
        topics.driftReports().valueSerde().deserializer());
    alerts = driver.createOutputTopic(topics.driftAlerts().name(),
        topics.driftAlerts().keySerde().deserializer(),
        topics.driftAlerts().valueSerde().deserializer());
    predictionsDlq = driver.createOutputTopic(topics.dlq(topics.predictions()).name(),
        new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  /** The keys of {@link DriftTopology#HELD_STORE} that hold a prediction (not a model's index). */
  List<String> heldKeys() {
    KeyValueStore<String, byte[]> store = driver.getKeyValueStore(DriftTopology.HELD_STORE);
    List<String> keys = new ArrayList<>();
    try (KeyValueIterator<String, byte[]> it = store.all()) {
      it.forEachRemaining(e -> {
        if (e.key.contains("\u0000p")) {
          keys.add(e.key);
        }
      });
    }
    return keys;
  }

  void promote(ModelPromoted m) {
    promoted.pipeInput(m.getModel(), m, m.getEventTime());
  }

  void predict(Prediction p) {
    predictions.pipeInput(p.getEntityId(), p, p.getEventTime());
  }

  void label(Label l) {
    labels.pipeInput(l.getEventId(), l, l.getEventTime());
  }

  @Override
  public void close() {
    driver.close();
  }
}
