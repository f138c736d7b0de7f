package dev.flywheel.serde;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;

/** Schemas and records shared by the serde tests, and an independent reference encoder. */
final class TestSchemas {

  static final Schema USER_V1 = parse("""
      {"type": "record", "name": "User", "namespace": "dev.flywheel.test", "fields": [
        {"name": "id", "type": "string"},
        {"name": "age", "type": "int"}
      ]}""");

  /** V1 plus two fields with defaults: readable by V1 readers, and reads V1 data. */
  static final Schema USER_V2 = parse("""
      {"type": "record", "name": "User", "namespace": "dev.flywheel.test", "fields": [
        {"name": "id", "type": "string"},
        {"name": "age", "type": "int"},
        {"name": "email", "type": ["null", "string"], "default": null},
        {"name": "tier", "type": "string", "default": "basic"}
      ]}""");

  /** V1 with {@code age} as a string: neither reads the other. */
  static final Schema USER_INCOMPATIBLE = parse("""
      {"type": "record", "name": "User", "namespace": "dev.flywheel.test", "fields": [
        {"name": "id", "type": "string"},
        {"name": "age", "type": "string"}
      ]}""");

  static final Schema ALL_TYPES = parse("""
      {"type": "record", "name": "AllTypes", "namespace": "dev.flywheel.test", "fields": [
        {"name": "s", "type": "string"},
        {"name": "i", "type": "int"},
        {"name": "l", "type": "long"},
        {"name": "f", "type": "float"},
        {"name": "d", "type": "double"},
        {"name": "b", "type": "boolean"},
        {"name": "by", "type": "bytes"},
        {"name": "fx", "type": {"type": "fixed", "name": "Four", "size": 4}},
        {"name": "e", "type": {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN"]}},
        {"name": "a", "type": {"type": "array", "items": "long"}},
        {"name": "m", "type": {"type": "map", "values": "double"}},
        {"name": "u", "type": ["null", "string"]},
        {"name": "n", "type": {"type": "record", "name": "Nested", "fields": [
          {"name": "x", "type": "int"}]}}
      ]}""");

  private TestSchemas() {}

  static Schema parse(String json) {
    return new Schema.Parser().parse(json);
  }

  static GenericRecord userV1(String id, int age) {
    return new GenericRecordBuilder(USER_V1).set("id", id).set("age", age).build();
  }

  static GenericRecord userV2(String id, int age, String email, String tier) {
    return new GenericRecordBuilder(USER_V2).set("id", id).set("age", age).set("email", email)
        .set("tier", tier).build();
  }

  /** A record using every Avro type, with values that exercise multi-byte encodings. */
  static GenericRecord allTypes() {
    Schema fixed = ALL_TYPES.getField("fx").schema();
    Schema color = ALL_TYPES.getField("e").schema();
    Schema nested = ALL_TYPES.getField("n").schema();
    return new GenericRecordBuilder(ALL_TYPES)
        .set("s", "naïve café — ünïcödé and a long tail " + "x".repeat(200))
        .set("i", -123_456)
        .set("l", Long.MIN_VALUE + 7)
        .set("f", 3.25f)
        .set("d", -0.000123)
        .set("b", true)
        .set("by", ByteBuffer.wrap(new byte[] {0, 1, (byte) 0xff, 42}))
        .set("fx", new GenericData.Fixed(fixed, new byte[] {9, 8, 7, 6}))
        .set("e", new GenericData.EnumSymbol(color, "GREEN"))
        .set("a", List.of(1L, -1L, 1L << 40))
        .set("m", Map.of("alpha", 1.5, "beta", -2.0))
        .set("u", "present")
        .set("n", new GenericRecordBuilder(nested).set("x", 64).build())
        .build();
  }

  /** The Avro binary encoding of {@code datum}, made with Avro's own generic writer and encoder. */
  static byte[] avroBinary(Schema schema, Object datum) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    try {
      new GenericDatumWriter<>(schema).write(datum, encoder);
      encoder.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** Magic byte 0, {@code id} big-endian, then {@code body}. */
  static byte[] wire(int id, byte[] body) {
    return ByteBuffer.allocate(5 + body.length).put((byte) 0).putInt(id).put(body).array();
  }
}
