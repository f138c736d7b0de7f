package dev.flywheel.featurestreams;

import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.RecordOrigin;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.ContextualProcessor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies each event of one feature group to its entity's state ({@link FeatureEngine}) and emits
 * the entity's {@link FeatureVector} as of the event; keeps the latest vector per entity in the
 * online store (rebuilt from the state when a task starts without an online store derived from
 * that state); sends events later than the grace period to the dead-letter topic and counts them;
 * and, on stream time, purges entities idle longer than the group's purge time.
 */
final class AggregateProcessor extends ContextualProcessor<String, FeatureEvent, String, Object> {

  /** Decoded entity states kept per task, the least recently updated dropped first. */
  static final int CACHED_ENTITIES = 4096;

  private static final Logger LOG = LoggerFactory.getLogger(AggregateProcessor.class);

  private final FeatureEngine engine;
  private final FeatureGroupPlan plan;
  private final String stateStoreName;
  private final String onlineStoreName;
  private final MeterRegistry meters;
  private final String version;
  private final EntityStateSerde stateSerde;
  /**
   * The decoded state of the entities this task updated last, so that an entity's next event
   * skips reading and decoding it. The store stays the truth: every update is written through to
   * it (and its changelog) as before; the cache only saves reading it back. Emptied whenever the
   * task (re)initialises, as after a fail-over or an exactly-once abort its stores may have been
   * restored to an older state.
   */
  private final StateCache cache = new StateCache(CACHED_ENTITIES);
  private KeyValueStore<String, byte[]> state;
  private KeyValueStore<String, FeatureVector> online;
  private Counter late;
  private Counter purged;

  AggregateProcessor(FeatureGroupPlan plan, String stateStoreName, String onlineStoreName,
      MeterRegistry meters) {
    this.plan = plan;
    this.engine = new FeatureEngine(plan);
    this.stateStoreName = stateStoreName;
    this.onlineStoreName = onlineStoreName;
    this.meters = meters;
    this.version = plan.config().version();
    this.stateSerde = new EntityStateSerde(plan);
  }

  @Override
  public void init(ProcessorContext<String, Object> context) {
    super.init(context);
    state = context.getStateStore(stateStoreName);
    online = context.getStateStore(onlineStoreName);
    cache.clear();
    rebuildOnlineStoreIfStale();
    late = Counter.builder("flywheel.features.late.events")
        .description("Events more than the grace period behind their entity's latest event time,"
            + " sent to the dead-letter topic")
        .tag("group", plan.name()).register(meters);
    purged = Counter.builder("flywheel.features.purged.entities")
        .description("Entities dropped after being idle longer than the group's purge time")
        .tag("group", plan.name()).register(meters);
    long purgeAfter = plan.config().effectivePurgeAfterMs();
    if (purgeAfter != Long.MAX_VALUE) {
      long every = Math.min(Duration.ofDays(1).toMillis(),
          Math.max(Duration.ofMinutes(1).toMillis(), purgeAfter / 10));
      context.schedule(Duration.ofMillis(every), PunctuationType.STREAM_TIME,
          streamTime -> purge(streamTime, purgeAfter));
    }
  }

  @Override
  public void process(Record<String, FeatureEvent> record) {
    FeatureEvent e = record.value();
    String entity = e.entity();
    EntityState s = cache.get(entity);
    if (s == null) {
      byte[] stored = state.get(entity);
      s = stored == null ? null : stateSerde.read(stored);
    }
    if (engine.isLate(s, e.timeMs())) {
      late.increment();
      long lag = engine.lagMs(s, e.timeMs());
      String error = "event time " + Instant.ofEpochMilli(e.timeMs()) + " of entity '" + entity
          + "' is " + Duration.ofMillis(lag) + " behind its latest event time "
          + Instant.ofEpochMilli(s.maxTime) + ", beyond the grace period "
          + Duration.ofMillis(plan.config().graceMs()) + " of feature group '" + plan.name()
          + "'; raise its grace to apply such events";
      context().forward(record.withKey((String) null)
          .withValue(new DeadLetter(e.rawKey(), e.rawValue()))
          .withHeaders(DeadLetter.headers(error, null, context().applicationId(),
              plan.config().source(), e.topic(), e.partition(), e.offset(), record.timestamp())));
      return;
    }
    if (s == null) {
      s = engine.newState();
    }
    cache.remove(entity); // until the update below is in the store
    FeatureEngine.Result result = engine.apply(s, e);
    state.put(entity, stateSerde.write(s));
    cache.put(entity, s);
    Instant now = Instant.now();
    FeatureVector log = vector(entity, e.eventId(), e.timeMs(), result.log(), now,
        new RecordOrigin(e.topic(), e.partition(), e.offset()));
    FeatureVector latest = result.online() == result.log() ? log
        : vector(entity, s.maxEventId, s.maxTime, result.online(), now, null);
    online.put(entity, latest);
    context().forward(new Record<String, Object>(entity, log, e.timeMs(), new RecordHeaders()));
  }

