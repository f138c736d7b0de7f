package dev.flywheel.topics;

import dev.flywheel.events.DriftAlert;
import dev.flywheel.events.DriftReport;
import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.Label;
import dev.flywheel.events.ModelEvent;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.ModelRegistryState;
import dev.flywheel.events.Prediction;
import dev.flywheel.events.RegistryCommand;
import dev.flywheel.events.TrainingRequested;
import dev.flywheel.events.TrainingRun;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * The catalogue of every Flywheel topic: its name, serdes, partitions, replication factor and
 * configs. Topic names come from here and nowhere else.
 *
 * <p>Names are {@code flywheel.<name>}, preceded by {@code <prefix>.} when a prefix is set, so
 * that several tenants can share a cluster ({@code acme.flywheel.predictions}). Keys are strings
 * (entity id, event id, model name or run id, as each topic's method says); values are the
 * generated Avro classes of {@code dev.flywheel.events} in the Confluent wire format, through the
 * {@link AvroSerdeFactory} given to the builder.
 *
 * <pre>{@code
 * Topics topics = Topics.builder(serdeFactory).prefix("acme").partitions(6).build();
 * Topic<String, Prediction> predictions = topics.predictions(); // acme.flywheel.predictions
 * }</pre>
 *
 * <p>Every topic uses {@code cleanup.policy=delete} with an explicit {@code retention.ms}, except
 * the registry state, which is compacted. Retention follows what each topic is for:
 *
 * <ul>
 *   <li>{@link #RAW_RETENTION} (7 days) for source data, which only feeds the feature log;
 *   <li>{@link Builder#trainingDataRetention(Duration) training-data retention} (default {@link
 *       #DEFAULT_TRAINING_DATA_RETENTION}, 365 days) for features and labels, from which datasets
 *       are built;
 *   <li>{@link #OPERATIONAL_RETENTION} (30 days) for training requests, predictions, drift reports
 *       and dead-letter topics;
 *   <li>infinite for the small topics that are history: training runs, registry commands, model
 *       events (the audit log), promotions (serving replays them on start to find the current
 *       versions) and drift alerts (training lineage refers to them).
 * </ul>
 *
 * <p>Instances are immutable and thread-safe. The fixed topics and their serdes are created once,
 * at {@link Builder#build()}; {@link #data(String)} and the {@code dlq} methods make a new {@link
 * Topic} on each call.
 */
public final class Topics {

  /** The first element of every Flywheel topic name after the prefix. */
  public static final String PLATFORM = "flywheel";

  /** Suffix of a dead-letter topic: {@code <topic>.dlq}. */
  public static final String DLQ_SUFFIX = ".dlq";

  /** Partitions of every topic unless {@link Builder#partitions(int)} says otherwise. */
  public static final int DEFAULT_PARTITIONS = 3;

  /**
   * Replication factor of every topic unless {@link Builder#replicationFactor(short)} says
   * otherwise: 1 suits the single embedded broker; use 3 on a production cluster.
   */
  public static final short DEFAULT_REPLICATION_FACTOR = 1;

  /** Retention of source data topics. */
  public static final Duration RAW_RETENTION = Duration.ofDays(7);

  /** Retention of operational topics: requests, predictions, drift reports, dead letters. */
  public static final Duration OPERATIONAL_RETENTION = Duration.ofDays(30);

  /** Default retention of the feature log and the labels, from which datasets are built. */
  public static final Duration DEFAULT_TRAINING_DATA_RETENTION = Duration.ofDays(365);

  private final String prefix;
  private final int partitions;
  private final short replicationFactor;
  private final boolean replicationFactorGiven;
  private final Duration trainingDataRetention;
  private final AvroSerdeFactory serdes;

  private final Topic<String, Label> labels;
  private final Topic<String, FeatureVector> features;
  private final Topic<String, TrainingRequested> trainingRequests;
  private final Topic<String, TrainingRun> trainingRuns;
  private final Topic<String, RegistryCommand> registryCommands;
  private final Topic<String, ModelRegistryState> registryState;
  private final Topic<String, ModelEvent> modelEvents;
  private final Topic<String, ModelPromoted> modelPromoted;
  private final Topic<String, Prediction> predictions;
  private final Topic<String, DriftReport> driftReports;
  private final Topic<String, DriftAlert> driftAlerts;
  private final Topic<byte[], byte[]> cdcOffsets;
  private final List<Topic<?, ?>> all;

  private Topics(Builder builder) {
    this.prefix = builder.prefix;
    this.partitions = builder.partitions;
    this.replicationFactor = builder.replicationFactor;
    this.replicationFactorGiven = builder.replicationFactorGiven;
    this.trainingDataRetention = builder.trainingDataRetention;
    this.serdes = builder.serdes;

    Map<String, String> trainingData = deleteAfter(trainingDataRetention);
    Map<String, String> operational = deleteAfter(OPERATIONAL_RETENTION);
    Map<String, String> forever = deleteNever();

    labels = avro("labels", Label.class, trainingData);
    features = avro("features", FeatureVector.class, trainingData);
    trainingRequests = avro("training.requests", TrainingRequested.class, operational);
    trainingRuns = avro("training.runs", TrainingRun.class, forever);
    registryCommands = avro("registry.commands", RegistryCommand.class, forever);
    registryState = avro("registry.state", ModelRegistryState.class, compact());
    modelEvents = avro("model.events", ModelEvent.class, forever);
    modelPromoted = avro("model.promoted", ModelPromoted.class, forever);
    predictions = avro("predictions", Prediction.class, operational);
    driftReports = avro("drift.reports", DriftReport.class, operational);
    driftAlerts = avro("drift.alerts", DriftAlert.class, forever);
    cdcOffsets = bytes(qualify("ingest.cdc.offsets"), compact());
    all =
        List.of(
            labels,
            features,
            trainingRequests,
            trainingRuns,
            registryCommands,
            registryState,
            modelEvents,
            modelPromoted,
            predictions,
            driftReports,
            driftAlerts,
            cdcOffsets);
  }

  /**
   * Starts a catalogue.
   *
   * @param serdes makes the Avro serdes of the topics' values; required
   * @throws NullPointerException if {@code serdes} is null
   */
  public static Builder builder(AvroSerdeFactory serdes) {
    return new Builder(serdes);
  }

  /** The name prefix, without the separating dot; empty when names are not prefixed. */
  public String prefix() {
    return prefix;
  }

  /** The serdes of the catalogue's Avro topics. */
  public AvroSerdeFactory serdes() {
    return serdes;
  }

  /** Partitions every topic is created with. */
  public int partitions() {
    return partitions;
  }

  /** Replication factor every topic is created with. */
  public short replicationFactor() {
    return replicationFactor;
  }

  /**
   * The replication factor this catalogue was given ({@link Builder#replicationFactor(short)}),
   * or empty when it uses {@link #DEFAULT_REPLICATION_FACTOR} for want of one. Processors give
   * their changelog, repartition and dead-letter topics a factor only when one was given, and
   * otherwise leave them to the broker's {@code default.replication.factor}.
   */
  public java.util.Optional<Short> givenReplicationFactor() {
    return replicationFactorGiven ? java.util.Optional.of(replicationFactor)
        : java.util.Optional.empty();
  }

  /** Retention of the feature log and the labels. */
  public Duration trainingDataRetention() {
    return trainingDataRetention;
  }

  /**
   * {@code flywheel.data.<source>}: the records of one ingest source, keyed by entity id, with the
   * source's own registered Avro schema (hence generic records). Returns a new {@link Topic}, with
   * a new value serde, on every call.
   *
   * @param source the source name, e.g. {@code transactions}; ASCII letters, digits, '.', '_' and
   *     '-'
   * @throws IllegalArgumentException if {@code source} is empty, makes an illegal or too long topic
   *     name, or ends with {@link #DLQ_SUFFIX}
   */
  public Topic<String, GenericRecord> data(String source) {
    Objects.requireNonNull(source, "source");
    if (source.isEmpty()) {
      throw new IllegalArgumentException("source name is empty");
    }
    for (int i = 0; i < source.length(); i++) {
      if (!Topic.legal(source.charAt(i))) {
        throw new IllegalArgumentException(
            "source name '" + source + "' contains '" + source.charAt(i) + "' at index " + i
                + "; use only ASCII letters, digits, '.', '_' and '-'");
      }
    }
    if (source.startsWith(".") || source.endsWith(".")) {
      throw new IllegalArgumentException(
          "source name '" + source + "' cannot start or end with '.'");
    }
    if (source.endsWith(DLQ_SUFFIX)) {
      throw new IllegalArgumentException(
          "source name '" + source + "' ends with '" + DLQ_SUFFIX
              + "', which is reserved for dead-letter topics; choose another name");
    }
    return new Topic<>(
        qualify("data." + source),
        Serdes.String(),
        serdes.generic(false),
        partitions,
        replicationFactor,
        deleteAfter(RAW_RETENTION));
  }

  /** {@code flywheel.labels}: observed outcomes, keyed by the labelled event's id. */
  public Topic<String, Label> labels() {
    return labels;
  }

  /** {@code flywheel.features}: the point-in-time feature log, keyed by entity id. */
  public Topic<String, FeatureVector> features() {
    return features;
  }

  /** {@code flywheel.training.requests}: reasons to train, keyed by model name. */
  public Topic<String, TrainingRequested> trainingRequests() {
    return trainingRequests;
  }

  /** {@code flywheel.training.runs}: training run progress and results, keyed by run id. */
  public Topic<String, TrainingRun> trainingRuns() {
    return trainingRuns;
  }

  /** {@code flywheel.registry.commands}: requests to change the registry, keyed by model name. */
  public Topic<String, RegistryCommand> registryCommands() {
    return registryCommands;
  }

  /**
   * {@code flywheel.registry.state}: the compacted current registry state of each model, keyed by
   * model name; a tombstone deletes a model.
   */
  public Topic<String, ModelRegistryState> registryState() {
    return registryState;
  }

  /** {@code flywheel.model.events}: the registry's audit log, keyed by model name, kept forever. */
  public Topic<String, ModelEvent> modelEvents() {
    return modelEvents;
  }

  /** {@code flywheel.model.promoted}: promotion alias moves, keyed by model name, kept forever. */
  public Topic<String, ModelPromoted> modelPromoted() {
    return modelPromoted;
  }

  /** {@code flywheel.predictions}: one record per score, keyed by entity id. */
  public Topic<String, Prediction> predictions() {
    return predictions;
  }

  /** {@code flywheel.drift.reports}: drift statistics per closed window, keyed by model name. */
  public Topic<String, DriftReport> driftReports() {
    return driftReports;
  }

  /** {@code flywheel.drift.alerts}: fired drift policies with evidence, keyed by model name. */
  public Topic<String, DriftAlert> driftAlerts() {
    return driftAlerts;
  }

  /**
   * {@code flywheel.ingest.cdc.offsets}: the compacted offset storage of ingest's embedded Debezium
   * engine (Kafka Connect's own JSON keys and values, hence bytes), so that change data capture
   * resumes where it stopped.
   */
  public Topic<byte[], byte[]> cdcOffsets() {
    return cdcOffsets;
  }

  /**
   * The dead-letter topic of {@code topic}: {@code <topic name>.dlq}, with the original key and
   * value bytes. Error details travel in the headers named by {@link DeadLetterHeaders}.
   *
   * @throws IllegalArgumentException if {@code topic} is itself a dead-letter topic or the name
   *     would be too long
   */
  public Topic<byte[], byte[]> dlq(Topic<?, ?> topic) {
    Objects.requireNonNull(topic, "topic");
    return dlq(topic.name());
  }

  /**
   * The dead-letter topic of the topic named {@code topicName}: {@code <topicName>.dlq}, with the
   * original key and value bytes. {@code topicName} is a full name as Kafka knows it (a record's
   * {@code topic()}); it is not prefixed again.
   *
   * @throws IllegalArgumentException if {@code topicName} is not a legal topic name, is itself a
   *     dead-letter topic, or the name would be too long
   */
  public Topic<byte[], byte[]> dlq(String topicName) {
    Topic.checkName(topicName);
    if (isDlq(topicName)) {
      throw new IllegalArgumentException(
          "'" + topicName + "' is already a dead-letter topic; records that fail there are for"
              + " an operator, not for another dead-letter topic");
    }
    return bytes(topicName + DLQ_SUFFIX, deleteAfter(OPERATIONAL_RETENTION));
  }

  /** Whether {@code topicName} names a dead-letter topic. */
  public static boolean isDlq(String topicName) {
    return topicName.endsWith(DLQ_SUFFIX);
  }

  /**
   * Every fixed topic of the catalogue, in a stable order: all but the per-source data topics and
   * the dead-letter topics, which exist per source and per topic.
   */
  public List<Topic<?, ?>> all() {
    return all;
  }

  @Override
  public String toString() {
    return "Topics[prefix='" + prefix + "', partitions=" + partitions + ", replicationFactor="
        + replicationFactor + "]";
  }

  private <V extends SpecificRecord> Topic<String, V> avro(
      String name, Class<V> type, Map<String, String> configs) {
    return new Topic<>(
        qualify(name),
        Serdes.String(),
        serdes.specific(type, false),
        partitions,
        replicationFactor,
        configs);
  }

  private Topic<byte[], byte[]> bytes(String fullName, Map<String, String> configs) {
    return new Topic<>(
        fullName, Serdes.ByteArray(), Serdes.ByteArray(), partitions, replicationFactor, configs);
  }

  private String qualify(String name) {
    String platformName = PLATFORM + "." + name;
    return prefix.isEmpty() ? platformName : prefix + "." + platformName;
  }

  private static Map<String, String> deleteAfter(Duration retention) {
    return Map.of(
        TopicConfigs.CLEANUP_POLICY, TopicConfigs.DELETE,
        TopicConfigs.RETENTION_MS, TopicConfigs.retentionMs(retention));
  }

  private static Map<String, String> deleteNever() {
    return Map.of(
        TopicConfigs.CLEANUP_POLICY, TopicConfigs.DELETE,
        TopicConfigs.RETENTION_MS, TopicConfigs.INFINITE);
  }

  private static Map<String, String> compact() {
    return Map.of(TopicConfigs.CLEANUP_POLICY, TopicConfigs.COMPACT);
  }

  /**
   * Builds a {@link Topics}. Only the serde factory is required; everything else has a default.
   */
  public static final class Builder {

    private final AvroSerdeFactory serdes;
    private String prefix = "";
    private int partitions = DEFAULT_PARTITIONS;
    private short replicationFactor = DEFAULT_REPLICATION_FACTOR;
    private boolean replicationFactorGiven;
    private Duration trainingDataRetention = DEFAULT_TRAINING_DATA_RETENTION;

    private Builder(AvroSerdeFactory serdes) {
      this.serdes = Objects.requireNonNull(serdes, "serdes");
    }

    /**
     * Prefixes every topic name with {@code prefix} and a dot: {@code acme} gives {@code
     * acme.flywheel.predictions}. Empty (the default) means no prefix.
     *
     * @param prefix ASCII letters, digits, '.', '_' and '-', not starting or ending with '.'
     * @throws IllegalArgumentException if the prefix has other characters or starts or ends with
     *     '.'
     */
    public Builder prefix(String prefix) {
      Objects.requireNonNull(prefix, "prefix");
      for (int i = 0; i < prefix.length(); i++) {
        if (!Topic.legal(prefix.charAt(i))) {
          throw new IllegalArgumentException(
              "topic prefix '" + prefix + "' contains '" + prefix.charAt(i) + "' at index " + i
                  + "; use only ASCII letters, digits, '.', '_' and '-'");
        }
      }
      if (prefix.startsWith(".") || prefix.endsWith(".")) {
        throw new IllegalArgumentException(
            "topic prefix '" + prefix + "' cannot start or end with '.'; the catalogue adds the"
                + " separating dot itself (prefix 'acme' gives 'acme.flywheel.predictions')");
      }
      this.prefix = prefix;
      return this;
    }

    /**
     * Partitions of every topic (default {@value Topics#DEFAULT_PARTITIONS}): the most instances
     * of one processor that can share the work.
     *
     * @throws IllegalArgumentException if {@code partitions} is below 1
     */
    public Builder partitions(int partitions) {
      if (partitions < 1) {
        throw new IllegalArgumentException("partitions must be at least 1, got " + partitions);
      }
      this.partitions = partitions;
      return this;
    }

    /**
     * Replication factor of every topic (default {@value Topics#DEFAULT_REPLICATION_FACTOR}); at
     * most the number of brokers.
     *
     * @throws IllegalArgumentException if {@code replicationFactor} is below 1
     */
    public Builder replicationFactor(short replicationFactor) {
      if (replicationFactor < 1) {
        throw new IllegalArgumentException(
            "replication factor must be at least 1, got " + replicationFactor);
      }
      this.replicationFactor = replicationFactor;
      this.replicationFactorGiven = true;
      return this;
    }

    /**
     * Retention of the feature log and the labels, from which datasets are built (default 365
     * days). How far back a training set can reach.
     *
     * @throws IllegalArgumentException if {@code retention} is not at least one millisecond
     */
    public Builder trainingDataRetention(Duration retention) {
      Objects.requireNonNull(retention, "retention");
      if (retention.toMillis() < 1) {
        throw new IllegalArgumentException(
            "training data retention must be at least 1 ms, got " + retention);
      }
      this.trainingDataRetention = retention;
      return this;
    }

    /**
     * Creates the catalogue and the serdes of its fixed topics.
     *
     * @throws IllegalArgumentException if the prefix makes a topic name longer than Kafka allows
     */
    public Topics build() {
      return new Topics(this);
    }
  }
}
