package dev.flywheel.serde;

import static dev.flywheel.serde.TestSchemas.USER_V1;
import static dev.flywheel.serde.TestSchemas.USER_V2;
import static dev.flywheel.serde.TestSchemas.allTypes;
import static dev.flywheel.serde.TestSchemas.userV1;
import static dev.flywheel.serde.TestSchemas.userV2;
import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.Label;
import dev.flywheel.events.SampleEvents;
import dev.flywheel.events.Transaction;
import dev.flywheel.registry.InMemorySchemaRegistryClient;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

class RoundTripTest {

  private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();

  @Test
  void shouldRoundTripGenericRecordsWithTheirWriterSchema() {
    // Given a generic serde on the in-memory registry
    GenericAvroSerde serde = new GenericAvroSerde(registry);
    GenericRecord record = allTypes();

    // When a record goes through serializer and deserializer
    byte[] bytes = serde.serializer().serialize("t", record);
    GenericRecord back = serde.deserializer().deserialize("t", bytes);

    // Then it is equal to the original, with the writer schema
    assertThat(back).isEqualTo(record);
    assertThat(back.getSchema()).isEqualTo(record.getSchema());
  }

  @Test
  void shouldRoundTripGeneratedRecordsAsTheirClass() {
    // Given a specific serde for FeatureVector
    SpecificAvroSerde<FeatureVector> serde = new SpecificAvroSerde<>(registry, FeatureVector.class);
    FeatureVector vector = WireFormatTest.featureVector();

    // When it goes through serializer and deserializer
    byte[] bytes = serde.serializer().serialize("flywheel.features", vector);
    FeatureVector back = serde.deserializer().deserialize("flywheel.features", bytes);

    // Then the same FeatureVector comes back, registered under the topic's value subject
    assertThat(back).isInstanceOf(FeatureVector.class).isEqualTo(vector);
    assertThat(registry.getLatest("flywheel.features-value").schema())
        .isEqualTo(FeatureVector.getClassSchema());
  }

  @Test
  void shouldFindTheGeneratedClassByTheWriterSchemaNameWhenConfiguredSpecific() {
    // Given a deserializer configured as Kafka would, with specific.avro.reader=true and no class
    AvroSerializer<FeatureVector> serializer = new AvroSerializer<>(registry);
    AvroDeserializer<Object> deserializer = new AvroDeserializer<>(registry,
        Map.of(AvroSerdeConfig.SPECIFIC_AVRO_READER, "true"), false);
    FeatureVector vector = WireFormatTest.featureVector();

    // When a FeatureVector is read back
    Object back = deserializer.deserialize("flywheel.features",
        serializer.serialize("flywheel.features", vector));

    // Then it is a FeatureVector
    assertThat(back).isInstanceOf(FeatureVector.class).isEqualTo(vector);
  }

  @Test
  void shouldReadATopLevelUnionOfGeneratedRecordsAsTheirClassesWhenConfiguredSpecific() {
    // Given a topic whose value schema is a union of two generated records, Label and Transaction
    Schema union = Schema.createUnion(Label.getClassSchema(), Transaction.getClassSchema());
    registry.register("flywheel.mixed-value", union);
    AvroSerializer<Object> serializer = new AvroSerializer<>(registry, Map.of(
        AvroSerdeConfig.AUTO_REGISTER_SCHEMAS, "false",
        AvroSerdeConfig.USE_LATEST_VERSION, "true"), false);
    Label label = SampleEvents.label();
    Transaction transaction = SampleEvents.transaction();
    byte[] labelBytes = serializer.serialize("flywheel.mixed", label);
    byte[] transactionBytes = serializer.serialize("flywheel.mixed", transaction);
    AvroDeserializer<Object> deserializer = new AvroDeserializer<>(registry,
        Map.of(AvroSerdeConfig.SPECIFIC_AVRO_READER, "true"), false);

    // When both are read with specific.avro.reader=true
    Object labelBack = deserializer.deserialize("flywheel.mixed", labelBytes);
    Object transactionBack = deserializer.deserialize("flywheel.mixed", transactionBytes);

    // Then each comes back as its generated class, equal to what was written
    assertThat(labelBack).isInstanceOf(Label.class).isEqualTo(label);
    assertThat(transactionBack).isInstanceOf(Transaction.class).isEqualTo(transaction);
  }

