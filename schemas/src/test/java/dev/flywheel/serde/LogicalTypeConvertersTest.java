package dev.flywheel.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.registry.InMemorySchemaRegistryClient;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.util.Utf8;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class LogicalTypeConvertersTest {

  private static final String TOPIC = "flywheel.data.payments";
  private static final Schema PAYMENT = TestSchemas.parse("""
      {"type": "record", "name": "Payment", "namespace": "dev.flywheel.test", "fields": [
        {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal",
                                    "precision": 10, "scale": 2}},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "at_micros", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "time", "type": {"type": "int", "logicalType": "time-millis"}},
        {"name": "local", "type": {"type": "long", "logicalType": "local-timestamp-millis"}},
        {"name": "note", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}],
         "default": null}]}""");
  private static final Map<String, String> CONVERTERS =
      Map.of(AvroSerdeConfig.USE_LOGICAL_TYPE_CONVERTERS, "true");

  private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();

  private static GenericRecord javaValues() {
    GenericRecord payment = new GenericData.Record(PAYMENT);
    payment.put("amount", new BigDecimal("12.34"));
    payment.put("at", Instant.parse("2026-03-01T12:00:00.123Z"));
    payment.put("at_micros", Instant.parse("2026-03-01T12:00:00.123456Z"));
    payment.put("id", UUID.fromString("123e4567-e89b-12d3-a456-426614174000"));
    payment.put("day", LocalDate.of(2026, 3, 1));
    payment.put("time", LocalTime.of(12, 0, 0, 123_000_000));
    payment.put("local", LocalDateTime.of(2026, 3, 1, 12, 0, 0, 123_000_000));
    payment.put("note", Instant.parse("2026-03-02T00:00:00Z"));
    return payment;
  }

  @Test
  void shouldRoundTripJavaLogicalValuesWhenConvertersAreOn() {
    // Given a generic serializer and deserializer with avro.use.logical.type.converters=true
    AvroSerializer<Object> serializer = new AvroSerializer<>(registry, CONVERTERS, false);
    AvroDeserializer<GenericRecord> deserializer =
        new AvroDeserializer<>(registry, CONVERTERS, false);
    GenericRecord payment = javaValues();

    // When a record holding BigDecimal, Instant, UUID, LocalDate, LocalTime and LocalDateTime
    // values goes through both
    GenericRecord back = deserializer.deserialize(TOPIC, serializer.serialize(TOPIC, payment));

    // Then the same Java values come back
    assertThat(back.get("amount")).isEqualTo(new BigDecimal("12.34"));
    assertThat(back.get("at")).isEqualTo(Instant.parse("2026-03-01T12:00:00.123Z"));
    assertThat(back.get("at_micros")).isEqualTo(Instant.parse("2026-03-01T12:00:00.123456Z"));
    assertThat(back.get("id")).isEqualTo(UUID.fromString("123e4567-e89b-12d3-a456-426614174000"));
    assertThat(back.get("day")).isEqualTo(LocalDate.of(2026, 3, 1));
    assertThat(back.get("time")).isEqualTo(LocalTime.of(12, 0, 0, 123_000_000));
    assertThat(back.get("local")).isEqualTo(LocalDateTime.of(2026, 3, 1, 12, 0, 0, 123_000_000));
    assertThat(back.get("note")).isEqualTo(Instant.parse("2026-03-02T00:00:00Z"));
  }

  @Test
  void shouldWriteJavaLogicalValuesAsTheAvroEncodingOfTheirPlainValues() {
    // Given the same payment once with Java values (converters on) and once with plain values
    AvroSerializer<Object> converting = new AvroSerializer<>(registry, CONVERTERS, false);
    AvroSerializer<Object> plain = new AvroSerializer<>(registry);
    byte[] fromJava = converting.serialize(TOPIC, javaValues());

    // When the plain values are read back without converters and written again
    GenericRecord plainValues = new AvroDeserializer<GenericRecord>(registry)
        .deserialize(TOPIC, fromJava);
    byte[] fromPlain = plain.serialize(TOPIC, plainValues);

    // Then both writes are byte for byte the same, and a converting writer takes plain values too
    assertThat(fromPlain).isEqualTo(fromJava);
    assertThat(converting.serialize(TOPIC, plainValues)).isEqualTo(fromJava);
  }

  @Test
  void shouldKeepPlainAvroValuesWhenConvertersAreOff() {
    // Given a payment written with converters on
    byte[] bytes = new AvroSerializer<>(registry, CONVERTERS, false).serialize(TOPIC, javaValues());

    // When it is read by a deserializer without the key (Confluent's default)
    GenericRecord back = new AvroDeserializer<GenericRecord>(registry, Map.of(), false)
        .deserialize(TOPIC, bytes);

    // Then logical types come as their underlying Avro values, as before
    assertThat(back.get("amount")).isInstanceOf(ByteBuffer.class);
    assertThat(back.get("at")).isEqualTo(Instant.parse("2026-03-01T12:00:00.123Z").toEpochMilli());
    assertThat(back.get("id")).isEqualTo(new Utf8("123e4567-e89b-12d3-a456-426614174000"));
    assertThat(back.get("day")).isEqualTo((int) LocalDate.of(2026, 3, 1).toEpochDay());
    assertThat(back.get("note")).isEqualTo(Instant.parse("2026-03-02T00:00:00Z").toEpochMilli());
  }

  @Test
  void shouldRefuseJavaLogicalValuesWhenConvertersAreOff() {
    // Given a serializer without the key (Confluent's default)
    AvroSerializer<Object> serializer = new AvroSerializer<>(registry, Map.of(), false);

    // When a record holding Java logical values is written, Then it fails as before
    assertThatThrownBy(() -> serializer.serialize(TOPIC, javaValues()))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("does not fit writer schema dev.flywheel.test.Payment");
  }

  @Test
  void shouldReadConvertersOnFromStringsAndBooleansAndOffByDefault() {
    // Given configs with the key as a string, as a boolean, and without it
    // Then it is read as Confluent's, defaulting to false
    assertThat(AvroSerdeConfig.of(CONVERTERS).useLogicalTypeConverters()).isTrue();
    assertThat(AvroSerdeConfig.of(Map.of(AvroSerdeConfig.USE_LOGICAL_TYPE_CONVERTERS, false))
        .useLogicalTypeConverters()).isFalse();
    assertThat(AvroSerdeConfig.defaults().useLogicalTypeConverters()).isFalse();
  }
}
