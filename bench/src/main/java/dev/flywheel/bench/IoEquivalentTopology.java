package dev.flywheel.bench;

import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.RecordOrigin;
import dev.flywheel.featurestreams.FeatureGroupConfig;
import dev.flywheel.topics.Topic;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.api.ContextualProcessor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * A job with the Kafka and RocksDB I/O of a feature group per event, but no feature computed: the
 * reference for "computing the features costs no more than the Kafka I/O they need". Per source
 * record it decodes the Avro value, reads the entity's state (from an in-memory cache of the last
 * {@value #CACHED_ENTITIES} entities of the task, as feature-streams' aggregate processor keeps,
 * else from a logged RocksDB store) and writes back a blob of the same size as the group's encoded
 * state, builds a {@link FeatureVector} with the group's feature names (values derived from the
 * event, so that they compress like real ones) and puts it in an unlogged RocksDB store and on the
 * feature log, with the same serdes as {@code FeatureTopology}. What it leaves out is what
 * computing the features costs: extracting fields, lateness, the tiles, windows and sketches,
 * encoding the state, and the purge of idle entities.
 */
final class IoEquivalentTopology {

  static final String STATE_STORE = "bench-io-state";
  static final String ONLINE_STORE = "bench-io-online";
  /** Entities whose state a task keeps in memory, as feature-streams' aggregate processor does. */
  static final int CACHED_ENTITIES = 4096;

  private IoEquivalentTopology() {}

  static Topology build(Topic<String, GenericRecord> data, Topic<String, FeatureVector> features,
      Serde<FeatureVector> onlineSerde, FeatureGroupConfig group, int stateBytes) {
    StreamsBuilder builder = new StreamsBuilder();
    builder.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(STATE_STORE), Serdes.String(), Serdes.ByteArray()));
    builder.addStateStore(Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(ONLINE_STORE), Serdes.String(), onlineSerde)
        .withLoggingDisabled());
    builder.stream(data.name(), Consumed.with(Serdes.String(), data.valueSerde())
            .withName("bench-io-source"))
        .process(() -> new IoProcessor(group, stateBytes), Named.as("bench-io-process"),
            STATE_STORE, ONLINE_STORE)
        .to(features.name(), Produced.with(features.keySerde(), features.valueSerde())
            .withName("bench-io-log"));
    return builder.build();
  }

  private static final class IoProcessor
      extends ContextualProcessor<String, GenericRecord, String, FeatureVector> {

    private final List<String> names;
    private final String groupName;
    private final String version;
    private final int stateBytes;
    private KeyValueStore<String, byte[]> state;
    private KeyValueStore<String, FeatureVector> online;
    private final Map<String, byte[]> cache =
        new LinkedHashMap<>(CACHED_ENTITIES * 4 / 3 + 1, 0.75f, true) {
          private static final long serialVersionUID = 1L;

          @Override
          protected boolean removeEldestEntry(Map.Entry<String, byte[]> eldest) {
            return size() > CACHED_ENTITIES;
          }
        };

    IoProcessor(FeatureGroupConfig group, int stateBytes) {
      this.names = group.featureNames();
      this.groupName = group.name();
      this.version = group.version();
      this.stateBytes = stateBytes;
    }

    @Override
    public void init(ProcessorContext<String, FeatureVector> context) {
      super.init(context);
      state = context.getStateStore(STATE_STORE);
      online = context.getStateStore(ONLINE_STORE);
      cache.clear();
    }

    @Override
    public void process(Record<String, GenericRecord> record) {
      GenericRecord tx = record.value();
      String entity = record.key();
      double amount = ((Number) tx.get("amount")).doubleValue();
      long time = (Long) tx.get("event_time");
      byte[] previous = cache.get(entity);
      if (previous == null) {
        previous = state.get(entity);
      }
      byte[] next = previous == null ? new byte[stateBytes] : Arrays.copyOf(previous, stateBytes);
      next[(int) (time % stateBytes)] ^= (byte) amount;
      state.put(entity, next);
      cache.put(entity, next);
      Map<String, Double> values = new LinkedHashMap<>();
      for (int i = 0; i < names.size(); i++) {
        values.put(names.get(i), amount * (i + 1) + (previous == null ? 0 : previous[i]));
      }
      RecordMetadata meta = context().recordMetadata().orElseThrow();
      FeatureVector vector = FeatureVector.newBuilder()
          .setEventId(tx.get("event_id").toString())
          .setEventTime(Instant.ofEpochMilli(time))
          .setEntityId(entity)
          .setFeatureGroup(groupName)
          .setFeatureGroupVersion(version)
          .setFeatures(values)
          .setCategoricalFeatures(Map.of())
          .setAsOf(Instant.ofEpochMilli(time))
          .setComputedAt(Instant.now())
          .setSource(new RecordOrigin(meta.topic(), meta.partition(), meta.offset()))
          .build();
      online.put(entity, vector);
      context().forward(record.withValue(vector));
    }
  }
}