  @Test
  void shouldReadATopLevelArrayOfGeneratedRecordsAsTheirClassWhenConfiguredSpecific() {
    // Given a topic whose value schema is an array of Labels
    Schema array = Schema.createArray(Label.getClassSchema());
    registry.register("flywheel.batches-value", array);
    Label label = SampleEvents.label();
    byte[] bytes = new AvroSerializer<Object>(registry).serialize("flywheel.batches",
        new GenericData.Array<>(array, List.of(label)));
    AvroDeserializer<Object> deserializer = new AvroDeserializer<>(registry,
        Map.of(AvroSerdeConfig.SPECIFIC_AVRO_READER, "true"), false);

    // When it is read with specific.avro.reader=true
    Object back = deserializer.deserialize("flywheel.batches", bytes);

    // Then its elements are Labels
    assertThat(back).asList().containsExactly(label);
    assertThat(((List<?>) back).get(0)).isInstanceOf(Label.class);
  }

  @Test
  void shouldReadANewerWriterWithAnOlderReaderSchemaIgnoringTheAddedFields() {
    // Given data written with V2 (two more fields) and a generic deserializer whose reader is V1
    AvroSerializer<GenericRecord> serializer = new AvroSerializer<>(registry);
    byte[] bytes = serializer.serialize("users", userV2("u1", 30, "u1@example.com", "gold"));
    AvroDeserializer<GenericRecord> deserializer = new AvroDeserializer<>(registry, USER_V1);

    // When it is read
    GenericRecord back = deserializer.deserialize("users", bytes);

    // Then it has V1's shape and values
    assertThat(back.getSchema()).isEqualTo(USER_V1);
    assertThat(back).isEqualTo(userV1("u1", 30));
  }

  @Test
  void shouldReadAnOlderWriterWithANewerReaderSchemaFillingDefaults() {
    // Given data written with V1 and a generic deserializer configured with V2 as reader
    AvroSerializer<GenericRecord> serializer = new AvroSerializer<>(registry);
    byte[] bytes = serializer.serialize("users", userV1("u2", 41));
    AvroDeserializer<GenericRecord> deserializer = new AvroDeserializer<>(registry,
        Map.of(AvroSerdeConfig.READER_SCHEMA, USER_V2.toString()), false);

    // When it is read
    GenericRecord back = deserializer.deserialize("users", bytes);

    // Then the fields V1 lacked have V2's defaults
    assertThat(back).isEqualTo(userV2("u2", 41, null, "basic"));
  }

  @Test
  void shouldReadAnOlderFeatureVectorWriterIntoTheGeneratedClassWithDefaults() {
    // Given FeatureVector data written by an older producer whose schema lacked the defaulted fields
    Schema full = FeatureVector.getClassSchema();
    Schema older = TestSchemas.parse("""
        {"type": "record", "name": "FeatureVector", "namespace": "dev.flywheel.events", "fields": [
          {"name": "event_id", "type": "string"},
          {"name": "event_time", "type": {"type": "long", "logicalType": "timestamp-millis"}},
          {"name": "entity_id", "type": "string"},
          {"name": "feature_group", "type": "string"},
          {"name": "features", "type": {"type": "map", "values": ["null", "double"]}},
          {"name": "as_of", "type": {"type": "long", "logicalType": "timestamp-millis"}}
        ]}""");
    GenericRecord old = new GenericRecordBuilder(older)
        .set("event_id", "e-9").set("event_time", 1_000L).set("entity_id", "card-1")
        .set("feature_group", "card_activity").set("features", Map.of("x", 1.0))
        .set("as_of", 1_000L).build();
    byte[] bytes = new AvroSerializer<GenericRecord>(registry).serialize("flywheel.features", old);
    SpecificAvroSerde<FeatureVector> serde = new SpecificAvroSerde<>(registry, FeatureVector.class);

    // When the current generated class reads it
    FeatureVector back = serde.deserializer().deserialize("flywheel.features", bytes);

    // Then the written fields are there and the newer fields hold their defaults
    assertThat(back.getEventId()).isEqualTo("e-9");
    assertThat(back.getEntityId()).isEqualTo("card-1");
    assertThat(back.getFeatures()).containsEntry("x", 1.0);
    assertThat(back.getFeatureGroupVersion()).isNull();
    assertThat(back.getCategoricalFeatures()).isEmpty();
    assertThat(back.getComputedAt()).isNull();
    assertThat(back.getSource()).isNull();
    assertThat(back.getSchema()).isSameAs(full);
  }

