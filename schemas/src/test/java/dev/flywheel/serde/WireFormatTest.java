package dev.flywheel.serde;

import static dev.flywheel.serde.TestSchemas.ALL_TYPES;
import static dev.flywheel.serde.TestSchemas.allTypes;
import static dev.flywheel.serde.TestSchemas.avroBinary;
import static dev.flywheel.serde.TestSchemas.wire;
import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.RecordOrigin;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.junit.jupiter.api.Test;

class WireFormatTest {

  /** Ids above 2^24, so every byte of the big-endian id is checked. */
  private static final int OFFSET = 0x01020300;

  @Test
  void shouldWriteMagicByteBigEndianIdAndTheAvroBinaryOfTheDatum() {
    // Given a serializer on a registry handing out four-byte ids
    OffsetIdRegistry registry = new OffsetIdRegistry(OFFSET);
    AvroSerializer<GenericRecord> serializer = new AvroSerializer<>(registry);
    GenericRecord record = allTypes();

    // When a record with every Avro type is serialized
    byte[] bytes = serializer.serialize("flywheel.test", record);

    // Then the bytes are 0x00, the id big-endian, then Avro's own encoding of the same datum
    assertThat(bytes).startsWith(0x00, 0x01, 0x02, 0x03, 0x01);
    assertThat(bytes).isEqualTo(wire(0x01020301, avroBinary(ALL_TYPES, record)));
    assertThat(registry.getSchemaById(0x01020301)).isEqualTo(ALL_TYPES);
  }

  @Test
  void shouldWriteGeneratedRecordsAsAvroEncodesTheEquivalentGenericRecord() {
    // Given a FeatureVector and the same datum as a generic record (timestamps as epoch millis)
    OffsetIdRegistry registry = new OffsetIdRegistry(OFFSET);
    AvroSerializer<FeatureVector> serializer = new AvroSerializer<>(registry);
    FeatureVector vector = featureVector();
    Schema schema = FeatureVector.getClassSchema();
    GenericRecord generic = new GenericRecordBuilder(schema)
        .set("event_id", vector.getEventId())
        .set("event_time", vector.getEventTime().toEpochMilli())
        .set("entity_id", vector.getEntityId())
        .set("feature_group", vector.getFeatureGroup())
        .set("feature_group_version", vector.getFeatureGroupVersion())
        .set("features", vector.getFeatures())
        .set("categorical_features", vector.getCategoricalFeatures())
        .set("as_of", vector.getAsOf().toEpochMilli())
        .set("computed_at", vector.getComputedAt().toEpochMilli())
        .set("source", new GenericRecordBuilder(RecordOrigin.getClassSchema())
            .set("topic", "flywheel.data.transactions").set("partition", 3).set("offset", 99L).build())
        .build();

    // When the generated record is serialized
    byte[] bytes = serializer.serialize("flywheel.features", vector);

    // Then the body is what Avro's generic writer makes of the equivalent generic record
    assertThat(bytes).isEqualTo(wire(OFFSET + 1, avroBinary(schema, generic)));
  }

  @Test
  void shouldWritePrimitiveKeysAsConfluentDoes() {
    // Given a key serializer
    OffsetIdRegistry registry = new OffsetIdRegistry(OFFSET);
    AvroSerializer<Object> serializer = new AvroSerializer<>(registry, Map.of(), true);

    // When a string, a long and bytes are serialized, each to its own topic
    byte[] string = serializer.serialize("strings", "card-42");
    byte[] number = serializer.serialize("longs", 300L);
    byte[] bytes = serializer.serialize("bytes", new byte[] {1, 2});

    // Then each is the header plus the Avro binary of the primitive, registered as "string" etc.
    assertThat(string).isEqualTo(wire(OFFSET + 1,
        avroBinary(Schema.create(Schema.Type.STRING), "card-42")));
    assertThat(number).isEqualTo(wire(OFFSET + 2, avroBinary(Schema.create(Schema.Type.LONG), 300L)));
    assertThat(bytes).isEqualTo(wire(OFFSET + 3,
        avroBinary(Schema.create(Schema.Type.BYTES), ByteBuffer.wrap(new byte[] {1, 2}))));
    assertThat(registry.getLatest("bytes-key").schema().getType()).isEqualTo(Schema.Type.BYTES);
  }

