package dev.flywheel.featurestreams;

import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.RecordOrigin;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.ByteBuffer;
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
 * and purges entities idle longer than the group's purge time in event time: each time the highest
 * event time the task applied (its watermark, kept in the state store under {@link
 * FeatureTopology#WATERMARK_KEY}) crosses a purge boundary, while processing the event that crossed
 * it. Neither record timestamps nor the wall clock nor punctuation play a part, so a replay of the
 * same input, with or without restarts, purges at the same events and writes the same vectors.
 */
final class AggregateProcessor extends ContextualProcessor<String, FeatureEvent, String, Object> {

  /** Decoded entity states kept per task, the least recently updated dropped first. */
  static final int CACHED_ENTITIES = 4096;

  private static final Logger LOG = LoggerFactory.getLogger(AggregateProcessor.class);

  /** Late events, by {@code group} and {@code reason}: {@code grace} or {@code early_seal}. */
  static final String LATE_EVENTS = "flywheel.features.late.events";

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
  private Counter lateBehindSeal;
  private Counter purged;
  /** The group's purge time, {@link Long#MAX_VALUE} when it is never purged. */
  private final long purgeAfterMs;
  /** Distance of the purge boundaries in event time (at its multiples); 0 when never purged. */
  private final long purgeEveryMs;
  /**
   * The highest event time this task applied, as of the last purge boundary it crossed ({@link
   * Long#MIN_VALUE}: none yet), as in the state store under {@link FeatureTopology#WATERMARK_KEY}.
   * Written only when it crosses a boundary, not on every event: whether an event crosses the next
   * one depends only on the boundary interval the highest event time is in, which this value
   * shares with it.
   */
  private long watermark;

  AggregateProcessor(FeatureGroupPlan plan, String stateStoreName, String onlineStoreName,
      MeterRegistry meters) {
    this.plan = plan;
    this.engine = new FeatureEngine(plan);
    this.stateStoreName = stateStoreName;
    this.onlineStoreName = onlineStoreName;
    this.meters = meters;
    this.version = plan.config().version();
    this.stateSerde = new EntityStateSerde(plan);
    this.purgeAfterMs = plan.config().effectivePurgeAfterMs();
    this.purgeEveryMs = purgeAfterMs == Long.MAX_VALUE ? 0 : purgeEveryMs(purgeAfterMs);
  }

  /**
   * The distance of purge boundaries in event time for a purge time of {@code purgeAfterMs}: a
   * tenth of it, between 1 minute and 1 day. The cost of a purge (a scan of the state store) is so
   * paid at most once per such step of the watermark, however many events it takes.
   */
  static long purgeEveryMs(long purgeAfterMs) {
    return Math.min(Duration.ofDays(1).toMillis(),
        Math.max(Duration.ofMinutes(1).toMillis(), purgeAfterMs / 10));
  }

  @Override
  public void init(ProcessorContext<String, Object> context) {
    super.init(context);
    state = context.getStateStore(stateStoreName);
    online = context.getStateStore(onlineStoreName);
    cache.clear();
    rebuildOnlineStoreIfStale();
    byte[] stored = state.get(FeatureTopology.WATERMARK_KEY);
    watermark = stored == null || stored.length != Long.BYTES ? Long.MIN_VALUE
        : ByteBuffer.wrap(stored).getLong();
    late = Counter.builder(LATE_EVENTS)
        .description("Events more than the grace period behind their entity's latest event time,"
            + " sent to the dead-letter topic")
        .tag("group", plan.name()).tag("reason", "grace").register(meters);
    lateBehindSeal = Counter.builder(LATE_EVENTS)
        .description("Events within the grace period but older than events their entity sealed"
            + " early for holding more than maxEventsInGrace, sent to the dead-letter topic")
        .tag("group", plan.name()).tag("reason", "early_seal").register(meters);
    purged = Counter.builder("flywheel.features.purged.entities")
        .description("Entities dropped after being idle longer than the group's purge time")
        .tag("group", plan.name()).register(meters);
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
      boolean behindSeal = engine.isBehindEarlySeal(s, e.timeMs());
      (behindSeal ? lateBehindSeal : late).increment();
      long lag = engine.lagMs(s, e.timeMs());
      String error = behindSeal
          ? "event time " + Instant.ofEpochMilli(e.timeMs()) + " of entity '" + entity
              + "' is within the grace period but before " + Instant.ofEpochMilli(s.sealedUpTo)
              + ", up to which the entity's events were sealed early: it held more than"
              + " maxEventsInGrace " + plan.config().maxEventsInGrace() + " events within the"
              + " grace period of feature group '" + plan.name() + "'; raise maxEventsInGrace"
              + " to apply such events"
          : "event time " + Instant.ofEpochMilli(e.timeMs()) + " of entity '" + entity
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
    advanceWatermark(e.timeMs());
  }

  /**
   * Takes the watermark to {@code eventTimeMs}, the time of an event just applied, when that
   * crosses the next purge boundary, and then purges: the boundaries are the multiples of {@link
   * #purgeEveryMs}, so the purges happen at the same events however the input is split by restarts
   * or commits. The watermark goes into the state store (and its changelog) in the same
   * transaction as the purge.
   */
  private void advanceWatermark(long eventTimeMs) {
    if (purgeEveryMs == 0
        || Math.floorDiv(eventTimeMs, purgeEveryMs) <= Math.floorDiv(watermark, purgeEveryMs)) {
      return;
    }
    watermark = eventTimeMs;
    state.put(FeatureTopology.WATERMARK_KEY,
        ByteBuffer.allocate(Long.BYTES).putLong(watermark).array());
    purge(watermark);
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
        if (!FeatureTopology.isReservedKey(key)) {
          cleared++;
        }
      }
    }
    long rebuilt = 0;
    Instant now = Instant.now();
    try (KeyValueIterator<String, byte[]> it = state.all()) {
      while (it.hasNext()) {
        KeyValue<String, byte[]> kv = it.next();
        if (FeatureTopology.isReservedKey(kv.key)) {
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

  /** Drops every entity whose latest event time is more than the purge time before {@code now}. */
  private void purge(long now) {
    List<String> idle = new ArrayList<>();
    try (KeyValueIterator<String, byte[]> it = state.all()) {
      while (it.hasNext()) {
        KeyValue<String, byte[]> kv = it.next();
        if (FeatureTopology.isReservedKey(kv.key)) {
          continue;
        }
        long latest = kv.value == null ? Long.MIN_VALUE : stateSerde.latestEventTime(kv.value);
        if (latest == Long.MIN_VALUE || now - latest > purgeAfterMs) {
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
