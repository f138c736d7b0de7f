package dev.flywheel.streams;

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
    LOG.warn("Cannot read {}/{}/{}; sent to {}.dlq: {}", record.topic(), record.partition(),
        record.offset(), record.topic(), DeadLetters.describe(exception));
    deadLetters.send(record.topic(), record.partition(), record.offset(), record.timestamp(),
        record.key(), record.value(), record.headers(), exception);
    return DeserializationHandlerResponse.CONTINUE;
  }
}
