package dev.flywheel.streams;

import dev.flywheel.registry.SchemaRegistryException;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a record the processor cannot deserialize (random bytes, an unknown schema id, truncated
 * Avro) to {@code <topic>.dlq} with its original bytes and the reason, then lets the processor
 * carry on. Kafka Streams counts each such record in its {@code dropped-records} metric.
 *
 * <p>A record that could not be read because the schema registry did not answer ({@link
 * SchemaRegistryException#isRetriableCause}: no answer, 429 or 5xx, after the client's own
 * retries) is not bad and is not dead-lettered: the stream thread fails, {@link
 * ReplaceFailedThreads} starts another, and the record is read again from the last commit.
 */
public final class DeadLetterDeserializationHandler implements DeserializationExceptionHandler {

  private static final Logger LOG = LoggerFactory.getLogger(DeadLetterDeserializationHandler.class);

  private DeadLetters deadLetters;

  @Override
  public void configure(Map<String, ?> configs) {
    deadLetters = DeadLetters.from(configs);
  }

  @Override
  public DeserializationHandlerResponse handle(ErrorHandlerContext context,
      ConsumerRecord<byte[], byte[]> record, Exception exception) {
    if (SchemaRegistryException.isRetriableCause(exception)) {
      LOG.warn("Cannot read {}/{}/{} because the schema registry did not answer ({}); failing the"
          + " stream thread so that the record is read again, not dead-lettered", record.topic(),
          record.partition(), record.offset(), DeadLetters.describe(exception));
      return DeserializationHandlerResponse.FAIL;
    }
    LOG.warn("Cannot read {}/{}/{}; sent to {}.dlq: {}", record.topic(), record.partition(),
        record.offset(), record.topic(), DeadLetters.describe(exception));
    deadLetters.send(record.topic(), record.partition(), record.offset(), record.timestamp(),
        record.key(), record.value(), record.headers(), exception);
    return DeserializationHandlerResponse.CONTINUE;
  }
}
