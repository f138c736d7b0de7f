package dev.flywheel.topics;

import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.record.AbstractRecords;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.RecordBatch;

/**
 * How large a record is to a Kafka producer, and how large it may be: a producer refuses a record
 * whose size (Kafka's upper bound for a batch holding only it, before compression) is over its
 * {@code max.request.size} with {@code RecordTooLargeException}. Stateless.
 */
public final class RecordSize {

  private RecordSize() {}

  /**
   * The {@code max.request.size} a producer built from {@code producerProps} has: the property
   * when given, else Kafka's default (1 MiB).
   *
   * @throws org.apache.kafka.common.config.ConfigException when the property is not an int
   */
  public static int maxRequestSize(Map<String, ?> producerProps) {
    Object value = producerProps.get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
    if (value == null) {
      value = ProducerConfig.configDef().defaultValues()
          .get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
    }
    return (Integer) ConfigDef.parseType(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, value,
        ConfigDef.Type.INT);
  }

  /**
   * What a record of a Kafka Streams processor takes beyond its key and value, at most: the
   * batch's and the record's headers, with room for the headers Streams adds to changelog records.
   */
  private static final int STREAMS_RECORD_OVERHEAD = 512;

  /**
   * The most a value may take in a record a Kafka Streams processor writes with a key of {@code
   * keyBytes} bytes, for a producer whose {@code max.request.size} is {@code maxRequestSize}: a
   * processor whose records grow with its input (a state kept per key) checks against it, as a
   * record the producer refuses would fail its task on every retry.
   */
  public static int maxValueBytes(int keyBytes, int maxRequestSize) {
    return maxRequestSize - keyBytes - STREAMS_RECORD_OVERHEAD;
  }

  /**
   * The size the producer checks against {@code max.request.size} for a record of these key,
   * value and headers (each may be null), as {@code KafkaProducer.send} computes it.
   */
  public static int upperBound(byte[] key, byte[] value, Header[] headers) {
    return AbstractRecords.estimateSizeInBytesUpperBound(RecordBatch.CURRENT_MAGIC_VALUE,
        CompressionType.NONE, key, value, headers == null ? new Header[0] : headers);
  }
}
