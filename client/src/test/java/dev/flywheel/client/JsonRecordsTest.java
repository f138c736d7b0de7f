package dev.flywheel.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;

@SuppressWarnings("unchecked")
class JsonRecordsTest {

  private static final Schema SCHEMA = new Schema.Parser().parse("""
      {"type": "record", "name": "Order", "namespace": "client.test", "fields": [
        {"name": "id", "type": "string"},
        {"name": "qty", "type": "int"},
        {"name": "price", "type": "double"},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "note", "type": ["null", "string"], "default": null},
        {"name": "channel", "type": {"type": "enum", "name": "Channel",
          "symbols": ["WEB", "SHOP"]}, "default": "WEB"},
        {"name": "tags", "type": {"type": "array", "items": "string"}, "default": []},
        {"name": "attrs", "type": {"type": "map", "values": "long"}, "default": {}},
        {"name": "blob", "type": ["null", "bytes"], "default": null},
        {"name": "day", "type": ["null", {"type": "int", "logicalType": "date"}], "default": null}
      ]}""");

  @Test
  void shouldConvertJsonAsAPersonWritesIt() {
    GenericRecord r = JsonRecords.parse("""
        {"id": "o-1", "qty": 3, "price": 9.5, "at": "2026-11-23T10:00:00Z", "note": "gift",
         "channel": "SHOP", "tags": ["a", "b"], "attrs": {"k": 7}, "blob": "AQI=",
         "day": "2026-11-23"}""", SCHEMA);

    assertThat(r.get("id")).isEqualTo("o-1");
    assertThat(r.get("qty")).isEqualTo(3);
    assertThat(r.get("price")).isEqualTo(9.5);
    assertThat(r.get("at")).isEqualTo(Instant.parse("2026-11-23T10:00:00Z").toEpochMilli());
    assertThat(r.get("note")).isEqualTo("gift");
    assertThat(r.get("channel").toString()).isEqualTo("SHOP");
    assertThat((List<Object>) r.get("tags")).containsExactly("a", "b");
    assertThat((Map<Object, Object>) r.get("attrs")).containsEntry("k", 7L);
    assertThat(r.get("blob")).isEqualTo(ByteBuffer.wrap(new byte[] {1, 2}));
    assertThat(r.get("day")).isEqualTo(20_780);
    assertThat(GenericData.get().validate(SCHEMA, r)).isTrue();
  }

  @Test
  void shouldGiveMissingFieldsTheirDefaultsAndAcceptAvroUnionForm() {
    GenericRecord r = JsonRecords.parse("""
        {"id": "o-2", "qty": 1, "price": 1, "at": 1700000000000, "note": {"string": "x"}}""",
        SCHEMA);

    assertThat(r.get("note")).isEqualTo("x");
    assertThat(r.get("channel").toString()).isEqualTo("WEB");
    assertThat((List<?>) r.get("tags")).isEmpty();
    assertThat(r.get("blob")).isNull();
    assertThat(GenericData.get().validate(SCHEMA, r)).isTrue();
  }

  @Test
  void shouldNameTheFieldAndWhatItExpects() {
    assertThatThrownBy(() -> JsonRecords.parse("""
        {"id": "o-3", "qty": 1.5, "price": 1, "at": 0}""", SCHEMA))
        .hasMessage("field 'qty' must be an int, not 1.5");
    assertThatThrownBy(() -> JsonRecords.parse("""
        {"id": "o-3", "qty": 1, "price": 1, "at": 0, "channel": "MAIL"}""", SCHEMA))
        .hasMessage("field 'channel' must be one of [WEB, SHOP], not \"MAIL\"");
    assertThatThrownBy(() -> JsonRecords.parse("""
        {"id": "o-3", "qty": 1, "price": 1, "at": 0, "colour": "red"}""", SCHEMA))
        .hasMessageStartingWith("field 'colour' is not in schema client.test.Order");
    assertThatThrownBy(() -> JsonRecords.parse("""
        {"qty": 1, "price": 1, "at": 0}""", SCHEMA))
        .hasMessage("field 'id' is required by client.test.Order and has no default");
    assertThatThrownBy(() -> JsonRecords.parse("[1]", SCHEMA))
        .hasMessage("the record must be a JSON object of the fields of client.test.Order");
  }
}
