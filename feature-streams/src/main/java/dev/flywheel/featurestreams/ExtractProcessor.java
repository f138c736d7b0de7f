package dev.flywheel.featurestreams;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Instant;
import java.util.List;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.streams.processor.api.ContextualProcessor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Takes from a source record what one feature group needs ({@link FeatureEvent}): the entity, the
 * event id and time, the fields its features read and its filters' verdicts. A record without an
 * entity or an event time goes on as a {@link DeadLetter} naming the field.
 */
final class ExtractProcessor extends ContextualProcessor<byte[], Decoded, String, Object> {

  private final FeatureGroupPlan plan;
  private final MeterRegistry meters;
  private final List<FeatureGroupPlan.FieldSlot> fields;
  private final List<FeatureFilter> filters;
  private final List<Integer> filterFields;
  private Counter invalid;

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
    } else if (!(time instanceof Long) && !(time instanceof Instant)) {
      problem = "event-time field '" + plan.timeField() + "' is missing, null or not a long";
    }
    if (problem != null) {
      invalid.increment();
      context().forward(record.withKey((String) null)
          .withValue(new DeadLetter(d.rawKey(), d.rawValue()))
          .withHeaders(DeadLetter.headers(problem + "; feature group '" + plan.name()
                  + "' needs it in every record of source '" + plan.config().source() + "'",
              null, context().applicationId(), plan.config().source(), d.topic(), d.partition(),
              d.offset(), d.timestamp())));
      return;
    }
    long timeMs = time instanceof Instant i ? i.toEpochMilli()
        : plan.timeMicros() ? Math.floorDiv((Long) time, 1000L) : (Long) time;
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

  private static Object get(GenericRecord r, String field) {
    return r.hasField(field) ? r.get(field) : null;
  }
}