  @Test
  void shouldSerializeNullAsNull() {
    // Given a serializer
    AvroSerializer<GenericRecord> serializer = new AvroSerializer<>(new OffsetIdRegistry(0));

    // When null (a tombstone) is serialized, Then the result is null
    assertThat(serializer.serialize("t", null)).isNull();
  }

  @Test
  void shouldWriteRecordsLargerThanTheInitialBufferExactly() {
    // Given a record whose encoding is far larger than the encoder's initial buffer
    OffsetIdRegistry registry = new OffsetIdRegistry(OFFSET);
    AvroSerializer<GenericRecord> serializer = new AvroSerializer<>(registry);
    GenericRecord big = allTypes();
    Map<String, Double> many = new LinkedHashMap<>();
    for (int i = 0; i < 5_000; i++) {
      many.put("feature_" + i, i * 0.5);
    }
    big.put("m", many);

    // When it is serialized, and then a small one after it
    byte[] first = serializer.serialize("t", big);
    byte[] second = serializer.serialize("t", allTypes());

    // Then both are exact
    assertThat(first).isEqualTo(wire(OFFSET + 1, avroBinary(ALL_TYPES, big)));
    assertThat(second).isEqualTo(wire(OFFSET + 1, avroBinary(ALL_TYPES, allTypes())));
  }

  @Test
  void shouldGiveEveryThreadTheSameBytesWhenSharedAcrossThreads() throws Exception {
    // Given one serializer shared by several threads, each with its own records
    OffsetIdRegistry registry = new OffsetIdRegistry(OFFSET);
    AvroSerializer<GenericRecord> serializer = new AvroSerializer<>(registry);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Callable<List<String>>> tasks = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int thread = t;
        tasks.add(() -> {
          List<String> mismatches = new ArrayList<>();
          for (int i = 0; i < 2_000; i++) {
            GenericRecord r = TestSchemas.userV1("user-" + thread + "-" + i, i);
            byte[] expected = wire(OFFSET + 1, avroBinary(TestSchemas.USER_V1, r));
            if (!Arrays.equals(expected, serializer.serialize("users", r))) {
              mismatches.add(thread + "/" + i);
            }
          }
          return mismatches;
        });
      }

      // When they serialize concurrently
      List<String> mismatches = new ArrayList<>();
      for (Future<List<String>> f : pool.invokeAll(tasks)) {
        mismatches.addAll(f.get());
      }

      // Then every payload is exact
      assertThat(mismatches).isEmpty();
    } finally {
      pool.shutdownNow();
    }
  }

  static FeatureVector featureVector() {
    Map<String, Double> features = new LinkedHashMap<>();
    features.put("amount_mean_1h", 42.5);
    features.put("tx_count_24h", 17.0);
    features.put("seconds_since_last", null);
    Map<String, String> categorical = new LinkedHashMap<>();
    categorical.put("last_category", "grocery");
    categorical.put("last_country", null);
    return FeatureVector.newBuilder()
        .setEventId("evt-1")
        .setEventTime(Instant.ofEpochMilli(1_700_000_000_123L))
        .setEntityId("card-7")
        .setFeatureGroup("card_activity")
        .setFeatureGroupVersion("sha256:abc")
        .setFeatures(features)
        .setCategoricalFeatures(categorical)
        .setAsOf(Instant.ofEpochMilli(1_700_000_000_123L))
        .setComputedAt(Instant.ofEpochMilli(1_700_000_001_000L))
        .setSource(RecordOrigin.newBuilder().setTopic("flywheel.data.transactions")
            .setPartition(3).setOffset(99L).build())
        .build();
  }
}
