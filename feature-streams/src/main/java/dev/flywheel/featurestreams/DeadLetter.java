package dev.flywheel.featurestreams;

import dev.flywheel.topics.DeadLetterHeaders;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * A source record the feature engine does not take, on its way to {@code <source topic>.dlq}:
 * the original key and value bytes. Its headers ({@link DeadLetterHeaders}) travel on the Kafka
 * Streams record, inside the processor's transaction, so a dead letter is written exactly once.
 *
 * @param key the original key bytes; may be null
 * @param value the original value bytes; may be null
 */
record DeadLetter(byte[] key, byte[] value) {

  /** The dead-letter headers of a record read at {@code topic/partition/offset}. */
  static Headers headers(String error, String errorClass, String processor, String source,
      String topic, int partition, long offset, long timestamp) {
    Headers h = new RecordHeaders();
    put(h, DeadLetterHeaders.ERROR, error);
    if (errorClass != null) {
      put(h, DeadLetterHeaders.ERROR_CLASS, errorClass);
    }
    put(h, DeadLetterHeaders.ORIGIN, DeadLetterHeaders.origin(topic, partition, offset));
    put(h, DeadLetterHeaders.FAILED_AT, Long.toString(System.currentTimeMillis()));
    put(h, DeadLetterHeaders.PROCESSOR, processor);
    put(h, DeadLetterHeaders.SOURCE, source);
    put(h, DeadLetterHeaders.TOPIC, topic);
    put(h, DeadLetterHeaders.PARTITION, Integer.toString(partition));
    put(h, DeadLetterHeaders.OFFSET, Long.toString(offset));
    put(h, DeadLetterHeaders.TIMESTAMP, Long.toString(timestamp));
    return h;
  }

  private static void put(Headers headers, String name, String value) {
    headers.add(name, value.getBytes(StandardCharsets.UTF_8));
  }
}
