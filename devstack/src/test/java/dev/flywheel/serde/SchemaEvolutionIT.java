package dev.flywheel.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.registry.CompatibilityLevel;
import dev.flywheel.registry.SchemaRegistryClient;
import dev.flywheel.registry.SchemaRegistryException;
import dev.flywheel.topics.Topic;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Producers and consumers on different versions of one subject, through the broker and the
 * embedded registry under BACKWARD compatibility: each side reads with its own schema.
 */
@WithDevstack
class SchemaEvolutionIT {

  private static final Schema V1 = new Schema.Parser().parse("""
      {"type": "record", "name": "Reading", "namespace": "dev.flywheel.test.evolution",
       "fields": [
         {"name": "sensor", "type": "string"},
         {"name": "value", "type": "double"}]}""");

  /** V1 plus a field with a default: a BACKWARD-compatible evolution. */
  private static final Schema V2 = new Schema.Parser().parse("""
      {"type": "record", "name": "Reading", "namespace": "dev.flywheel.test.evolution",
       "fields": [
         {"name": "sensor", "type": "string"},
         {"name": "value", "type": "double"},
         {"name": "unit", "type": "string", "default": "celsius"}]}""");

  /** V2 with {@code value} changed from double to string: incompatible. */
  private static final Schema V3 = new Schema.Parser().parse("""
      {"type": "record", "name": "Reading", "namespace": "dev.flywheel.test.evolution",
       "fields": [
         {"name": "sensor", "type": "string"},
         {"name": "value", "type": "string"},
         {"name": "unit", "type": "string", "default": "celsius"}]}""");

  private Devstack devstack;
  private String topic;
  private String subject;
  private SchemaRegistryClient registry;

  @BeforeEach
  void createTopicUnderBackwardCompatibility(Devstack stack, UniqueNames names) {
    devstack = stack;
    Topic<String, GenericRecord> readings =
        KafkaIO.catalogue(stack, names.prefix()).data("readings");
    KafkaIO.create(stack, readings);
    topic = readings.name();
    subject = topic + "-value";
    registry = KafkaIO.freshClient(stack);
    registry.setCompatibility(subject, CompatibilityLevel.BACKWARD);
  }

  @Test
  void shouldReadRecordsOfANewerWriterWithTheOlderReaderSchema() {
    // Given v1 is registered and a producer writes records with v2, which adds 'unit'
    registry.register(subject, V1);
    KafkaIO.produce(devstack, topic, writer().serializer(), List.of(
        v2("s-1", 20.5, "kelvin"), v2("s-2", 21.0, "fahrenheit")));

    // When a consumer configured with reader schema v1 reads them
    List<GenericRecord> read = values(KafkaIO.consume(devstack, topic, reader(V1).deserializer(), 2));

    // Then it gets v1 records with v1's fields and the values written, without 'unit'
    assertThat(registry.listVersions(subject)).containsExactly(1, 2);
    assertThat(read).allSatisfy(record -> {
      assertThat(record.getSchema()).isEqualTo(V1);
      assertThat(record.hasField("unit")).isFalse();
    });
    assertThat(read).extracting(r -> r.get("sensor").toString(), r -> r.get("value"))
        .containsExactly(tuple("s-1", 20.5),
            tuple("s-2", 21.0));
  }

  @Test
  void shouldGiveTheDefaultWhenANewerReaderReadsRecordsOfAnOlderWriter() {
    // Given a producer wrote records with v1, and v2 was registered after them
    KafkaIO.produce(devstack, topic, writer().serializer(), List.of(v1("s-1", 19.5)));
    registry.register(subject, V2);

    // When a consumer configured with reader schema v2 reads them
    List<GenericRecord> read = values(KafkaIO.consume(devstack, topic, reader(V2).deserializer(), 1));

    // Then it gets v2 records whose 'unit' is v2's default and whose other fields were written
    assertThat(registry.listVersions(subject)).containsExactly(1, 2);
    GenericRecord record = read.get(0);
    assertThat(record.getSchema()).isEqualTo(V2);
    assertThat(record.get("sensor").toString()).isEqualTo("s-1");
    assertThat(record.get("value")).isEqualTo(19.5);
    assertThat(record.get("unit").toString()).isEqualTo("celsius");
  }

  @Test
  void shouldRefuseToAutoRegisterATypeChangeWithTheRegistrys409() {
    // Given v1 and v2 are registered under BACKWARD
    registry.register(subject, V1);
    registry.register(subject, V2);
    GenericAvroSerde writer = writer();

    // When a serializer with auto-registration writes a record of v3, which makes 'value' a string
    GenericRecord v3 = new GenericRecordBuilder(V3).set("sensor", "s-1").set("value", "warm")
        .set("unit", "celsius").build();

    // Then it raises SerializationException caused by the registry's 409, and nothing is registered
    assertThatThrownBy(() -> writer.serializer().serialize(topic, v3))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining(topic)
        .hasMessageContaining(subject)
        .cause()
        .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
          assertThat(e.httpStatus()).isEqualTo(409);
          assertThat(e.isIncompatible()).isTrue();
        });
    assertThat(registry.listVersions(subject)).containsExactly(1, 2);
  }

  private GenericAvroSerde writer() {
    GenericAvroSerde serde = new GenericAvroSerde(KafkaIO.freshClient(devstack));
    serde.configure(Map.of(AvroSerdeConfig.AUTO_REGISTER_SCHEMAS, true), false);
    return serde;
  }

  /** A consumer's serde with its own client, configured with {@code readerSchema}. */
  private GenericAvroSerde reader(Schema readerSchema) {
    GenericAvroSerde serde = new GenericAvroSerde(KafkaIO.freshClient(devstack));
    serde.configure(Map.of(AvroSerdeConfig.READER_SCHEMA, readerSchema.toString()), false);
    return serde;
  }

  private static GenericRecord v1(String sensor, double value) {
    GenericData.Record record = new GenericData.Record(V1);
    record.put("sensor", sensor);
    record.put("value", value);
    return record;
  }

  private static GenericRecord v2(String sensor, double value, String unit) {
    return new GenericRecordBuilder(V2).set("sensor", sensor).set("value", value).set("unit", unit)
        .build();
  }

  private static List<GenericRecord> values(List<ConsumerRecord<String, GenericRecord>> records) {
    return records.stream().map(ConsumerRecord::value).toList();
  }
}
