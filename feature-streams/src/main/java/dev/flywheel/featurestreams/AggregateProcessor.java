package dev.flywheel.featurestreams;

import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.RecordOrigin;
import dev.flywheel.serde.AvroSize;
import dev.flywheel.topics.RecordSize;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.common.header.Headers;
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
 * FeatureTopology#WATERMARK_KEY}) crosses a purge boundary, a purge pass over the state store
 * starts, and it goes on a bounded number of store entries per event ({@link
 * #PURGE_ENTRIES_PER_EVENT}) from where the previous event left it (kept in the state store under
 * {@link FeatureTopology#PURGE_CURSOR_KEY}). Neither record timestamps nor the wall clock nor
 * punctuation play a part, so a replay of the same input, with or without restarts, purges at the
 * same events and writes the same vectors.
 */
final class AggregateProcessor extends ContextualProcessor<String, FeatureEvent, String, Object> {

  /** Decoded entity states kept per task (and group), the least recently updated dropped first. */
  static final int CACHED_ENTITIES = 4096;

  /**
   * The most the decoded entity states kept per task (and group) may take, counted as the size of
   * their encoded form (the decoded form takes a small multiple of it on the heap): 4 MiB. Without
   * it the count alone bounds the cache, and {@link #CACHED_ENTITIES} states of up to a Kafka
   * record each (768 KiB for the largest a group may declare) could hold gigabytes per task. At
   * card_activity's 375 bytes per state the count stays the binding limit, as before.
   */
  static final long CACHED_STATE_BYTES = 4L << 20;

  /**
   * The most entries of the state store a purge pass examines while processing one event: 128.
   * Each costs about a microsecond of RocksDB iteration (plus a delete when the entity is idle),
   * so one event's share stays far below the transaction timeout and {@code max.poll.interval.ms}
   * whatever the number of entities; a pass over N entries takes about N / 127 of the task's
   * events (each may add one entity). A task with fewer entries purges within the event that
   * crossed the boundary, as a single scan did.
   */
  static final int PURGE_ENTRIES_PER_EVENT = 128;

  /** The format of the value under {@link FeatureTopology#PURGE_CURSOR_KEY}: not a state's. */
  private static final byte PURGE_CURSOR_FORMAT = 1;

  private static final Logger LOG = LoggerFactory.getLogger(AggregateProcessor.class);

  /** Late events, by {@code group} and {@code reason}: {@code grace} or {@code early_seal}. */
  static final String LATE_EVENTS = "flywheel.features.late.events";

  /**
   * Events after which a record would be larger than a Kafka record may be, by {@code group} and
   * {@code outcome}: {@code sealed} when folding the entity's held events into their tiles made its
   * state fit (its older events are late from then on), {@code dead_lettered} when the event was
   * refused (its vector, or its entity's state even so, would not fit; or, counted by {@link
   * ExtractProcessor}, its record on the group's repartition topic).
   */
  static final String OVERSIZED_EVENTS = "flywheel.features.oversized.events";

  /** The description of {@link #OVERSIZED_EVENTS} {@code {outcome=dead_lettered}}. */
  static final String OVERSIZED_REFUSED_DESCRIPTION = "Events whose feature vector, or whose"
      + " entity's state after them, or whose record on their group's repartition topic, would be"
      + " larger than a Kafka record may be, sent to the dead-letter topic";

  private final FeatureEngine engine;
  private final FeatureGroupPlan plan;
  private final String stateStoreName;
  private final String onlineStoreName;
  private final MeterRegistry meters;
  private final String version;
  private final EntityStateSerde stateSerde;
  /**
   * The decoded state of the entities this task updated last ({@link #CACHED_ENTITIES} of them
   * and {@link #CACHED_STATE_BYTES} of their encoded form at most), so that an entity's next event
   * skips reading and decoding it. The store stays the truth: every update is written through to
   * it (and its changelog) as before; the cache only saves reading it back. Emptied whenever the
   * task (re)initialises, as after a fail-over or an exactly-once abort its stores may have been
   * restored to an older state.
   */
  private final StateCache cache;
  /** The feature log, which the vectors go to. */
  private final String featureLogTopic;
  /**
   * The most a record of the feature log may take: the producer's {@code max.request.size} or the
   * topic's {@code max.message.bytes}, whichever is smaller ({@link RecordLimits}), read from the
   * application's configuration at init.
   */
  private int maxVectorRecordBytes;
  /** What sets {@link #maxVectorRecordBytes}, for the dead-letter reason. */
  private String vectorLimitSource;
  /** As {@link #maxVectorRecordBytes}, for a record of the state store's changelog. */
  private int maxStateRecordBytes;
  /** What sets {@link #maxStateRecordBytes}, for the dead-letter reason. */
  private String stateLimitSource;
  /**
   * A record of the feature log without its ids, origin topic and categorical values, at most: the
   * group's feature names and values, its name and version, times, the origin's partition and
   * offset, the wire format's header and the record's overhead in a batch.
   */
  private final long vectorFixedBytes;
  private KeyValueStore<String, byte[]> state;
  private KeyValueStore<String, FeatureVector> online;
  private Counter late;
  private Counter lateBehindSeal;
  private Counter purged;
  private Counter oversizedSealed;
  private Counter oversizedRefused;
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
  /** The most store entries {@link #purgeStep} examines per event. */
  private final int purgeEntriesPerEvent;
  /**
   * The key the purge pass in progress examines next (a lower bound: keys are examined in the
   * store's order, that of their UTF-8 bytes), or null when no pass is in progress. Kept with
   * {@link #purgeAgain} in the state store under {@link FeatureTopology#PURGE_CURSOR_KEY},
   * written with each step in the same transaction as its deletes, so that a restart or a restore
   * goes on from the same key at the same event.
   */
  private String purgeFrom;
  /**
   * Whether the watermark crossed another boundary since the pass in progress started: the
   * entries the pass already examined were judged against an older watermark, so another pass
   * follows it at once.
   */
  private boolean purgeAgain;
  /** Whether the state store holds {@link FeatureTopology#PURGE_CURSOR_KEY}. */
  private boolean purgeCursorStored;

  AggregateProcessor(FeatureGroupPlan plan, String stateStoreName, String onlineStoreName,
      String featureLogTopic, MeterRegistry meters) {
    this(plan, stateStoreName, onlineStoreName, featureLogTopic, meters, PURGE_ENTRIES_PER_EVENT,
        CACHED_STATE_BYTES);
  }

  /**
   * As the production constructor, with at most {@code purgeEntriesPerEvent} store entries
   * examined by purging per event and decoded states of at most {@code cachedStateBytes} (encoded)
   * cached: for tests, which need many fewer entities or bytes to pass them.
   */
  AggregateProcessor(FeatureGroupPlan plan, String stateStoreName, String onlineStoreName,
      String featureLogTopic, MeterRegistry meters, int purgeEntriesPerEvent,
      long cachedStateBytes) {
    if (purgeEntriesPerEvent < 2) {
      // a pass must outrun the one entity each event may add
      throw new IllegalArgumentException("purgeEntriesPerEvent must be at least 2");
    }
    this.purgeEntriesPerEvent = purgeEntriesPerEvent;
    this.cache = new StateCache(CACHED_ENTITIES, cachedStateBytes);
    this.plan = plan;
    this.engine = new FeatureEngine(plan);
    this.stateStoreName = stateStoreName;
    this.onlineStoreName = onlineStoreName;
    this.featureLogTopic = featureLogTopic;
    this.meters = meters;
    this.version = plan.config().version();
    this.stateSerde = new EntityStateSerde(plan);
    this.purgeAfterMs = plan.config().effectivePurgeAfterMs();
    this.purgeEveryMs = purgeAfterMs == Long.MAX_VALUE ? 0 : purgeEveryMs(purgeAfterMs);
    long fixed = 1024 + 3L * (plan.name().length() + version.length());
    for (FeatureGroupPlan.PlannedFeature f : plan.features()) {
      fixed += 3L * f.name().length() + 16;
    }
    this.vectorFixedBytes = fixed;
  }

  /**
   * The distance of purge boundaries in event time for a purge time of {@code purgeAfterMs}: a
   * tenth of it, between 1 minute and 1 day. A purge pass (a scan of the state store, spread over
   * events) so starts at most once per such step of the watermark, however many events it takes.
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
    maxVectorRecordBytes = RecordLimits.maxRecordBytes(context.appConfigs(), featureLogTopic);
    vectorLimitSource = RecordLimits.describe(context.appConfigs(), featureLogTopic);
    String changelog = FeatureTopology.changelogTopic(context.applicationId(), plan.name());
    maxStateRecordBytes = RecordLimits.maxRecordBytes(context.appConfigs(), changelog);
    stateLimitSource = RecordLimits.describe(context.appConfigs(), changelog);
    rebuildOnlineStoreIfStale();
    byte[] stored = state.get(FeatureTopology.WATERMARK_KEY);
    watermark = stored == null || stored.length != Long.BYTES ? Long.MIN_VALUE
        : ByteBuffer.wrap(stored).getLong();
    readPurgeCursor();
    late = counter(LATE_EVENTS, "reason", "grace", "Events more than the grace period behind"
        + " their entity's latest event time, sent to the dead-letter topic");
    lateBehindSeal = counter(LATE_EVENTS, "reason", "early_seal", "Events within the grace"
        + " period but older than events their entity sealed early for holding more than"
        + " maxEventsInGrace, sent to the dead-letter topic");
    oversizedSealed = counter(OVERSIZED_EVENTS, "outcome", "sealed", "Events after which their"
        + " entity's state fitted a Kafka record only once its held events were folded into their"
        + " tiles");
    oversizedRefused = counter(OVERSIZED_EVENTS, "outcome", "dead_lettered",
        OVERSIZED_REFUSED_DESCRIPTION);
    purged = Counter.builder("flywheel.features.purged.entities")
        .description("Entities dropped after being idle longer than the group's purge time")
        .tag("group", plan.name()).register(meters);
  }

  /** The counter {@code name} of this group with one more tag. */
  private Counter counter(String name, String tag, String value, String description) {
    return Counter.builder(name).description(description).tag("group", plan.name())
        .tag(tag, value).register(meters);
  }

  /**
   * Applies the event of {@code record} (or dead-letters it), then takes the purge pass in
   * progress, if any, one step further: every event does, applied or not, so that a pass ends
   * within a bounded number of the task's events.
   */
  @Override
  public void process(Record<String, FeatureEvent> record) {
    apply(record);
    if (purgeFrom != null) {
      purgeStep();
    }
  }

  private void apply(Record<String, FeatureEvent> record) {
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
              + " grace period of feature group '" + plan.name() + "', or text values too long"
              + " for its state to hold them (then counted in " + OVERSIZED_EVENTS
              + "{outcome=sealed}); raise maxEventsInGrace, or shorten the text, to apply such"
              + " events"
          : "event time " + Instant.ofEpochMilli(e.timeMs()) + " of entity '" + entity
              + "' is " + Duration.ofMillis(lag) + " behind its latest event time "
              + Instant.ofEpochMilli(s.maxTime) + ", beyond the grace period "
              + Duration.ofMillis(plan.config().graceMs()) + " of feature group '" + plan.name()
              + "'; raise its grace to apply such events";
      deadLetter(record, error);
      return;
    }
    if (s == null) {
      s = engine.newState();
    }
    cache.remove(entity); // until the update below is in the store
    FeatureEngine.Result result = engine.apply(s, e);
    Instant now = Instant.now();
    FeatureVector log = vector(entity, e.eventId(), e.timeMs(), result.log(), now,
        new RecordOrigin(e.topic(), e.partition(), e.offset()));
    String tooLarge = vectorTooLarge(log);
    byte[] encoded = null;
    if (tooLarge == null) {
      encoded = stateSerde.write(s);
      int limit = RecordSize.maxValueBytes(AvroSize.utf8Length(entity), maxStateRecordBytes);
      if (encoded.length > limit) {
        int before = encoded.length;
        engine.sealAll(s);
        encoded = stateSerde.write(s);
        if (encoded.length > limit) {
          tooLarge = stateTooLarge(entity, e, before, encoded.length, limit);
        } else {
          oversizedSealed.increment(); // may recur on each event of a long-text entity: DEBUG
          LOG.debug("feature group {}: entity '{}' would take {} bytes with event '{}', more than"
              + " the {} a state record may take; its held events were folded into their tiles"
              + " ({} bytes), so its events older than {} are late from now on", plan.name(),
              entity, before, e.eventId(), limit, encoded.length,
              Instant.ofEpochMilli(s.sealedUpTo));
        }
      }
    }
    if (tooLarge != null) {
      // the store keeps the entity's state as it was before this event, and so does the cache:
      // the entity's next event reads it back from the store
      oversizedRefused.increment();
      deadLetter(record, tooLarge);
      return;
    }
    state.put(entity, encoded);
    cache.put(entity, s, encoded.length);
    FeatureVector latest = result.online() == result.log() ? log
        : vector(entity, s.maxEventId, s.maxTime, result.online(), now, null);
    online.put(entity, latest);
    context().forward(new Record<String, Object>(entity, log, e.timeMs(), new RecordHeaders()));
    advanceWatermark(e.timeMs());
  }

  /** Sends the event of {@code record} to the dead-letter topic, saying {@code error}. */
  private void deadLetter(Record<String, FeatureEvent> record, String error) {
    FeatureEvent e = record.value();
    Headers headers = DeadLetter.headers(error, null, context().applicationId(),
        plan.config().source(), e.topic(), e.partition(), e.offset(), record.timestamp());
    context().forward(record.withKey((String) null)
        .withValue(DeadLetter.fitted(e.rawKey(), e.rawValue(), headers, context().appConfigs()))
        .withHeaders(headers));
  }

  /**
   * Why the feature-log record of {@code vector} would be refused by the producer ({@code
   * max.request.size}) or the broker (the topic's {@code max.message.bytes}), or null when it
   * fits: only long categorical values (the first or last text of a field) can make it so large,
   * so they are all the cheap bound counts; the vector is encoded to measure it only when that
   * bound passes the limit.
   */
  private String vectorTooLarge(FeatureVector vector) {
    // the entity id twice (in the vector and as the record's key), the event id, the origin topic
    long bound = vectorFixedBytes + 3L * (2L * vector.getEntityId().length()
        + vector.getEventId().length()
        + (vector.getSource() == null ? 0 : vector.getSource().getTopic().length()));
    for (String value : vector.getCategoricalFeatures().values()) {
      bound += value == null ? 0 : 3L * value.length();
    }
    if (bound <= maxVectorRecordBytes) {
      return null;
    }
    long bytes = AvroSize.ofWireFormat(vector);
    int limit = RecordSize.maxValueBytes(AvroSize.utf8Length(vector.getEntityId()),
        maxVectorRecordBytes);
    if (bytes <= limit) {
      return null;
    }
    String longest = null;
    int longestBytes = 0;
    for (Map.Entry<String, String> f : vector.getCategoricalFeatures().entrySet()) {
      int b = f.getValue() == null ? 0 : AvroSize.utf8Length(f.getValue());
      if (b > longestBytes) {
        longest = f.getKey();
        longestBytes = b;
      }
    }
    return "the feature vector of event '" + vector.getEventId() + "' of entity '"
        + vector.getEntityId() + "' would take " + bytes + " bytes, more than the "
        + limit + " a record of the feature log may take (" + vectorLimitSource + ", less"
        + " the key and the record's overhead); categorical feature '" + longest
        + "' of feature group '" + plan.name() + "' alone holds " + longestBytes + " bytes of"
        + " text. Shorten that field's values at the source, or drop first/last features of long"
        + " text fields";
  }

  /** The dead-letter reason of an event after which its entity's state would be too large. */
  private String stateTooLarge(String entity, FeatureEvent e, int bytes, int sealedBytes,
      int limit) {
    String field = null;
    int fieldBytes = 0;
    for (int i = 0; i < e.values().length; i++) {
      if (e.values()[i] instanceof String text && AvroSize.utf8Length(text) > fieldBytes) {
        field = plan.fields().get(i).name();
        fieldBytes = AvroSize.utf8Length(text);
      }
    }
    return "the state of entity '" + entity + "' in feature group '" + plan.name() + "' would"
        + " take " + bytes + " bytes with this event (" + sealedBytes + " with its held events"
        + " folded into their tiles), more than the " + limit + " a record of its changelog may"
        + " take"
        + " (" + stateLimitSource + ", less the key and the record's overhead)"
        + (field == null ? "" : "; this event's text field '" + field + "' alone holds "
            + fieldBytes + " bytes")
        + ". Text values are kept whole for distinct counts within the grace period and for"
        + " first/last per tile: shorten them at the source, or drop those features of long"
        + " text fields";
  }

  /**
   * Takes the watermark to {@code eventTimeMs}, the time of an event just applied, when that
   * crosses the next purge boundary, and then starts a purge pass (its first step is taken by the
   * same event), or has the pass in progress followed by another one: the boundaries are the
   * multiples of {@link #purgeEveryMs}, so the passes start at the same events however the input
   * is split by restarts or commits. The watermark goes into the state store (and its changelog)
   * in the same transaction as the pass's first step.
   */
  private void advanceWatermark(long eventTimeMs) {
    if (purgeEveryMs == 0
        || Math.floorDiv(eventTimeMs, purgeEveryMs) <= Math.floorDiv(watermark, purgeEveryMs)) {
      return;
    }
    watermark = eventTimeMs;
    state.put(FeatureTopology.WATERMARK_KEY,
        ByteBuffer.allocate(Long.BYTES).putLong(watermark).array());
    if (purgeFrom == null) {
      purgeFrom = "";
    } else {
      purgeAgain = true;
    }
  }

  /**
   * One step of the purge pass in progress: examines the next {@link #purgeEntriesPerEvent} entries
   * of the state store at most, from {@link #purgeFrom} in key order, and drops every entity among
   * them whose latest event time is more than the purge time before the watermark. Reads only
   * each entry's latest event time; collects at most that many keys, deleted once the iterator is
   * closed. Then records where the next step starts, or, when the store had no more entries, ends
   * the pass (or starts the one {@link #purgeAgain} asks for).
   *
   * <p>Each step depends only on the state store and the watermark, both restored as of the last
   * commit after a crash, and on the event count since then: a replay takes the same steps at the
   * same events. An entity that receives an event before the pass reaches it is judged on that
   * event's time, as it is no longer idle.
   */
  private void purgeStep() {
    List<String> idle = null;
    String last = null;
    int examined = 0;
    try (KeyValueIterator<String, byte[]> it = state.range(purgeFrom, null)) {
      while (examined < purgeEntriesPerEvent && it.hasNext()) {
        KeyValue<String, byte[]> kv = it.next();
        examined++;
        last = kv.key;
        if (FeatureTopology.isReservedKey(kv.key)) {
          continue;
        }
        long latest = kv.value == null ? Long.MIN_VALUE : stateSerde.latestEventTime(kv.value);
        if (latest == Long.MIN_VALUE || watermark - latest > purgeAfterMs) {
          if (idle == null) {
            idle = new ArrayList<>();
          }
          idle.add(kv.key);
        }
      }
    }
    if (idle != null) {
      for (String entity : idle) {
        cache.remove(entity);
        state.delete(entity);
        online.delete(entity);
        purged.increment();
      }
    }
    if (examined == purgeEntriesPerEvent) {
      // the smallest key after the last one examined: its UTF-8 bytes followed by a zero byte
      purgeFrom = last + '\u0000';
    } else if (purgeAgain) {
      purgeFrom = "";
      purgeAgain = false;
    } else {
      purgeFrom = null;
    }
    writePurgeCursor();
  }

  /**
   * Writes {@link #purgeFrom} and {@link #purgeAgain} under {@link
   * FeatureTopology#PURGE_CURSOR_KEY}, or deletes it when no pass is in progress (a pass that ends
   * within the step that started it writes nothing).
   */
  private void writePurgeCursor() {
    if (purgeFrom == null) {
      if (purgeCursorStored) {
        state.delete(FeatureTopology.PURGE_CURSOR_KEY);
        purgeCursorStored = false;
      }
      return;
    }
    byte[] from = purgeFrom.getBytes(StandardCharsets.UTF_8);
    state.put(FeatureTopology.PURGE_CURSOR_KEY, ByteBuffer.allocate(2 + from.length)
        .put(PURGE_CURSOR_FORMAT).put((byte) (purgeAgain ? 1 : 0)).put(from).array());
    purgeCursorStored = true;
  }

  /**
   * Reads the purge pass in progress from the state store, as its last step left it; drops it
   * when the group is no longer purged (its declaration changed) or no watermark goes with it.
   */
  private void readPurgeCursor() {
    byte[] stored = state.get(FeatureTopology.PURGE_CURSOR_KEY);
    purgeCursorStored = stored != null;
    purgeFrom = null;
    purgeAgain = false;
    if (stored != null && stored.length >= 2 && stored[0] == PURGE_CURSOR_FORMAT
        && purgeEveryMs != 0 && watermark != Long.MIN_VALUE) {
      purgeAgain = stored[1] != 0;
      purgeFrom = new String(stored, 2, stored.length - 2, StandardCharsets.UTF_8);
    } else if (stored != null) {
      writePurgeCursor();
    }
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

  /** The entities whose decoded state this task keeps, least recently updated first: for tests. */
  List<String> cachedEntities() {
    return new ArrayList<>(cache.entries.keySet());
  }

  /** The encoded size of the states this task keeps decoded, as the cache counts it: for tests. */
  long cachedStateBytes() {
    return cache.bytes;
  }

  /**
   * Decoded states by entity, access-ordered, each weighed by the size of its encoded form: at
   * most {@code maxEntries} of them and {@code maxBytes} in all, the least recent dropped first. A
   * state larger than {@code maxBytes} on its own is not kept.
   */
  private static final class StateCache {
    /** A decoded state and the size of the encoded form it was written as. */
    private record Entry(EntityState state, int bytes) {}

    private final int maxEntries;
    private final long maxBytes;
    final LinkedHashMap<String, Entry> entries;
    /** The sum of the entries' {@link Entry#bytes}. */
    long bytes;

    StateCache(int maxEntries, long maxBytes) {
      this.maxEntries = maxEntries;
      this.maxBytes = maxBytes;
      this.entries = new LinkedHashMap<>(16, 0.75f, true);
    }

    EntityState get(String entity) {
      Entry e = entries.get(entity);
      return e == null ? null : e.state();
    }

    /** Keeps {@code state}, encoded in {@code encodedBytes}, dropping the least recent to fit. */
    void put(String entity, EntityState state, int encodedBytes) {
      remove(entity);
      if (encodedBytes > maxBytes) {
        return;
      }
      entries.put(entity, new Entry(state, encodedBytes));
      bytes += encodedBytes;
      if (bytes > maxBytes || entries.size() > maxEntries) {
        Iterator<Entry> eldest = entries.values().iterator();
        while (bytes > maxBytes || entries.size() > maxEntries) {
          bytes -= eldest.next().bytes();
          eldest.remove();
        }
      }
    }

    void remove(String entity) {
      Entry e = entries.remove(entity);
      if (e != null) {
        bytes -= e.bytes();
      }
    }

    void clear() {
      entries.clear();
      bytes = 0;
    }
  }
}