  @Test
  void shouldReadANewerFeatureVectorWriterIntoTheGeneratedClassIgnoringUnknownFields() {
    // Given FeatureVector data from a newer producer with one more (defaulted) field
    Schema full = FeatureVector.getClassSchema();
    String json = full.toString();
    Schema newer = TestSchemas.parse(json.substring(0, json.length() - 2)
        + ",{\"name\":\"region\",\"type\":\"string\",\"default\":\"eu\"}]}");
    FeatureVector vector = WireFormatTest.featureVector();
    GenericRecord generic = new GenericData.Record(newer);
    for (Schema.Field f : full.getFields()) {
      Object v = vector.get(f.pos());
      generic.put(f.name(), v instanceof java.time.Instant i ? i.toEpochMilli() : v);
    }
    generic.put("source", new GenericRecordBuilder(newer.getField("source").schema().getTypes().get(1))
        .set("topic", "flywheel.data.transactions").set("partition", 3).set("offset", 99L).build());
    generic.put("region", "us");
    byte[] bytes = new AvroSerializer<GenericRecord>(registry).serialize("flywheel.features", generic);

    // When the current generated class reads it
    FeatureVector back = new SpecificAvroSerde<>(registry, FeatureVector.class).deserializer()
        .deserialize("flywheel.features", bytes);

    // Then it equals the vector without the unknown field
    assertThat(back).isEqualTo(vector);
  }

  @Test
  void shouldRoundTripPrimitivesAsPlainJavaValues() {
    // Given a key serializer and deserializer
    AvroSerializer<Object> serializer = new AvroSerializer<>(registry, Map.of(), true);
    AvroDeserializer<Object> deserializer = new AvroDeserializer<>(registry, Map.of(), true);

    // When strings, numbers and bytes go through (one topic per type: each key subject holds one)
    // Then the same Java values come back
    assertThat(deserializer.deserialize("s", serializer.serialize("s", "card-7"))).isEqualTo("card-7");
    assertThat(deserializer.deserialize("i", serializer.serialize("i", 7))).isEqualTo(7);
    assertThat(deserializer.deserialize("l", serializer.serialize("l", 7L))).isEqualTo(7L);
    assertThat(deserializer.deserialize("d", serializer.serialize("d", 2.5d))).isEqualTo(2.5d);
    assertThat(deserializer.deserialize("b", serializer.serialize("b", true))).isEqualTo(true);
    assertThat(deserializer.deserialize("y", serializer.serialize("y", new byte[] {5, 6})))
        .isEqualTo(new byte[] {5, 6});
  }

  @Test
  void shouldReadFromAByteBufferSliceWithoutTouchingIt() {
    // Given a payload inside a larger array, exposed as a ByteBuffer slice
    GenericAvroSerde serde = new GenericAvroSerde(registry);
    byte[] payload = serde.serializer().serialize("users", userV1("u3", 5));
    byte[] bigger = new byte[payload.length + 20];
    System.arraycopy(payload, 0, bigger, 7, payload.length);
    ByteBuffer slice = ByteBuffer.wrap(bigger, 7, payload.length).slice();

    // When it is deserialized through the ByteBuffer overload
    GenericRecord back = serde.deserializer().deserialize("users", new RecordHeaders(), slice);

    // Then the record comes back and the buffer's position is unchanged
    assertThat(back).isEqualTo(userV1("u3", 5));
    assertThat(slice.position()).isZero();
    assertThat(serde.deserializer().deserialize("users", new RecordHeaders(), (ByteBuffer) null))
        .isNull();
  }

  @Test
  void shouldReadEveryWriterVersionOfATopicWithTheirOwnSchema() {
    // Given a topic with records of V1 and then of V2
    GenericAvroSerde serde = new GenericAvroSerde(registry);
    byte[] first = serde.serializer().serialize("users", userV1("a", 1));
    byte[] second = serde.serializer().serialize("users", userV2("b", 2, null, "gold"));

    // When both are read with the writer schemas, alternately
    GenericRecord a = serde.deserializer().deserialize("users", first);
    GenericRecord b = serde.deserializer().deserialize("users", second);
    GenericRecord a2 = serde.deserializer().deserialize("users", first);

    // Then each keeps its own shape
    assertThat(a).isEqualTo(userV1("a", 1));
    assertThat(b).isEqualTo(userV2("b", 2, null, "gold"));
    assertThat(a2).isEqualTo(a);
    assertThat(registry.listVersions("users-value")).containsExactly(1, 2);
  }
}