  /**
   * The online store has no changelog: it is derived from the state store, and trusted only when
   * it was derived from this very state. Every initialisation writes a fresh random token under
   * {@link FeatureTopology#STORE_TOKEN_KEY} into both stores (into the state store's changelog
   * too, so a standby or a restore carries it); a task that starts with an online store whose
   * token differs from its state's, or is absent, or was written for another version of the group
   * (a new instance, a fail-over, a task back on an instance that held it before while another one
   * processed it, a state folder wiped after a crash, a changed definition) clears the online
   * store and computes every entity's latest vector again from its state before processing.
   */
  private void rebuildOnlineStoreIfStale() {
    byte[] stateToken = state.get(FeatureTopology.STORE_TOKEN_KEY);
    FeatureVector onlineToken = online.get(FeatureTopology.STORE_TOKEN_KEY);
    boolean fresh = stateToken != null && onlineToken != null
        && new String(stateToken, StandardCharsets.UTF_8).equals(onlineToken.getEventId())
        && version.equals(onlineToken.getFeatureGroupVersion());
    if (!fresh) {
      rebuildOnlineStore();
    }
    String token = UUID.randomUUID().toString();
    state.put(FeatureTopology.STORE_TOKEN_KEY, token.getBytes(StandardCharsets.UTF_8));
    online.put(FeatureTopology.STORE_TOKEN_KEY, vector(FeatureTopology.STORE_TOKEN_KEY, token, 0,
        new Object[0], Instant.now(), null));
  }

  private void rebuildOnlineStore() {
    long cleared = 0;
    try (KeyValueIterator<String, FeatureVector> it = online.all()) {
      while (it.hasNext()) {
        String key = it.next().key;
        online.delete(key);
        if (!FeatureTopology.STORE_TOKEN_KEY.equals(key)) {
          cleared++;
        }
      }
    }
    long rebuilt = 0;
    Instant now = Instant.now();
    try (KeyValueIterator<String, byte[]> it = state.all()) {
      while (it.hasNext()) {
        KeyValue<String, byte[]> kv = it.next();
        if (FeatureTopology.STORE_TOKEN_KEY.equals(kv.key)) {
          continue;
        }
        EntityState s = kv.value == null ? null : stateSerde.read(kv.value);
        if (s == null || !s.seen()) {
          continue;
        }
        Object[] values = engine.evaluate(s, s.maxTime, s.maxSeq);
        online.put(kv.key, vector(kv.key, s.maxEventId, s.maxTime, values, now, null));
        rebuilt++;
      }
    }
    if (rebuilt > 0 || cleared > 0) {
      LOG.info("feature group {}: rebuilt the online store of task {} from its state: {} entities"
          + " ({} stale entries dropped)", plan.name(), context().taskId(), rebuilt, cleared);
    }
  }

  private FeatureVector vector(String entity, String eventId, long timeMs, Object[] values,
      Instant computedAt, RecordOrigin origin) {
    Map<String, Double> numeric = new LinkedHashMap<>();
    Map<String, String> categorical = new LinkedHashMap<>();
    List<FeatureGroupPlan.PlannedFeature> features = plan.features();
    for (int i = 0; i < values.length; i++) {
      String name = features.get(i).name();
      if (features.get(i).categorical()) {
        categorical.put(name, values[i] == null ? null : values[i].toString());
      } else {
        numeric.put(name, (Double) values[i]);
      }
    }
    Instant t = Instant.ofEpochMilli(timeMs);
    return FeatureVector.newBuilder()
        .setEventId(eventId)
        .setEventTime(t)
        .setEntityId(entity)
        .setFeatureGroup(plan.name())
        .setFeatureGroupVersion(version)
        .setFeatures(numeric)
        .setCategoricalFeatures(categorical)
        .setAsOf(t)
        .setComputedAt(computedAt)
        .setSource(origin)
        .build();
  }

  @Override
  public void close() {
    cache.clear();
  }

  /** An access-ordered map of at most {@code capacity} entities, dropping the least recent. */
  private static final class StateCache extends LinkedHashMap<String, EntityState> {
    private static final long serialVersionUID = 1L;
    private final int capacity;

    StateCache(int capacity) {
      super(capacity * 4 / 3 + 1, 0.75f, true);
      this.capacity = capacity;
    }

    @Override
    protected boolean removeEldestEntry(Map.Entry<String, EntityState> eldest) {
      return size() > capacity;
    }
  }

  private void purge(long streamTime, long purgeAfterMs) {
    List<String> idle = new ArrayList<>();
    try (KeyValueIterator<String, byte[]> it = state.all()) {
      while (it.hasNext()) {
        KeyValue<String, byte[]> kv = it.next();
        if (FeatureTopology.STORE_TOKEN_KEY.equals(kv.key)) {
          continue;
        }
        long latest = kv.value == null ? Long.MIN_VALUE : stateSerde.latestEventTime(kv.value);
        if (latest == Long.MIN_VALUE || streamTime - latest > purgeAfterMs) {
          idle.add(kv.key);
        }
      }
    }
    for (String entity : idle) {
      cache.remove(entity);
      state.delete(entity);
      online.delete(entity);
      purged.increment();
    }
  }
}
