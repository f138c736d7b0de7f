package dev.flywheel.featurestreams;

import dev.flywheel.events.FeatureVector;
import dev.flywheel.registry.RegisteredSchema;
import dev.flywheel.registry.SchemaRegistryClient;
import dev.flywheel.registry.SchemaRegistryException;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.AvroSerdeFactory;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * The feature-streams topology: wiring only. Per source: read its topic as bytes, decode the Avro
 * value once, send unreadable records to {@code <topic>.dlq}. Per feature group of that source:
 * extract the group's fields, repartition by entity when the entity is not the topic's key,
 * aggregate in the group's RocksDB state, write one {@link FeatureVector} per event to {@code
 * topics.features()} and the latest vector per entity to the online store {@link
 * #onlineStoreName(String)}; late and invalid records go to the source's dead-letter topic.
 *
 * <pre>{@code
 * Topology topology = FeatureTopology.build(config, topics, serdes);
 * }</pre>
 *
 * <p>Every processor, store and internal topic has a stable name from the constants below.
 */
public final class FeatureTopology {

  /** Source node of a source topic: {@code feature-source-<source>}. */
  public static final String SOURCE_PREFIX = "feature-source-";
  /** Decoding processor of a source: {@code feature-decode-<source>}. */
  public static final String DECODE_PREFIX = "feature-decode-";
  /** Extracting processor of a group: {@code feature-extract-<group>}. */
  public static final String EXTRACT_PREFIX = "feature-extract-";
  /** Repartition by entity of a group: {@code feature-by-entity-<group>}. */
  public static final String REPARTITION_PREFIX = "feature-by-entity-";
  /** Aggregating processor of a group: {@code feature-aggregate-<group>}. */
  public static final String AGGREGATE_PREFIX = "feature-aggregate-";
  /** Sink of a group's vectors to the feature log: {@code feature-log-<group>}. */
  public static final String LOG_SINK_PREFIX = "feature-log-";
  /** Sinks to dead-letter topics: {@code feature-dlq-<step>-<source or group>}. */
  public static final String DLQ_SINK_PREFIX = "feature-dlq-";
  /** Aggregate state store of a group: {@code feature-state-<group>}. */
  public static final String STATE_STORE_PREFIX = "feature-state-";
  /** Online store of a group: {@code feature-online-<group>}. */
  public static final String ONLINE_STORE_PREFIX = "feature-online-";

  /**
   * A reserved key of both stores of a group, never an entity: it holds the token that ties the
   * online store to the state it was derived from (each task initialisation writes a fresh one;
   * see the README, "Online store"). Scans of either store must skip it; a source record whose
   * entity id equals it is dead-lettered.
   */
  public static final String STORE_TOKEN_KEY = "\u0000flywheel.store-token";

  /**
   * A reserved key of the state store of a group, never an entity: it holds the task's event-time
   * watermark for purging, the highest event time it applied as of the last purge boundary it
   * crossed (8 bytes, big-endian; see the README, "Idle entities"). Scans of the state store must
   * skip it; a source record whose entity id equals it is dead-lettered.
   */
  public static final String WATERMARK_KEY = "\u0000flywheel.event-time-watermark";

  /**
   * A reserved key of the state store of a group, never an entity: while a purge pass is in
   * progress, it holds the key the pass examines next (the pass goes on a bounded number of entries
   * per event; see the README, "Idle entities"), absent otherwise. Scans of the state store must
   * skip it; a source record whose entity id equals it is dead-lettered.
   */
  public static final String PURGE_CURSOR_KEY = "\u0000flywheel.purge-cursor";

  private FeatureTopology() {}

  /**
   * Whether {@code key} is one of the stores' reserved keys ({@link #STORE_TOKEN_KEY}, {@link
   * #WATERMARK_KEY}, {@link #PURGE_CURSOR_KEY}), which are never entities.
   */
  public static boolean isReservedKey(String key) {
    return STORE_TOKEN_KEY.equals(key) || WATERMARK_KEY.equals(key)
        || PURGE_CURSOR_KEY.equals(key);
  }

  /**
   * The online store of a group: key the entity id, value its latest {@link FeatureVector}
   * (persistent RocksDB key-value store), queryable with {@code
   * StoreQueryParameters.fromNameAndType(onlineStoreName(group),
   * QueryableStoreTypes.keyValueStore())}.
   */
  public static String onlineStoreName(String group) {
    return ONLINE_STORE_PREFIX + group;
  }

  /** The aggregate state store of a group (entity id → its tiles and recent events). */
  public static String stateStoreName(String group) {
    return STATE_STORE_PREFIX + group;
  }

  /**
   * The changelog topic Kafka Streams keeps the aggregate state store of {@code group} in, for the
   * application {@code applicationId}: {@code <applicationId>-feature-state-<group>-changelog}.
   */
  public static String changelogTopic(String applicationId, String group) {
    return applicationId + "-" + stateStoreName(group) + "-changelog";
  }

  /**
   * The repartition topic Kafka Streams moves the events of {@code group} through when its entity
   * is not its source's key, for the application {@code applicationId}: {@code
   * <applicationId>-feature-by-entity-<group>-repartition}.
   */
  public static String repartitionTopic(String applicationId, String group) {
    return applicationId + "-" + REPARTITION_PREFIX + group + "-repartition";
  }

  /**
   * The topology of every group of {@code config}, checked against the latest schema of each
   * source in the registry of {@code serdes}; metrics go to Micrometer's global registry.
   *
   * @throws InvalidFeatureGroupException when a group names a field its source lacks, an
   *     aggregation the field's type cannot take, or a source with no registered schema
   */
  public static Topology build(FeatureStreamsConfig config, Topics topics, AvroSerdes serdes) {
    return build(config, topics, serdes, Metrics.globalRegistry);
  }

  /** As {@link #build(FeatureStreamsConfig, Topics, AvroSerdes)}, with metrics to {@code meters}. */
  public static Topology build(FeatureStreamsConfig config, Topics topics, AvroSerdes serdes,
      MeterRegistry meters) {
    return build(plans(config, topics, serdes.client()), topics, serdes, meters);
  }

  /**
   * Checks every group against the latest schema registered for its source ({@code
   * flywheel.data.<source>-value}).
   *
   * @throws InvalidFeatureGroupException for the first group that does not fit, or whose source
   *     has no schema
   * @throws IllegalStateException when the registry does not answer, or refuses the call (a
   *     wrong URL or credentials): it says nothing then about the groups
   */
  public static List<FeatureGroupPlan> plans(FeatureStreamsConfig config, Topics topics,
      SchemaRegistryClient registry) {
    List<FeatureGroupPlan> plans = new ArrayList<>();
    for (FeatureGroupConfig group : config.featureGroups()) {
      String subject = topics.data(group.source()).name() + "-value";
      RegisteredSchema latest;
      try {
        latest = registry.getLatest(subject);
      } catch (SchemaRegistryException e) {
        if (e.errorCode() != SchemaRegistryException.SUBJECT_NOT_FOUND) {
          // (a 404 without the registry's "subject not found": a URL that is not a registry)
          throw new IllegalStateException("cannot check feature group '" + group.name()
              + "' against the schema of its source (subject " + subject + "): "
              + e.getMessage() + ". feature-streams reads its sources' schemas when it starts; "
              + (e.isRetriable() ? "start it again once the schema registry answers"
                  : "check the schema registry's URL and credentials (schemaRegistry in"
                      + " flywheel.yaml)"), e);
        }
        throw new InvalidFeatureGroupException(group.name(), List.of("source '" + group.source()
            + "' has no schema under subject " + subject + " (" + e.getMessage() + "); add the"
            + " source first (flywheel sources add " + group.source() + " ...)"));
      }
      plans.add(FeatureGroupPlan.of(group, latest.schema(),
          subject + " v" + latest.version()));
    }
    return plans;
  }

  /** The topology of already checked groups. */
  public static Topology build(List<FeatureGroupPlan> plans, Topics topics,
      AvroSerdeFactory serdes, MeterRegistry meters) {
    Objects.requireNonNull(meters, "meters");
    StreamsBuilder builder = new StreamsBuilder();
    Topic<String, FeatureVector> features = topics.features();
    Map<String, List<FeatureGroupPlan>> bySource = new LinkedHashMap<>();
    for (FeatureGroupPlan plan : plans) {
      bySource.computeIfAbsent(plan.config().source(), s -> new ArrayList<>()).add(plan);
    }
    for (Map.Entry<String, List<FeatureGroupPlan>> entry : bySource.entrySet()) {
      String source = entry.getKey();
      Topic<String, GenericRecord> data = topics.data(source);
      Topic<byte[], byte[]> dlq = topics.dlq(data);
      Serde<GenericRecord> valueSerde = data.valueSerde();

      KStream<byte[], Object> decoded = builder
          .stream(data.name(), Consumed.with(Serdes.ByteArray(), Serdes.ByteArray())
              .withName(SOURCE_PREFIX + source))
          .process(() -> new DecodeProcessor(source, valueSerde.deserializer(), meters),
              Named.as(DECODE_PREFIX + source));
      Map<String, KStream<byte[], Object>> decodedBranches = decoded
          .split(Named.as(DECODE_PREFIX + source + "-"))
          .branch((k, v) -> v instanceof DeadLetter, Branched.as("dead"))
          .defaultBranch(Branched.as("ok"));
      toDeadLetters(decodedBranches.get(DECODE_PREFIX + source + "-dead"), dlq,
          "decode-" + source);
      KStream<byte[], Decoded> records = decodedBranches.get(DECODE_PREFIX + source + "-ok")
          .mapValues(v -> (Decoded) v, Named.as(DECODE_PREFIX + source + "-records"));

      for (FeatureGroupPlan plan : entry.getValue()) {
        String group = plan.name();
        KStream<String, Object> extracted = records.process(
            () -> new ExtractProcessor(plan, meters), Named.as(EXTRACT_PREFIX + group));
        Map<String, KStream<String, Object>> extractBranches = extracted
            .split(Named.as(EXTRACT_PREFIX + group + "-"))
            .branch((k, v) -> v instanceof DeadLetter, Branched.as("dead"))
            .defaultBranch(Branched.as("ok"));
        toDeadLetters(extractBranches.get(EXTRACT_PREFIX + group + "-dead"), dlq,
            "extract-" + group);
        KStream<String, FeatureEvent> events = extractBranches.get(EXTRACT_PREFIX + group + "-ok")
            .mapValues(v -> (FeatureEvent) v, Named.as(EXTRACT_PREFIX + group + "-events"));
        if (!plan.entityKeyIsSourceKey()) {
          events = events.repartition(Repartitioned
              .<String, FeatureEvent>as(REPARTITION_PREFIX + group)
              .withKeySerde(Serdes.String())
              .withValueSerde(new FeatureEventSerde()));
        }
        builder.addStateStore(stateStore(plan));
        builder.addStateStore(onlineStore(group, serdes.specific(FeatureVector.class, false)));
        KStream<String, Object> aggregated = events.process(
            () -> new AggregateProcessor(plan, stateStoreName(group), onlineStoreName(group),
                features.name(), meters),
            Named.as(AGGREGATE_PREFIX + group), stateStoreName(group), onlineStoreName(group));
        Map<String, KStream<String, Object>> outBranches = aggregated
            .split(Named.as(AGGREGATE_PREFIX + group + "-"))
            .branch((k, v) -> v instanceof DeadLetter, Branched.as("late"))
            .defaultBranch(Branched.as("vectors"));
        toDeadLetters(outBranches.get(AGGREGATE_PREFIX + group + "-late"), dlq, "late-" + group);
        outBranches.get(AGGREGATE_PREFIX + group + "-vectors")
            .mapValues(v -> (FeatureVector) v, Named.as(AGGREGATE_PREFIX + group + "-log"))
            .to(features.name(), Produced.with(features.keySerde(), features.valueSerde())
                .withName(LOG_SINK_PREFIX + group));
      }
    }
    return builder.build();
  }

  private static <K> void toDeadLetters(KStream<K, Object> dead, Topic<byte[], byte[]> dlq,
      String step) {
    dead.map((k, v) -> KeyValue.pair(((DeadLetter) v).key(), ((DeadLetter) v).value()),
            Named.as(DLQ_SINK_PREFIX + step + "-bytes"))
        .to(dlq.name(), Produced.with(dlq.keySerde(), dlq.valueSerde())
            .withName(DLQ_SINK_PREFIX + step));
  }

  /** Entity id → its state, encoded by the processor ({@link EntityStateSerde}). */
  private static StoreBuilder<KeyValueStore<String, byte[]>> stateStore(FeatureGroupPlan plan) {
    return Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(stateStoreName(plan.name())),
        Serdes.String(), Serdes.ByteArray());
  }

  /**
   * Entity id → latest vector. No changelog: it is derived from the state store, and rebuilt from
   * it when a task starts with an online store not derived from its current state (see {@link
   * #STORE_TOKEN_KEY}), so each event costs one changelog write fewer.
   */
  private static StoreBuilder<KeyValueStore<String, FeatureVector>> onlineStore(String group,
      Serde<FeatureVector> vectorSerde) {
    return Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(onlineStoreName(group)), Serdes.String(), vectorSerde)
        .withLoggingDisabled();
  }
}
