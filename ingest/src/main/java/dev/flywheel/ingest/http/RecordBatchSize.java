package dev.flywheel.ingest.http;

import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.SimpleRecord;
import org.apache.kafka.common.serialization.Serializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The size the broker checks against a topic's {@code max.message.bytes} for a record: that of the
 * record batch a producer sends holding only that record, serialized with the producer's
 * serializers and compressed with its {@code compression.type} (and level), batch header
 * included. The broker refuses a batch over the limit with {@code RecordTooLargeException}; a
 * producer whose batch of several records is refused splits it and sends again, so only a record
 * whose batch of its own is over the limit can never be written. Stateless apart from the
 * serializers' caches; thread-safe when they are.
 *
 * <p>The record is serialized and compressed once more to be measured, so measure only records
 * that may be over the limit: the size without compression ({@code RecordSize.upperBound}, which
 * the producer checks against {@code max.request.size}) is an upper bound of this one except for
 * the few bytes of framing a codec adds to data it cannot shrink.
 */
public final class RecordBatchSize {

  private static final Logger log = LoggerFactory.getLogger(RecordBatchSize.class);

  private final Serializer<String> keys;
  private final Serializer<GenericRecord> values;
  private final Compression compression;

  /**
   * For a producer built from {@code producerProps} with these serializers.
   *
   * @throws org.apache.kafka.common.config.ConfigException when a compression setting is invalid
   */
  public RecordBatchSize(Map<String, ?> producerProps, Serializer<String> keys,
      Serializer<GenericRecord> values) {
    this(Objects.requireNonNull(keys, "keys"), Objects.requireNonNull(values, "values"),
        compression(producerProps));
  }

  private RecordBatchSize(Serializer<String> keys, Serializer<GenericRecord> values,
      Compression compression) {
    this.keys = keys;
    this.values = values;
    this.compression = compression;
  }

  /** Measures nothing: {@link #of(ProducerRecord)} is always empty. */
  public static RecordBatchSize unmeasured() {
    return new RecordBatchSize(null, null, Compression.NONE);
  }

  /** The producer's {@code compression.type}, as Kafka names it ({@code lz4}, {@code none}). */
  public String compressionType() {
    return compression.type().name;
  }

  /**
   * The size in bytes of the record batch holding only {@code record} as the producer sends it;
   * empty when it cannot be measured here (the serializer failed, e.g. the schema registry did
   * not answer): the producer and the broker decide.
   */
  public OptionalInt of(ProducerRecord<String, GenericRecord> record) {
    if (values == null) {
      return OptionalInt.empty();
    }
    try {
      byte[] key = keys.serialize(record.topic(), record.headers(), record.key());
      byte[] value = values.serialize(record.topic(), record.headers(), record.value());
      Header[] headers = record.headers().toArray(); // as the serializers left them
      long timestamp = record.timestamp() == null ? RecordBatch.NO_TIMESTAMP : record.timestamp();
      return OptionalInt.of(of(key, value, headers, timestamp, compression));
    } catch (RuntimeException | LinkageError e) {
      // a codec whose native library is missing fails the producer's sends as well
      log.debug("cannot measure a record of topic {} as a record batch", record.topic(), e);
      return OptionalInt.empty();
    }
  }

  /**
   * The size of the record batch holding only a record of these bytes, compressed with {@code
   * compression}: built as the producer builds its batches ({@code MemoryRecordsBuilder}, current
   * magic). The producer id, epoch and sequence a transactional producer adds take the same fixed
   * room as the placeholders here.
   */
  static int of(byte[] key, byte[] value, Header[] headers, long timestamp,
      Compression compression) {
    return MemoryRecords.withRecords(compression,
        new SimpleRecord(timestamp, key, value, headers)).sizeInBytes();
  }

  /**
   * The compression of a producer built from {@code producerProps}, as {@code KafkaProducer}
   * configures it: {@code compression.type} and, for gzip, lz4 and zstd, its level (Kafka's
   * defaults where not given).
   *
   * @throws org.apache.kafka.common.config.ConfigException when a value is invalid
   */
  static Compression compression(Map<String, ?> producerProps) {
    CompressionType type = CompressionType.forName((String) setting(producerProps,
        ProducerConfig.COMPRESSION_TYPE_CONFIG, ConfigDef.Type.STRING));
    return switch (type) {
      case GZIP -> Compression.gzip().level(level(producerProps,
          ProducerConfig.COMPRESSION_GZIP_LEVEL_CONFIG)).build();
      case LZ4 -> Compression.lz4().level(level(producerProps,
          ProducerConfig.COMPRESSION_LZ4_LEVEL_CONFIG)).build();
      case ZSTD -> Compression.zstd().level(level(producerProps,
          ProducerConfig.COMPRESSION_ZSTD_LEVEL_CONFIG)).build();
      default -> Compression.of(type).build();
    };
  }

  private static int level(Map<String, ?> producerProps, String name) {
    return (Integer) setting(producerProps, name, ConfigDef.Type.INT);
  }

  /** A producer setting: the property when given, else Kafka's default. */
  private static Object setting(Map<String, ?> producerProps, String name, ConfigDef.Type type) {
    Object value = producerProps.get(name);
    if (value == null) {
      value = ProducerConfig.configDef().defaultValues().get(name);
    }
    return ConfigDef.parseType(name, value, type);
  }
}
