package dev.flywheel.ingest.http;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.topics.RecordSize;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.DefaultRecord;
import org.apache.kafka.common.record.DefaultRecordBatch;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class RecordBatchSizeTest {

  /** The bytes the value serializer answers, whatever the record. */
  private byte[] value;

  private final Serializer<GenericRecord> values = (topic, record) -> value;

  private static final ProducerRecord<String, GenericRecord> RECORD =
      new ProducerRecord<>("t", null, 1_700_000_000_000L, "key-1", (GenericRecord) null);

  private RecordBatchSize measure(Map<String, ?> producerProps) {
    return new RecordBatchSize(producerProps, new StringSerializer(), values);
  }

  @Test
  void shouldMeasureAnUncompressedRecordAsItsBatchHeaderAndRecord() {
    // Given a producer that does not compress, and a value of 5 000 bytes
    value = new byte[5_000];
    new Random(1).nextBytes(value);

    // When the record is measured
    int size = measure(Map.of("compression.type", "none")).of(RECORD).getAsInt();

    // Then it is the batch's header and the record as Kafka encodes it (offset and timestamp
    // deltas 0), a little less than the upper bound the producer checks max.request.size with
    byte[] key = "key-1".getBytes(UTF_8);
    assertThat(size).isEqualTo(DefaultRecordBatch.RECORD_BATCH_OVERHEAD
        + DefaultRecord.sizeInBytes(0, 0L, key.length, value.length, new Header[0]));
    assertThat(size).isLessThanOrEqualTo(RecordSize.upperBound(key, value, null));
  }

  @Test
  void shouldMeasureACompressibleRecordCompressedAsTheProducerSendsIt() {
    // Given a producer that compresses with lz4, and a value of 8 KiB that compresses well
    value = new byte[8 * 1024];
    Arrays.fill(value, (byte) 'x');

    // When the record is measured
    int size = measure(Map.of("compression.type", "lz4")).of(RECORD).getAsInt();

    // Then it is far below its size uncompressed, which the broker does not check
    assertThat(size).isLessThan(RecordSize.upperBound("key-1".getBytes(UTF_8), value, null) / 10);
  }

  @Test
  void shouldMeasureAnIncompressibleRecordWithTheCodecsFraming() {
    // Given a producer that compresses with lz4, and a value of 8 KiB that does not compress
    value = new byte[8 * 1024];
    new Random(2).nextBytes(value);

    // When the record is measured with and without compression
    int lz4 = measure(Map.of("compression.type", "lz4")).of(RECORD).getAsInt();
    int none = measure(Map.of()).of(RECORD).getAsInt();

    // Then compressed it is larger by the codec's framing: a check without compression would let
    // it through a limit between the two
    assertThat(lz4).isGreaterThan(none);
  }

  @Test
  void shouldCompressAsAProducerWithTheseSettingsDoes() {
    // Given producer settings with and without a compression and its level
    // When their compression is taken
    // Then it is the producer's: Kafka's defaults (no compression; each codec's default level)
    // where a setting is missing
    assertThat(RecordBatchSize.compression(Map.of()).type()).isEqualTo(CompressionType.NONE);
    assertThat(RecordBatchSize.compression(Map.of("compression.type", "lz4")))
        .isEqualTo(Compression.lz4().build());
    assertThat(RecordBatchSize.compression(Map.of("compression.type", "zstd",
        "compression.zstd.level", "9"))).isEqualTo(Compression.zstd().level(9).build());
    assertThat(RecordBatchSize.compression(Map.of("compression.type", "gzip",
        "compression.gzip.level", 1))).isEqualTo(Compression.gzip().level(1).build());
    assertThat(measure(Map.of("compression.type", "snappy")).compressionType())
        .isEqualTo("snappy");
  }

  @Test
  void shouldMeasureNothingWhenTheRecordCannotBeSerialized() {
    // Given a value serializer that fails (the schema registry does not answer)
    RecordBatchSize size = new RecordBatchSize(Map.of(), new StringSerializer(),
        (topic, record) -> {
          throw new SerializationException("the schema registry did not answer");
        });

    // When the record is measured
    // Then it is not: the producer and the broker decide
    assertThat(size.of(RECORD)).isEmpty();
  }
}
