package dev.flywheel.driftdetector.topology;

import dev.flywheel.topics.DeadLetterHeaders;
import org.apache.kafka.common.header.Headers;

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
    return DeadLetterHeaders.ofRecord(error, null, processor, null, topic, partition, offset,
        timestamp);
  }
}
