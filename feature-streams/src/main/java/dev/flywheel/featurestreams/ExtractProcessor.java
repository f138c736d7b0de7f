package dev.flywheel.featurestreams;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.avro.generic.GenericRecord;
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
 */
final class ExtractProcessor extends ContextualProcessor<byte[], Decoded, String, Object> {

  private final FeatureGroupPlan plan;
  private final MeterRegistry meters;
  private final List<FeatureGroupPlan.FieldSlot> fields;
  private final List<FeatureFilter> filters;
  private final List<Integer> filterFields;
  private Counter invalid;
  private Counter outOfRange;

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
          + " feature-streams (a NUL character followed by 'flywheel.store-token' or"
          + " 'flywheel.event-time-watermark')";
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
        values[i] = v instanceof Number n ? n.doubleValue() : null;
      } else {
        values[i] = v.toString();
      }
    }
    long bits = 0;
    for (int i = 0; i < filters.size(); i++) {
      FeatureFilter f = filters.get(i);
      int slot = filterFields.get(i);
      Object v = values[slot];
      boolean pass = fields.get(slot).numeric() ? f.test((Double) v) : f.test((String) v);
      if (pass) {
        bits |= 1L << i;
      }
    }
    String key = entity.toString();
    FeatureEvent event = new FeatureEvent(key, eventId, timeMs, values, bits, d.topic(),
        d.partition(), d.offset(), d.rawKey(), d.rawValue());
    context().forward(record.withKey(key).withValue(event));
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
