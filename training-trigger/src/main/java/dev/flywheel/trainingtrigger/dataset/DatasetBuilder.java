package dev.flywheel.trainingtrigger.dataset;

import dev.flywheel.events.DatasetLineage;
import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.Label;
import dev.flywheel.events.OffsetRange;
import dev.flywheel.registry.SchemaRegistryException;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.Topics;
import dev.flywheel.trainingtrigger.artifact.ArtifactStore;
import dev.flywheel.trainingtrigger.config.ModelSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds a model's dataset from the log: reads {@code flywheel.labels} and then {@code
 * flywheel.features} from their first to their current end offsets (committed records only),
 * joins them by event id ({@link DatasetAssembler}), writes the Avro container ({@link
 * DatasetFile}) and stores it in the artifact store by its SHA-256. The offset ranges read are in
 * the lineage, so replaying them rebuilds the same rows.
 *
 * <p>An attempt's dataset is built once. Its work directory keeps the file and its lineage
 * ({@value #LINEAGE_FILE}, written last), and a later build in the same directory (the attempt
 * run again after a crash or a stop) reads them back instead of reading the log again. The attempt
 * then trains on, and reports, the rows it started with, even though more labels may have arrived
 * since, and a command still running from before the crash keeps reading an unchanged file.
 *
 * <p>Reading the log is bounded by the model's {@code training.executor.timeout}: when the broker
 * has not delivered the records up to the end offsets within it (it went away after they were
 * read), the build fails and the attempt is retried under the model's retry policy.
 *
 * <pre>{@code
 * DatasetBuilder builder = DatasetBuilder.builder()
 *     .kafka(Map.of("bootstrap.servers", "127.0.0.1:9092"))
 *     .topics(topics).store(store).build();
 * Dataset dataset = builder.build(model, workDir);
 * }</pre>
 */
public final class DatasetBuilder {

  private static final Logger log = LoggerFactory.getLogger(DatasetBuilder.class);
  private static final Duration POLL = Duration.ofMillis(500);
  /** The dataset file in an attempt's work directory. */
  static final String DATASET_FILE = "dataset.avro";
  /** Its lineage (Avro single-object encoding), written once the file is stored. */
  static final String LINEAGE_FILE = "dataset.lineage";

  private final Map<String, Object> kafka;
  private final Topics topics;
  private final ArtifactStore store;
  private final Clock clock;

  private DatasetBuilder(Builder b) {
    this.kafka = Map.copyOf(b.kafka);
    this.topics = b.topics;
    this.store = b.store;
    this.clock = b.clock;
  }

  /** A builder; kafka, topics and store are required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Builds, writes and stores the dataset of {@code model}.
   *
   * @param workDir where the dataset file is written before it is stored
   * @throws DatasetException when no rows join or they cannot be split in time, or the broker did
   *     not deliver the records within the model's {@code training.executor.timeout}
   * @throws UncheckedIOException when the file cannot be written or stored
   */
  public Dataset build(ModelSpec model, Path workDir) {
    Path file = workDir.resolve(DATASET_FILE);
    Path lineageFile = workDir.resolve(LINEAGE_FILE);
    Dataset built = builtBefore(model, file, lineageFile);
    if (built != null) {
      return built;
    }
    long cutoff = clock.millis();
    DatasetAssembler assembler = new DatasetAssembler(model.name(), model.featureGroup(),
        model.target(), model.task(), model.features(), cutoff);
    List<OffsetRange> ranges = new ArrayList<>();
    long t0 = System.nanoTime();
    Duration limit = model.training().executor().timeout();
    Topic<String, Label> labels = topics.labels();
    ranges.addAll(readAll(labels.name(), labels.valueSerde().deserializer(), assembler::addLabel,
        t0, limit));
    Topic<String, FeatureVector> features = topics.features();
    ranges.addAll(readAll(features.name(), features.valueSerde().deserializer(),
        assembler::addVector, t0, limit));
    reportUnusable(model, assembler);
    DatasetAssembler.Assembled a = assembler.assemble(model.training().holdoutFraction());
    try {
      Files.createDirectories(workDir);
      DatasetFile.write(a, file);
      ArtifactStore.StoredObject stored = store.put(file);
      DatasetLineage lineage = DatasetLineage.newBuilder().setUri(stored.uri())
          .setSha256(stored.sha256()).setRanges(ranges).setFeatureGroup(model.featureGroup())
          .setFeatureGroupVersion(assembler.featureGroupVersion())
          .setLabelTarget(model.target())
          .setTrainRows(a.train().rows()).setHoldoutRows(a.holdout().rows())
          .setTrainStart(Instant.ofEpochMilli(a.train().startMs()))
          .setTrainEnd(Instant.ofEpochMilli(a.train().endMs()))
          .setHoldoutStart(Instant.ofEpochMilli(a.holdout().startMs()))
          .setHoldoutEnd(Instant.ofEpochMilli(a.holdout().endMs())).build();
      Path tmp = lineageFile.resolveSibling(LINEAGE_FILE + ".tmp");
      ByteBuffer encoded = lineage.toByteBuffer();
      byte[] bytes = new byte[encoded.remaining()];
      encoded.get(bytes);
      Files.write(tmp, bytes);
      Files.move(tmp, lineageFile, StandardCopyOption.REPLACE_EXISTING,
          StandardCopyOption.ATOMIC_MOVE);
      log.info("dataset of {}: {} train + {} holdout rows, {} numeric feature(s), sha256 {} in"
          + " {} ms", model.name(), a.train().rows(), a.holdout().rows(), a.featureNames().size(),
          stored.sha256(), (System.nanoTime() - t0) / 1_000_000);
      return new Dataset(a.featureNames(), a.categoricalNames(), a.train(), a.holdout(), lineage,
          file, stored.created());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write or store the dataset of " + model.name()
          + " in " + workDir + ": " + e.getMessage(), e);
    }
  }

  /** Logs the labels left out of the dataset, naming a few and what to send. */
  private void reportUnusable(ModelSpec model, DatasetAssembler assembler) {
    Map<String, Double> unusable = assembler.unusableLabels();
    if (unusable.isEmpty()) {
      return;
    }
    String examples = unusable.entrySet().stream().limit(5)
        .map(e -> "event " + e.getKey() + ": " + e.getValue())
        .collect(java.util.stream.Collectors.joining(", "));
    log.warn("dataset of {}: {} label(s) of target '{}' left out, as they are not {} ({}{}); send"
        + " a corrected label with the same event id to use the event again", model.name(),
        unusable.size(), model.target(), assembler.usableLabels(), examples,
        unusable.size() > 5 ? ", …" : "");
  }

  /**
   * The dataset an earlier build wrote in this directory, or null when there is none. A file that
   * does not match its lineage's digest (or cannot be read) is built again.
   */
  private Dataset builtBefore(ModelSpec model, Path file, Path lineageFile) {
    if (!Files.exists(lineageFile) || !Files.exists(file)) {
      return null;
    }
    try {
      DatasetLineage lineage = DatasetLineage.fromByteBuffer(
          ByteBuffer.wrap(Files.readAllBytes(lineageFile)));
      String sha256 = sha256(file);
      if (!sha256.equals(lineage.getSha256())) {
        log.warn("dataset of {} in {} has sha256 {}, its lineage says {}; building it again",
            model.name(), file.getParent(), sha256, lineage.getSha256());
        return null;
      }
      // stored before its lineage was written; a no-op unless the store lost it (the file counts
      // as this build's only where the lineage names it)
      ArtifactStore.StoredObject stored = store.put(file);
      boolean created = stored.created() && stored.uri().equals(lineage.getUri());
      DatasetAssembler.Assembled a = DatasetFile.read(file);
      log.info("dataset of {}: reusing the {} train + {} holdout rows this attempt built before,"
          + " sha256 {}", model.name(), a.train().rows(), a.holdout().rows(), lineage.getSha256());
      return new Dataset(a.featureNames(), a.categoricalNames(), a.train(), a.holdout(), lineage,
          file, created);
    } catch (IOException | RuntimeException e) {
      log.warn("dataset of {} in {} cannot be read back ({}); building it again", model.name(),
          file.getParent(), e.toString());
      return null;
    }
  }

  private static String sha256(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      byte[] buffer = new byte[1 << 16];
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        digest.update(buffer, 0, n);
      }
      return HexFormat.of().formatHex(digest.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }

  /**
   * Reads {@code topic} from its first to its current end offsets.
   *
   * @param began when the build began ({@link System#nanoTime()})
   * @param limit how long the build may read the log from {@code began}
   */
  private <V> List<OffsetRange> readAll(String topic, Deserializer<V> values, Consumer<V> sink,
      long began, Duration limit) {
    long limitNanos = limit.compareTo(Duration.ofNanos(Long.MAX_VALUE)) >= 0 ? Long.MAX_VALUE
        : limit.toNanos();
    Map<String, Object> props = new HashMap<>(kafka);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
    props.remove(ConsumerConfig.GROUP_ID_CONFIG);
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props,
        new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
      if (infos == null || infos.isEmpty()) {
        throw new DatasetException("topic " + topic + " does not exist; start the platform's"
            + " topic bootstrap (flywheel up) or create it");
      }
      List<TopicPartition> parts = infos.stream()
          .map(p -> new TopicPartition(topic, p.partition()))
          .sorted(Comparator.comparingInt(TopicPartition::partition)).toList();
      consumer.assign(parts);
      Map<TopicPartition, Long> start = consumer.beginningOffsets(parts);
      Map<TopicPartition, Long> end = consumer.endOffsets(parts);
      consumer.seekToBeginning(parts);
      long skipped = 0;
      while (!caughtUp(consumer, parts, end)) {
        if (System.nanoTime() - began > limitNanos) {
          throw new DatasetException("the broker did not deliver the records of " + topic
              + " up to its end offsets within " + limit + " (the model's"
              + " training.executor.timeout; read so far: " + progress(consumer, parts, end)
              + "); check that the broker is reachable; the attempt fails and is tried again"
              + " under the model's retry policy");
        }
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(POLL)) {
          if (r.offset() >= end.get(new TopicPartition(r.topic(), r.partition()))) {
            continue;
          }
          V v;
          try {
            v = r.value() == null ? null : values.deserialize(r.topic(), r.value());
          } catch (RuntimeException e) {
            if (SchemaRegistryException.isRetriableCause(e)) {
              // a dataset without the records the registry could not answer for would be wrong
              // and look right: the attempt fails, and the retry policy builds it again
              throw new DatasetException("cannot read " + r.topic() + "-" + r.partition() + "@"
                  + r.offset() + " while the schema registry does not answer: " + e.getMessage()
                  + "; the attempt fails and is tried again under the model's retry policy", e);
            }
            skipped++;
            continue;
          }
          if (v != null) {
            sink.accept(v);
          }
        }
      }
      if (skipped > 0) {
        log.warn("{}: skipped {} unreadable record(s) while building a dataset", topic, skipped);
      }
      return parts.stream().map(tp -> OffsetRange.newBuilder().setTopic(topic)
          .setPartition(tp.partition()).setStartOffset(start.get(tp))
          .setEndOffset(end.get(tp)).build()).toList();
    }
  }

  /** Each partition's position and end offset, e.g. {@code 0: 12/40, 1: 40/40}. */
  private static String progress(KafkaConsumer<?, ?> c, List<TopicPartition> parts,
      Map<TopicPartition, Long> end) {
    StringBuilder s = new StringBuilder();
    for (TopicPartition tp : parts) {
      String at;
      try {
        at = Long.toString(c.position(tp, Duration.ZERO));
      } catch (RuntimeException e) {
        at = "?";
      }
      s.append(s.isEmpty() ? "" : ", ").append("partition ").append(tp.partition()).append(" at ")
          .append(at).append(" of ").append(end.get(tp));
    }
    return s.toString();
  }

  private static boolean caughtUp(KafkaConsumer<?, ?> c, List<TopicPartition> parts,
      Map<TopicPartition, Long> end) {
    for (TopicPartition tp : parts) {
      if (c.position(tp) < end.get(tp)) {
        return false;
      }
    }
    return true;
  }

  /** Builds a {@link DatasetBuilder}. */
  public static final class Builder {
    private Map<String, Object> kafka;
    private Topics topics;
    private ArtifactStore store;
    private Clock clock = Clock.systemUTC();

    /** Kafka consumer properties; {@code bootstrap.servers} at least. Required. */
    public Builder kafka(Map<String, ?> kafka) {
      this.kafka = new HashMap<>(Objects.requireNonNull(kafka, "kafka"));
      return this;
    }

    /** The topic catalogue. Required. */
    public Builder topics(Topics topics) {
      this.topics = Objects.requireNonNull(topics, "topics");
      return this;
    }

    /** Where datasets are stored. Required. */
    public Builder store(ArtifactStore store) {
      this.store = Objects.requireNonNull(store, "store");
      return this;
    }

    /** The clock of the label cutoff; the system clock by default. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** @throws IllegalStateException when kafka, topics or store is missing */
    public DatasetBuilder build() {
      if (kafka == null || topics == null || store == null) {
        throw new IllegalStateException("DatasetBuilder needs kafka, topics and store");
      }
      return new DatasetBuilder(this);
    }
  }
}
