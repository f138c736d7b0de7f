package dev.flywheel.ingest.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;

class SourceDefinitionTest {

  static final Schema TX = new Schema.Parser().parse("""
      {"type": "record", "name": "Tx", "namespace": "test", "fields": [
        {"name": "card_id", "type": "string"},
        {"name": "seq", "type": "long"},
        {"name": "event_time", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "event_us", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "channel", "type": {"type": "enum", "name": "Channel", "symbols": ["WEB", "POS"]}},
        {"name": "amount", "type": "double"},
        {"name": "note", "type": ["null", "string"], "default": null},
        {"name": "maybe_time", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}], "default": null}
      ]}""");

  private static SourceDefinition.Builder tx() {
    return SourceDefinition.builder("card-tx").schema(TX).keyField("card_id")
        .timeField("event_time");
  }

  @Test
  void shouldBuildAValidSource() {
    SourceDefinition source = tx().bearerToken("s3cret").build();

    assertThat(source.name()).isEqualTo("card-tx");
    assertThat(source.keyField()).isEqualTo("card_id");
    assertThat(source.timeField()).isEqualTo("event_time");
    assertThat(source.bearerToken()).contains("s3cret");
    assertThat(source.toString()).doesNotContain("s3cret");
  }

  @Test
  void shouldAcceptIntLongAndEnumKeys() {
    assertThat(tx().keyField("seq").build().keyField()).isEqualTo("seq");
    assertThat(tx().keyField("channel").build().keyField()).isEqualTo("channel");
  }

  @Test
  void shouldNameTheMissingKeyFieldAndTheSchema() {
    assertThatThrownBy(() -> tx().keyField("card").build())
        .isInstanceOf(InvalidSourceException.class)
        .hasMessageContaining("key field 'card' is not a field of schema test.Tx")
        .hasMessageContaining("card_id");
  }

  @Test
  void shouldRefuseANullableKey() {
    assertThatThrownBy(() -> tx().keyField("note").build())
        .hasMessageContaining("key field 'note' of schema test.Tx is nullable");
  }

  @Test
  void shouldRefuseAKeyOfAnUnusableType() {
    assertThatThrownBy(() -> tx().keyField("amount").build())
        .hasMessageContaining("key field 'amount' of schema test.Tx is double; a key must be a"
            + " string, int, long or enum");
  }

  @Test
  void shouldRefuseATimeFieldThatIsNotALongTimestamp() {
    assertThatThrownBy(() -> tx().timeField("day").build())
        .hasMessageContaining("time field 'day' of schema test.Tx is int (date)");
    assertThatThrownBy(() -> tx().timeField("card_id").build())
        .hasMessageContaining("time field 'card_id' of schema test.Tx is string");
    assertThatThrownBy(() -> tx().timeField("maybe_time").build())
        .hasMessageContaining("time field 'maybe_time'").hasMessageContaining("not nullable");
  }

  @Test
  void shouldListEveryProblemAtOnce() {
    InvalidSourceException e = (InvalidSourceException) org.assertj.core.api.Assertions
        .catchThrowable(() -> SourceDefinition.builder("bad name").schema(TX).keyField("nope")
            .timeField("also_nope").build());

    assertThat(e.problems()).hasSize(3);
    assertThat(e.problems().get(0)).contains("contains ' ' at index 3");
    assertThat(e.problems().get(1)).contains("key field 'nope'");
    assertThat(e.problems().get(2)).contains("time field 'also_nope'");
  }

  @Test
  void shouldRefuseMissingFieldsAndNonRecordSchemas() {
    assertThatThrownBy(() -> SourceDefinition.builder("s").schema(TX).build())
        .hasMessageContaining("the key field is missing")
        .hasMessageContaining("the time field is missing");
    assertThatThrownBy(() -> SourceDefinition.builder("s").keyField("a").timeField("b").build())
        .hasMessageContaining("the schema is missing");
    assertThatThrownBy(() -> SourceDefinition.builder("s").schema(Schema.create(Schema.Type.LONG))
        .keyField("a").timeField("b").build())
        .hasMessageContaining("schema long is a long; a source schema must be a record");
  }

  @Test
  void shouldRefuseNamesThatMakeNoTopic() {
    assertThatThrownBy(() -> SourceDefinition.builder("x.dlq").schema(TX).keyField("card_id")
        .timeField("event_time").build()).hasMessageContaining("reserved for dead-letter topics");
    assertThatThrownBy(() -> SourceDefinition.builder(".x").schema(TX).keyField("card_id")
        .timeField("event_time").build()).hasMessageContaining("cannot start or end with '.'");
  }

  @Test
  void shouldKeyAndTimestampRecords() {
    SourceDefinition source = tx().build();
    GenericRecord record = new GenericData.Record(TX);
    record.put("card_id", "c-1");
    record.put("event_time", 1_700_000_000_123L);
    record.put("event_us", 1_700_000_000_123_456L);

    assertThat(source.keyOf(record)).isEqualTo("c-1");
    assertThat(source.timestampOf(record)).isEqualTo(1_700_000_000_123L);
    assertThat(tx().timeField("event_us").build().timestampOf(record))
        .isEqualTo(1_700_000_000_123L);
  }

  @Test
  void shouldRefuseANegativeEventTime() {
    GenericRecord record = new GenericData.Record(TX);
    record.put("event_time", -5L);

    assertThatThrownBy(() -> tx().build().timestampOf(record))
        .hasMessageContaining("before 1970");
  }

  @Test
  void shouldAuthorizeOnlyTheExactBearerToken() {
    SourceDefinition guarded = tx().bearerToken("s3cret").build();

    assertThat(guarded.authorizes("Bearer s3cret")).isTrue();
    assertThat(guarded.authorizes("bearer s3cret")).isTrue();
    assertThat(guarded.authorizes("Bearer wrong")).isFalse();
    assertThat(guarded.authorizes("Basic s3cret")).isFalse();
    assertThat(guarded.authorizes(null)).isFalse();
    assertThat(tx().build().authorizes(null)).isTrue();
  }

  @Test
  void shouldCheckAgainWithANewSchema() {
    Schema without = new Schema.Parser().parse("""
        {"type": "record", "name": "Tx", "namespace": "test", "fields": [
          {"name": "event_time", "type": "long"}]}""");

    assertThatThrownBy(() -> tx().build().withSchema(without))
        .hasMessageContaining("key field 'card_id' is not a field of schema test.Tx");
  }
}
