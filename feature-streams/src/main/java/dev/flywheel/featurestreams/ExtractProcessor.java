package dev.flywheel.featurestreams;

import dev.flywheel.serde.AvroSize;
import dev.flywheel.topics.RecordSize;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.streams.processor.api.ContextualProcessor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Takes from a source record what one feature group needs ({@link FeatureEvent}): the entity, the
 * event id and time, the fields its features read and its filters' verdicts. A record without an
 * entity or an event time goes on as a {@link DeadLetter} naming the field, and so does one whose
 * event time is before 1970 or later than the record's Kafka timestamp plus the group's {@code
 * maxClockSkew} (a producer's clock ahead, or microseconds in a milliseconds field): its vector
 * would carry that time as its timestamp, which brokers refuse beyond {@code
 * log.message.timestamp.after.max.ms}, and it would make its entity's real events late. Judged
 * against the record's timestamp, not the wall clock, so a replay decides the same way.
 *
 * <p>For a group whose entity is not the source's key, the event goes on through a repartition
 * topic, in a record carrying the entity (as its key and in its value), the extracted values and
 * the source record whole (for the dead-letter topic, should the event be refused later): about
 * twice the source record, or more with a long entity id. An event whose record there would be
 * larger than the producer's {@code max.request.size} or the repartition topic's {@code
 * max.message.bytes} ({@link RecordLimits}) goes on as a {@link DeadLetter} instead, saying so: the
 * producer or the broker would refuse it, failing the stream thread on that record again and
 * again.
 */
final class ExtractProcessor extends ContextualProcessor<byte[], Decoded, String, Object> {

  private final FeatureGroupPlan plan;
  private final MeterRegistry meters;
  private final List<FeatureGroupPlan.FieldSlot> fields;
  private final List<FeatureFilter> filters;
  private final List<Integer> filterFields;
  private Counter invalid;
  private Counter outOfRange;
  private Counter oversized;
  /**
   * The most a record of the repartition topic may take: the producer's {@code
   * max.request.size} or the topic's {@code max.message.bytes}, whichever is smaller ({@link
   * RecordLimits}), read from the application's configuration at init.
   */
  private int maxRecordBytes;
  /** What sets {@link #maxRecordBytes}, for the dead-letter reason. */
  private String limitSource;

  ExtractProcessor(FeatureGroupPlan plan, MeterRegistry meters) {
    this.plan = plan;
    this.meters = meters;
    this.fields = plan.fields();
    this.filters = plan.filters();
    this.filterFields = plan.filterFields();
  }

  @Override
  public void init(ProcessorContext<String, Object> context) {
    super.init(context);
    invalid = Counter.builder("flywheel.features.dead.letters")
        .description("Source records sent to the dead-letter topic by feature-streams")
        .tag("source", plan.config().source()).tag("group", plan.name())
        .tag("reason", "invalid").register(meters);
    outOfRange = Counter.builder("flywheel.features.dead.letters")
        .description("Source records sent to the dead-letter topic by feature-streams")
        .tag("source", plan.config().source()).tag("group", plan.name())
        .tag("reason", "event_time_out_of_range").register(meters);
    oversized = Counter.builder(AggregateProcessor.OVERSIZED_EVENTS)
        .description(AggregateProcessor.OVERSIZED_REFUSED_DESCRIPTION)
        .tag("group", plan.name()).tag("outcome", "dead_lettered").register(meters);
    String repartition = FeatureTopology.repartitionTopic(context.applicationId(), plan.name());
    maxRecordBytes = RecordLimits.maxRecordBytes(context.appConfigs(), repartition);
    limitSource = RecordLimits.describe(context.appConfigs(), repartition);
  }

  @Override
  public void process(Record<byte[], Decoded> record) {
    Decoded d = record.value();
    GenericRecord r = d.record();
    Object entity = get(r, plan.entityKeyField());
    Object time = get(r, plan.timeField());
    String problem = null;
    if (entity == null) {
      problem = "entity key field '" + plan.entityKeyField() + "' is missing or null";
    } else if (FeatureTopology.isReservedKey(entity.toString())) {
      problem = "entity key field '" + plan.entityKeyField() + "' holds a value reserved by"
          + " feature-streams (a NUL character followed by 'flywheel.store-token',"
          + " 'flywheel.event-time-watermark' or 'flywheel.purge-cursor')";
    } else if (!(time instanceof Long) && !(time instanceof Instant)) {
      problem = "event-time field '" + plan.timeField() + "' is missing, null or not a long";
    }
    if (problem != null) {
      invalid.increment();
      deadLetter(record, problem + "; feature group '" + plan.name()
          + "' needs it in every record of source '" + plan.config().source() + "'");
      return;
    }
    long timeMs = time instanceof Instant i ? i.toEpochMilli()
        : plan.timeMicros() ? Math.floorDiv((Long) time, 1000L) : (Long) time;
    String timeProblem = checkEventTime(time, timeMs, d.timestamp());
    if (timeProblem != null) {
      outOfRange.increment();
      deadLetter(record, timeProblem);
      return;
    }
    String eventId = null;
    if (plan.eventIdField() != null) {
      Object id = get(r, plan.eventIdField());
      eventId = id == null ? null : id.toString();
    }
    if (eventId == null) {
      eventId = d.topic() + "/" + d.partition() + "/" + d.offset();
    }
    Object[] values = new Object[fields.size()];
    for (int i = 0; i < values.length; i++) {
      FeatureGroupPlan.FieldSlot slot = fields.get(i);
      Object v = get(r, slot.name());
      if (v == null) {
        values[i] = null;
      } else if (slot.numeric()) {
        values[i] = v instanceof Number n ? FeatureEvent.number(n) : null;
      } else {
        values[i] = v.toString();
      }
    }
    long bits = 0;
    for (int i = 0; i < filters.size(); i++) {
      FeatureFilter f = filters.get(i);
      int slot = filterFields.get(i);
      Object v = values[slot];
      boolean pass = fields.get(slot).numeric() ? f.testNumber(v) : f.test((String) v);
      if (pass) {
        bits |= 1L << i;
      }
    }
    String key = entity.toString();
    FeatureEvent event = new FeatureEvent(key, eventId, timeMs, values, bits, d.topic(),
        d.partition(), d.offset(), d.rawKey(), d.rawValue());
    if (!plan.entityKeyIsSourceKey()) {
      String tooLarge = repartitionTooLarge(event, record.headers());
      if (tooLarge != null) {
        oversized.increment();
        deadLetter(record, tooLarge);
        return;
      }
    }
    context().forward(record.withKey(key).withValue(event));
  }

  /** What a record header takes beyond its key and value: the varints of their lengths. */
  private static final int HEADER_FRAMING_BYTES = 10;

  /**
   * Why the record of {@code event} on the group's repartition topic (key the entity, value the
   * event as {@link FeatureEventSerde} writes it, with {@code headers}, the source record's) would
   * be refused by the producer, or null when it fits: a bound counting three bytes a character
   * first, which needs no pass over the text; the exact size only when that bound is too large.
   */
  private String repartitionTooLarge(FeatureEvent event, Headers headers) {
    long headerBytes = 0;
    for (Header h : headers) {
      // with the varints of the key's and the value's lengths (at most 5 bytes each)
      headerBytes += AvroSize.utf8Length(h.key()) + (h.value() == null ? 0 : h.value().length)
          + HEADER_FRAMING_BYTES;
    }
    long bound = 3L * event.entity().length() + headerBytes
        + FeatureEventSerde.size(event, s -> 3L * s.length());
    if (bound <= RecordSize.maxValueBytes(0, maxRecordBytes)) {
      return null;
    }
    int keyBytes = AvroSize.utf8Length(event.entity());
    long bytes = FeatureEventSerde.size(event, AvroSize::utf8Length);
    long limit = RecordSize.maxValueBytes(keyBytes, maxRecordBytes) - headerBytes;
    if (bytes <= limit) {
      return null;
    }
    String field = null;
    long fieldBytes = 0;
    for (int i = 0; i < event.values().length; i++) {
      if (event.values()[i] instanceof String text && AvroSize.utf8Length(text) > fieldBytes) {
        field = fields.get(i).name();
        fieldBytes = AvroSize.utf8Length(text);
      }
    }
    return "event '" + abbreviate(event.eventId()) + "' of entity '"
        + abbreviate(event.entity()) + "' would take a value of " + bytes + " bytes on the"
        + " repartition topic of feature group '" + plan.name() + "' (which moves it to the"
        + " partition of its entity, as entity key field '" + plan.entityKeyField() + "' is not"
        + " the key of source '" + plan.config().source() + "'), more than the " + limit + " a"
        + " value may take there (" + limitSource + ": " + maxRecordBytes + " bytes, less"
        + " the key, the headers and the record's overhead): it carries the source record whole ("
        + (event.rawValue() == null ? 0 : event.rawValue().length) + " bytes), entity key field '"
        + plan.entityKeyField() + "' as the key and in the value (" + keyBytes + " bytes each)"
        + (field == null ? "" : ", and field '" + field + "' (" + fieldBytes + " bytes)")
        + ". Shorten the long text at the source, or raise max.request.size (kafka.properties)"
        + " together with max.message.bytes of the repartition topic";
  }

  /** {@code text} itself when short, else its start and its length (an entity id may be long). */
  private static String abbreviate(String text) {
    if (text.length() <= 80) {
      return text;
    }
    int end = Character.isHighSurrogate(text.charAt(63)) ? 63 : 64;
    return text.substring(0, end) + "... (" + text.length() + " characters)";
  }

  /**
   * Why {@code timeMs} cannot be the event time of a record stamped {@code recordTimestamp}, or
   * null when it can: before 1970, or more than the group's maxClockSkew after the timestamp.
   */
  private String checkEventTime(Object raw, long timeMs, long recordTimestamp) {
    long maxSkewMs = plan.config().maxClockSkewMs();
    String unit = plan.timeMicros() ? "microseconds" : "milliseconds";
    String hint = "; check the producer's clock, and that field '" + plan.timeField()
        + "' holds " + unit + " since 1970-01-01T00:00:00Z";
    if (timeMs < 0) {
      return "event-time field '" + plan.timeField() + "' is " + raw + " ("
          + Instant.ofEpochMilli(timeMs) + "), before 1970" + hint;
    }
    if (recordTimestamp >= 0 && timeMs - recordTimestamp > maxSkewMs) {
      return "event-time field '" + plan.timeField() + "' is " + raw + " ("
          + Instant.ofEpochMilli(timeMs) + "), " + Duration.ofMillis(timeMs - recordTimestamp)
          + " after the record's Kafka timestamp " + recordTimestamp + " ("
          + Instant.ofEpochMilli(recordTimestamp) + "), more than maxClockSkew "
          + Duration.ofMillis(maxSkewMs) + " of feature group '" + plan.name() + "'" + hint
          + (plan.timeMicros() ? "" : " (not microseconds or nanoseconds)")
          + "; raise maxClockSkew only for clocks known to run that far ahead, and not beyond"
          + " the brokers' log.message.timestamp.after.max.ms";
    }
    return null;
  }

  private void deadLetter(Record<byte[], Decoded> record, String error) {
    Decoded d = record.value();
    Headers headers = DeadLetter.headers(error, null, context().applicationId(),
        plan.config().source(), d.topic(), d.partition(), d.offset(), d.timestamp());
    context().forward(record.withKey((String) null)
        .withValue(DeadLetter.fitted(d.rawKey(), d.rawValue(), headers, context().appConfigs()))
        .withHeaders(headers));
  }

  private static Object get(GenericRecord r, String field) {
    return r.hasField(field) ? r.get(field) : null;
  }
}
