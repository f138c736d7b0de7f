package dev.flywheel.featurestreams;

import dev.flywheel.events.FeatureVector;
import dev.flywheel.registry.InMemorySchemaRegistryClient;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.streams.StreamsProps;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The production topology ({@link FeatureTopology#build}) and production Streams properties
 * ({@link StreamsProps}) on a {@link TopologyTestDriver}, with an in-memory schema registry that
 * holds the transactions source as ingest registers it (or with the schema a test gives).
 */
final class FeatureDriver implements AutoCloseable {

  /** The application id the driver runs the topology as (its internal topics' prefix). */
  static final String APPLICATION_ID = "feature-test";

  final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
  final AvroSerdes serdes = new AvroSerdes(registry, Map.of());
  final Topics topics = Topics.builder(serdes).build();
  /** The schema of the transactions source, as registered. */
  final Schema schema;
  final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  final TopologyTestDriver driver;
  final TestInputTopic<String, GenericRecord> transactions;
  final TestInputTopic<String, byte[]> rawTransactions;
  final TestOutputTopic<String, FeatureVector> features;
  final TestOutputTopic<byte[], byte[]> deadLetters;

  private final Path stateDir;

  /** A driver with its state in a fresh folder, in memory (/dev/shm) where there is one. */
  FeatureDriver(FeatureStreamsConfig config) {
    this(config, freshStateDir());
  }

  /** A driver whose transactions source has {@code schema} (with its key and time properties). */
  FeatureDriver(FeatureStreamsConfig config, Schema schema) {
    this(config, schema, freshStateDir());
  }

  /**
   * A driver with its state in {@code stateDir}, deleted on close. With exactly-once, the driver
   * checkpoints (and fsyncs) the stores after every record; a RAM-backed folder keeps that cheap.
   */
  FeatureDriver(FeatureStreamsConfig config, Path stateDir) {
    this(config, TransactionSource.schema(), stateDir);
  }

  /**
   * A driver whose Streams properties also hold {@code properties}, as {@link
   * FeatureStreamsService} adds them to the production ones (they win).
   */
  FeatureDriver(FeatureStreamsConfig config, Map<String, Object> properties) {
    this(config, TransactionSource.schema(), freshStateDir(), properties);
  }

  private FeatureDriver(FeatureStreamsConfig config, Schema schema, Path stateDir) {
    this(config, schema, stateDir, Map.of());
  }

  private FeatureDriver(FeatureStreamsConfig config, Schema schema, Path stateDir,
      Map<String, Object> properties) {
    this.schema = schema;
    this.stateDir = stateDir;
    Topic<String, GenericRecord> data = topics.data(TransactionSource.NAME);
    registry.register(data.name() + "-value", schema);
    driver = new TopologyTestDriver(FeatureTopology.build(config, topics, serdes, meters),
        StreamsProps.builder(APPLICATION_ID).bootstrapServers("unused:9092").stateDir(stateDir)
            .overrides(properties).build());
    transactions = driver.createInputTopic(data.name(), Serdes.String().serializer(),
        data.valueSerde().serializer());
    rawTransactions = driver.createInputTopic(data.name(), Serdes.String().serializer(),
        Serdes.ByteArray().serializer());
    Topic<String, FeatureVector> out = topics.features();
    features = driver.createOutputTopic(out.name(), out.keySerde().deserializer(),
        out.valueSerde().deserializer());
    Topic<byte[], byte[]> dlq = topics.dlq(data);
    deadLetters = driver.createOutputTopic(dlq.name(), dlq.keySerde().deserializer(),
        dlq.valueSerde().deserializer());
  }

  /** Pipes one transaction, stamped with its event time as ingest does. */
  void send(TransactionSource.Tx tx) {
    transactions.pipeInput(tx.card(), tx.toRecord(schema), Instant.ofEpochMilli(tx.timeMs()));
  }

  /** Pipes one transaction stamped {@code recordTimestampMs}, whatever its event time. */
  void send(TransactionSource.Tx tx, long recordTimestampMs) {
    transactions.pipeInput(tx.card(), tx.toRecord(schema), Instant.ofEpochMilli(recordTimestampMs));
  }

  void sendAll(List<TransactionSource.Tx> txs) {
    txs.forEach(this::send);
  }

  KeyValueStore<String, FeatureVector> onlineStore(String group) {
    return driver.getKeyValueStore(FeatureTopology.onlineStoreName(group));
  }

  /** The sum of the counters {@code name} of {@code group}, whatever their other tags. */
  double counter(String name, String group) {
    return meters.find(name).tag("group", group).counters().stream()
        .mapToDouble(io.micrometer.core.instrument.Counter::count).sum();
  }

  /** The counter {@code name} of {@code group} with {@code reason}; 0 when there is none. */
  double counter(String name, String group, String reason) {
    var c = meters.find(name).tag("group", group).tag("reason", reason).counter();
    return c == null ? 0 : c.count();
  }

  static Path freshStateDir() {
    try {
      Path shm = Path.of("/dev/shm");
      return Files.isDirectory(shm) && Files.isWritable(shm)
          ? Files.createTempDirectory(shm, "feature-streams-test-")
          : Files.createTempDirectory("feature-streams-test-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    driver.close();
    try (Stream<Path> files = Files.walk(stateDir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
