package dev.flywheel.ingest.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.apache.avro.Conversions;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericFixed;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@SuppressWarnings("unchecked")
class JsonToAvroTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private static final Schema SCHEMA = new Schema.Parser().parse("""
      {"type": "record", "name": "Tx", "namespace": "test", "fields": [
        {"name": "id", "type": "string"},
        {"name": "n", "type": "int", "default": 7},
        {"name": "big", "type": "long", "default": 0},
        {"name": "ratio", "type": "float", "default": 0},
        {"name": "amount", "type": "double", "default": 0},
        {"name": "ok", "type": "boolean", "default": false},
        {"name": "blob", "type": "bytes", "default": ""},
        {"name": "hash", "type": {"type": "fixed", "name": "Hash4", "size": 4}, "default": "\\u0000\\u0000\\u0000\\u0000"},
        {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}, "default": 0},
        {"name": "ts_us", "type": {"type": "long", "logicalType": "timestamp-micros"}, "default": 0},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}, "default": 0},
        {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 6, "scale": 2}, "default": "\\u0000"},
        {"name": "fprice", "type": {"type": "fixed", "name": "Money", "size": 8, "logicalType": "decimal", "precision": 10, "scale": 2}, "default": "\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000"},
        {"name": "uid", "type": {"type": "string", "logicalType": "uuid"}, "default": "00000000-0000-0000-0000-000000000000"},
        {"name": "channel", "type": {"type": "enum", "name": "Channel", "symbols": ["WEB", "POS", "UNKNOWN"], "default": "UNKNOWN"}, "default": "WEB"},
        {"name": "note", "type": ["null", "string"], "default": null},
        {"name": "either", "type": ["null", "long", "string"], "default": null},
        {"name": "tags", "type": {"type": "array", "items": "string"}, "default": []},
        {"name": "attrs", "type": {"type": "map", "values": "double"}, "default": {}},
        {"name": "merchant", "type": ["null", {"type": "record", "name": "Merchant", "fields": [
          {"name": "name", "type": "string"},
          {"name": "country", "type": "string", "default": "US"}]}], "default": null},
        {"name": "lines", "type": {"type": "array", "items": {"type": "record", "name": "Line", "fields": [
          {"name": "sku", "type": "string"}, {"name": "qty", "type": "int"}]}}, "default": []}
      ]}""");

  private static JsonNode json(String text) {
    try {
      return JSON.readTree(text);
    } catch (Exception e) {
      throw new IllegalArgumentException(e);
    }
  }

  private static GenericRecord valid(String text) {
    Conversion c = JsonToAvro.convert(json(text), SCHEMA);
    assertThat(c.errors()).isEmpty();
    assertThat(c.valid()).isTrue();
    return c.record();
  }

  private static List<FieldError> errors(String text) {
    Conversion c = JsonToAvro.convert(json(text), SCHEMA);
    assertThat(c.valid()).isFalse();
    assertThat(c.record()).isNull();
    return c.errors();
  }

  private static FieldError onlyError(String text) {
    List<FieldError> errors = errors(text);
    assertThat(errors).hasSize(1);
    return errors.get(0);
  }

  @Test
  void shouldConvertPrimitives() {
    GenericRecord r = valid("""
        {"id": "a", "n": 42, "big": 9007199254740993, "ratio": 0.5, "amount": 12.25, "ok": true,
         "blob": "AQID", "hash": "AAECAw=="}""");

    assertThat(r.get("id")).isEqualTo("a");
    assertThat(r.get("n")).isEqualTo(42);
    assertThat(r.get("big")).isEqualTo(9007199254740993L);
    assertThat(r.get("ratio")).isEqualTo(0.5f);
    assertThat(r.get("amount")).isEqualTo(12.25d);
    assertThat(r.get("ok")).isEqualTo(true);
    assertThat(r.get("blob")).isEqualTo(ByteBuffer.wrap(new byte[] {1, 2, 3}));
    assertThat(((GenericFixed) r.get("hash")).bytes()).containsExactly(0, 1, 2, 3);
  }

  @Test
  void shouldAcceptIntegralNumbersForDoubleAndFloat() {
    GenericRecord r = valid("{\"id\": \"a\", \"amount\": 3, \"ratio\": 2}");

    assertThat(r.get("amount")).isEqualTo(3.0d);
    assertThat(r.get("ratio")).isEqualTo(2.0f);
  }

  @Test
  void shouldFillDefaultsForMissingFields() {
    GenericRecord r = valid("{\"id\": \"a\"}");

    assertThat(r.get("n")).isEqualTo(7);
    assertThat(r.get("note")).isNull();
    assertThat(r.get("channel").toString()).isEqualTo("WEB");
    assertThat((List<Object>) r.get("tags")).isEmpty();
    assertThat((Map<Object, Object>) r.get("attrs")).isEmpty();
    assertThat(GenericData.get().validate(SCHEMA, r)).isTrue();
  }

  @Test
  void shouldReadTimestampMillisFromEpochNumberOrIsoString() {
    assertThat(valid("{\"id\": \"a\", \"ts\": 1714558530123}").get("ts")).isEqualTo(1714558530123L);
    assertThat(valid("{\"id\": \"a\", \"ts\": \"2024-05-01T10:15:30.123Z\"}").get("ts"))
        .isEqualTo(Instant.parse("2024-05-01T10:15:30.123Z").toEpochMilli());
    assertThat(valid("{\"id\": \"a\", \"ts\": \"2024-05-01T12:15:30.123+02:00\"}").get("ts"))
        .isEqualTo(Instant.parse("2024-05-01T10:15:30.123Z").toEpochMilli());
  }

  @Test
  void shouldReadTimestampMicrosFromIsoString() {
    assertThat(valid("{\"id\": \"a\", \"ts_us\": \"1970-01-01T00:00:01.000002Z\"}").get("ts_us"))
        .isEqualTo(1_000_002L);
  }

  @Test
  void shouldRejectTimestampWithoutOffset() {
    FieldError e = onlyError("{\"id\": \"a\", \"ts\": \"2024-05-01 10:15\"}");

    assertThat(e.field()).isEqualTo("ts");
    assertThat(e.reason()).contains("ISO-8601").contains("timestamp-millis");
  }

  @Test
  void shouldReadDateFromIsoStringOrDays() {
    assertThat(valid("{\"id\": \"a\", \"day\": \"2024-05-01\"}").get("day"))
        .isEqualTo((int) LocalDate.parse("2024-05-01").toEpochDay());
    assertThat(valid("{\"id\": \"a\", \"day\": 19844}").get("day")).isEqualTo(19844);
    assertThat(onlyError("{\"id\": \"a\", \"day\": \"01/05/2024\"}").reason())
        .contains("yyyy-MM-dd");
  }

  @Test
  void shouldReadDecimalFromNumberOrString() {
    GenericRecord r = valid("{\"id\": \"a\", \"price\": 12.5, \"fprice\": \"-1234.56\"}");

    LogicalTypes.Decimal price = (LogicalTypes.Decimal) SCHEMA.getField("price").schema()
        .getLogicalType();
    Schema money = SCHEMA.getField("fprice").schema();
    Conversions.DecimalConversion decimals = new Conversions.DecimalConversion();
    assertThat(decimals.fromBytes((ByteBuffer) r.get("price"), null, price))
        .isEqualTo(new BigDecimal("12.50"));
    assertThat(decimals.fromFixed((GenericFixed) r.get("fprice"), money, money.getLogicalType()))
        .isEqualTo(new BigDecimal("-1234.56"));
  }

  @Test
  void shouldRejectDecimalWithTooManyDecimalPlaces() {
    FieldError e = onlyError("{\"id\": \"a\", \"price\": 1.234}");

    assertThat(e.field()).isEqualTo("price");
    assertThat(e.reason()).isEqualTo("has 3 decimal places; decimal(6,2) allows 2");
  }

  @Test
  void shouldRejectDecimalWithTooManyDigits() {
    assertThat(onlyError("{\"id\": \"a\", \"price\": \"12345.6\"}").reason())
        .isEqualTo("has 5 digits before the decimal point; decimal(6,2) allows 4");
  }

  @Test
  void shouldRejectDecimalThatIsNotANumber() {
    assertThat(onlyError("{\"id\": \"a\", \"price\": \"12,50\"}").reason())
        .startsWith("expected a decimal number");
    assertThat(onlyError("{\"id\": \"a\", \"price\": true}").reason())
        .startsWith("expected a decimal number");
  }

  @Test
  void shouldCheckUuidForm() {
    assertThat(valid("{\"id\": \"a\", \"uid\": \"123e4567-e89b-12d3-a456-426614174000\"}")
        .get("uid")).isEqualTo("123e4567-e89b-12d3-a456-426614174000");
    FieldError e = onlyError("{\"id\": \"a\", \"uid\": \"not-a-uuid\"}");
    assertThat(e.field()).isEqualTo("uid");
    assertThat(e.reason()).contains("UUID");
  }

  @Test
  void shouldConvertEnumSymbolsAndRejectOthersListingTheSymbols() {
    assertThat(valid("{\"id\": \"a\", \"channel\": \"POS\"}").get("channel"))
        .isEqualTo(new GenericData.EnumSymbol(SCHEMA.getField("channel").schema(), "POS"));
    FieldError e = onlyError("{\"id\": \"a\", \"channel\": \"ATM\"}");
    assertThat(e.field()).isEqualTo("channel");
    assertThat(e.reason()).contains("[WEB, POS, UNKNOWN]").contains("\"ATM\"");
  }

  @Test
  void shouldConvertNullableUnionFromPlainValueOrAvroJsonBranch() {
    assertThat(valid("{\"id\": \"a\", \"note\": \"hi\"}").get("note")).isEqualTo("hi");
    assertThat(valid("{\"id\": \"a\", \"note\": {\"string\": \"hi\"}}").get("note"))
        .isEqualTo("hi");
    assertThat(valid("{\"id\": \"a\", \"note\": null}").get("note")).isNull();
    GenericRecord nested = valid(
        "{\"id\": \"a\", \"merchant\": {\"test.Merchant\": {\"name\": \"acme\"}}}");
    assertThat(((GenericRecord) nested.get("merchant")).get("name")).isEqualTo("acme");
  }

  @Test
  void shouldPickTheFirstMatchingBranchOfAWiderUnion() {
    assertThat(valid("{\"id\": \"a\", \"either\": 5}").get("either")).isEqualTo(5L);
    assertThat(valid("{\"id\": \"a\", \"either\": \"five\"}").get("either")).isEqualTo("five");
    FieldError e = onlyError("{\"id\": \"a\", \"either\": 1.5}");
    assertThat(e.field()).isEqualTo("either");
    assertThat(e.reason()).contains("matches none of [null, long, string]");
  }

  private static final Schema TEXT_OR_MAP = new Schema.Parser().parse("""
      {"type": "record", "name": "Doc", "namespace": "test", "fields": [
        {"name": "labels", "type": ["null", "string", {"type": "map", "values": "string"}],
         "default": null},
        {"name": "counts", "type": ["null", "string", {"type": "map", "values": "int"}],
         "default": null}
      ]}""");

  private static Object convertedField(String text, String field) {
    Conversion c = JsonToAvro.convert(json(text), TEXT_OR_MAP);
    assertThat(c.errors()).isEmpty();
    return c.record().get(field);
  }

  @Test
  void shouldTakeAnObjectNamingABranchAsTheMapWhenTheUnionsMapTakesIt() {
    // Given a union of null, string and a map of strings, and the object {"string": "x"},
    // which is both a map with the key "string" and Avro JSON's encoding of the string "x"
    String body = "{\"labels\": {\"string\": \"x\"}}";

    // When it is converted
    Object labels = convertedField(body, "labels");

    // Then it is the map, as any object that fits the union's map
    assertThat(labels).isEqualTo(Map.of("string", "x"));
  }

  @Test
  void shouldTakeAnObjectNamingABranchAsAvroJsonWhenNoMapOrRecordTakesIt() {
    // Given a union of null, string and a map of ints, and the object {"string": "x"}, which
    // the map cannot take ("x" is no int)
    String body = "{\"counts\": {\"string\": \"x\"}}";

    // When it is converted
    Object counts = convertedField(body, "counts");

    // Then it is Avro JSON's encoding of the string branch
    assertThat(counts).isEqualTo("x");
  }

  @Test
  void shouldTakeTheStringAndTheMapOfAStringOrMapUnionInTheirUnambiguousForms() {
    // Given a union of null, string and a map of strings
    // When the string comes plain and the map in Avro JSON's encoding of its branch
    // Then each is its branch's value
    assertThat(convertedField("{\"labels\": \"x\"}", "labels")).isEqualTo("x");
    assertThat(convertedField("{\"labels\": {\"map\": {\"string\": \"x\"}}}", "labels"))
        .isEqualTo(Map.of("string", "x"));
  }

  @Test
  void shouldRejectNullForNonNullableField() {
    FieldError e = onlyError("{\"id\": null}");

    assertThat(e).isEqualTo(new FieldError("id", "is null but must be string"));
  }

  @Test
  void shouldConvertNestedRecordsArraysAndMaps() {
    GenericRecord r = valid("""
        {"id": "a", "tags": ["x", "y"], "attrs": {"k": 1.5},
         "merchant": {"name": "acme"}, "lines": [{"sku": "s1", "qty": 2}]}""");

    assertThat((List<Object>) r.get("tags")).containsExactly("x", "y");
    assertThat((Map<Object, Object>) r.get("attrs")).containsEntry("k", 1.5);
    GenericRecord merchant = (GenericRecord) r.get("merchant");
    assertThat(merchant.get("country")).hasToString("US");
    assertThat(((GenericRecord) ((List<Object>) r.get("lines")).get(0)).get("qty")).isEqualTo(2);
    assertThat(GenericData.get().validate(SCHEMA, r)).isTrue();
  }

  @Test
  void shouldCollectEveryErrorWithItsPath() {
    List<FieldError> errors = errors("""
        {"n": "seven", "big": 1.5, "ok": "yes", "tags": ["x", 3], "attrs": {"k": "v"},
         "merchant": {"country": 1}, "lines": [{"sku": "s"}], "extra": 1}""");

    assertThat(errors).extracting(FieldError::field).containsExactly(
        "id", "n", "big", "ok", "tags[1]", "attrs[k]", "merchant.name", "merchant.country",
        "lines[0].qty", "extra");
    assertThat(errors).extracting(FieldError::reason).containsExactly(
        "is required (string) and has no default",
        "expected an int, got a string \"seven\"",
        "expected a long, got a number 1.5",
        "expected a boolean, got a string \"yes\"",
        "expected a string, got a number 3",
        "expected a number, got a string \"v\"",
        "is required (string) and has no default",
        "expected a string, got a number 1",
        "is required (int) and has no default",
        "is not a field of test.Tx");
  }

  @Test
  void shouldRejectNumbersOutOfRange() {
    assertThat(onlyError("{\"id\": \"a\", \"n\": 2147483648}").reason())
        .isEqualTo("is 2147483648, out of the int range");
    assertThat(onlyError("{\"id\": \"a\", \"big\": 9223372036854775808}").reason())
        .isEqualTo("is 9223372036854775808, out of the long range");
    assertThat(onlyError("{\"id\": \"a\", \"ratio\": 1e39}").reason())
        .contains("out of the float range");
  }

  @Test
  void shouldRejectWrongContainerTypes() {
    assertThat(onlyError("{\"id\": \"a\", \"tags\": \"x\"}").reason())
        .isEqualTo("expected an array, got a string \"x\"");
    assertThat(onlyError("{\"id\": \"a\", \"attrs\": []}").reason())
        .isEqualTo("expected an object (map), got an array");
    assertThat(onlyError("{\"id\": \"a\", \"lines\": [1]}"))
        .isEqualTo(new FieldError("lines[0]", "expected an object (record Line), got a number 1"));
  }

  @Test
  void shouldRejectBadBytesAndFixed() {
    assertThat(onlyError("{\"id\": \"a\", \"blob\": \"***\"}").reason())
        .startsWith("is not valid base64");
    assertThat(onlyError("{\"id\": \"a\", \"blob\": 5}").reason())
        .isEqualTo("expected base64 text, got a number 5");
    assertThat(onlyError("{\"id\": \"a\", \"hash\": \"AQI=\"}").reason())
        .isEqualTo("is 2 bytes; fixed test.Hash4 needs exactly 4");
  }

  @Test
  void shouldRejectANonObjectRecordAtTheRoot() {
    assertThat(onlyError("[1, 2]")).isEqualTo(
        new FieldError(FieldError.ROOT, "expected an object (record Tx), got an array"));
  }

  @Test
  void shouldRefuseANonRecordSchema() {
    assertThatThrownBy(() -> JsonToAvro.convert(json("1"), Schema.create(Schema.Type.INT)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("record schemas");
  }

  // a guard against the hang these values once caused (building a 415 MB number), not a speed
  // measurement: the limit is generous
  @Test
  @Timeout(30)
  void shouldRejectAHugeExponentInADecimalStringWithoutExpandingIt() {
    FieldError e = onlyError("{\"id\": \"a\", \"fprice\": \"1e999999999\"}");

    assertThat(e.field()).isEqualTo("fprice");
    assertThat(e.reason())
        .isEqualTo("has 1000000000 digits before the decimal point; decimal(10,2) allows 8");
  }

  @Test
  @Timeout(30)
  void shouldRejectAJsonNumberTooLargeForADoubleAsOutOfRange() {
    FieldError e = onlyError("{\"id\": \"a\", \"fprice\": 1e400}");

    assertThat(e.field()).isEqualTo("fprice");
    assertThat(e.reason()).isEqualTo("is out of range for decimal(10,2)");
  }

  @Test
  @Timeout(30)
  void shouldRejectAJsonNumberTooLargeForADoubleReadAsBigDecimal() throws Exception {
    // Given the file producer's parser, which keeps floats as BigDecimal
    JsonNode record = new ObjectMapper()
        .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
        .readTree("{\"id\": \"a\", \"fprice\": 1e400}");

    // When it is converted
    Conversion c = JsonToAvro.convert(record, SCHEMA);

    // Then the number is one error, not a 400-digit value
    assertThat(c.errors()).singleElement().satisfies(e -> {
      assertThat(e.field()).isEqualTo("fprice");
      assertThat(e.reason())
          .isEqualTo("has 401 digits before the decimal point; decimal(10,2) allows 8");
    });
  }
}
