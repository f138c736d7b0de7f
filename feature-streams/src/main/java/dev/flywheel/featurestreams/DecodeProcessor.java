package dev.flywheel.featurestreams;

import dev.flywheel.registry.SchemaRegistryException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.streams.processor.api.ContextualProcessor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/**
 * Reads the Avro value of a source record from its bytes; a record that cannot be read (not the
 * Confluent wire format, an unknown schema id, a tombstone) goes on as a {@link DeadLetter}, never
 * stopping the processor. A record that could not be read because the schema registry did not
 * answer is not bad: the exception goes to {@code DeadLetterProcessingHandler}, which fails the
 * stream thread so that the record is read again from the last commit. Nor is a record whose
 * processing failed downstream: that failure goes on to Kafka Streams as it is.
 */
final class DecodeProcessor extends ContextualProcessor<byte[], byte[], byte[], Object> {

  private final String source;
  private final Deserializer<GenericRecord> deserializer;
  private final MeterRegistry meters;
  private Counter unreadable;

  DecodeProcessor(String source, Deserializer<GenericRecord> deserializer, MeterRegistry meters) {
    this.source = source;
    this.deserializer = deserializer;
    this.meters = meters;
  }

  /** The group tag of records no group could read: they are dead letters for every group. */
  static final String ALL_GROUPS = "*";

  @Override
  public void init(ProcessorContext<byte[], Object> context) {
    super.init(context);
    unreadable = Counter.builder("flywheel.features.dead.letters")
        .description("Source records sent to the dead-letter topic by feature-streams")
        .tag("source", source).tag("group", ALL_GROUPS).tag("reason", "unreadable")
        .register(meters);
  }

  @Override
  public void process(Record<byte[], byte[]> record) {
    RecordMetadata meta = context().recordMetadata().orElseThrow();
    String topic = meta.topic();
    GenericRecord value = null;
    String error = null;
    String errorClass = null;
    if (record.value() == null) {
      error = "the record has no value (a tombstone); source topics hold events, not deletions";
    } else {
      try {
        value = deserializer.deserialize(topic, record.headers(), record.value());
      } catch (RuntimeException e) {
        if (SchemaRegistryException.isRetriableCause(e)) {
          throw e; // the registry did not answer, not a bad record: read it again (the handler)
        }
        error = "cannot read the value as Avro in the Confluent wire format: " + e.getMessage()
            + "; produce it with the source's registered schema";
        errorClass = e.getClass().getName();
      }
    }
    if (error == null) {
      // outside the try: what the nodes downstream throw (a processing handler's FAIL, a
      // dead-letter write refused, the task migrated) is not this record being unreadable, and
      // goes on to Kafka Streams as it is
      context().forward(record.withValue(new Decoded(value, record.key(), record.value(), topic,
          meta.partition(), meta.offset(), record.timestamp())));
      return;
    }
    unreadable.increment();
    Headers headers = DeadLetter.headers(error, errorClass, context().applicationId(), source,
        topic, meta.partition(), meta.offset(), record.timestamp());
    context().forward(record
        .withValue(DeadLetter.fitted(record.key(), record.value(), headers, context().appConfigs()))
        .withHeaders(headers));
  }
}
