package dev.flywheel.featurestreams;

import dev.flywheel.streams.StreamsProps;
import dev.flywheel.topics.DeadLetterHeaders;
import java.util.Map;
import org.apache.kafka.common.header.Headers;

/**
 * A source record the feature engine does not take, on its way to {@code <source topic>.dlq}:
 * the original key and value bytes. Its headers ({@link DeadLetterHeaders}) travel on the Kafka
 * Streams record, inside the processor's transaction, so a dead letter is written exactly once.
 *
 * @param key the original key bytes; may be null
 * @param value the original value bytes; may be null
 */
record DeadLetter(byte[] key, byte[] value) {

  /**
   * The dead letter of these original bytes, its value (and if need be its key) cut to fit the producer's {@code
   * max.request.size} in {@code appConfigs} together with {@code headers}, which then say so
   * ({@link DeadLetterHeaders#fit}): a dead letter the producer refused would fail the task on
   * every retry.
   */
  static DeadLetter fitted(byte[] key, byte[] value, Headers headers,
      Map<String, Object> appConfigs) {
    DeadLetterHeaders.Fitted fitted = DeadLetterHeaders.fit(key, value, headers,
        StreamsProps.maxRequestSize(appConfigs));
    return new DeadLetter(fitted.key(), fitted.value());
  }

  /** The dead-letter headers of a record read at {@code topic/partition/offset}. */
  static Headers headers(String error, String errorClass, String processor, String source,
      String topic, int partition, long offset, long timestamp) {
    return DeadLetterHeaders.ofRecord(error, errorClass, processor, source, topic, partition,
        offset, timestamp);
  }
}
