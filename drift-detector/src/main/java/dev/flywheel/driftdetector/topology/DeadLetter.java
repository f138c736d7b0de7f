package dev.flywheel.driftdetector.topology;

import dev.flywheel.topics.DeadLetterHeaders;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * A prediction drift detection gives up on, on its way to {@code flywheel.predictions.dlq}: the
 * key and value bytes of the predictions topic. Its headers ({@link DeadLetterHeaders}) travel on
 * the Kafka Streams record, inside the processor's transaction, so it is written exactly once.
 *
 * @param key the key bytes (the entity id); may be null
 * @param value the value bytes, in the predictions topic's wire format
 */
record DeadLetter(byte[] key, byte[] value) {

  /** The dead-letter headers of a record read at {@code topic/partition/offset}. */
  static Headers headers(String error, String processor, String topic, int partition,
      long offset, long timestamp) {
    Headers h = new RecordHeaders();
    put(h, DeadLetterHeaders.ERROR, error);
    put(h, DeadLetterHeaders.ORIGIN, DeadLetterHeaders.origin(topic, partition, offset));
    put(h, DeadLetterHeaders.FAILED_AT, Long.toString(System.currentTimeMillis()));
    put(h, DeadLetterHeaders.PROCESSOR, processor);
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
