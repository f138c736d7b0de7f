package dev.flywheel.ingest.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.ingest.json.Conversion;
import dev.flywheel.ingest.json.JsonToAvro;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.avro.Conversions;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

class JsonBatchTest {

  private static final Schema SCHEMA = new Schema.Parser().parse("""
      {"type": "record", "name": "Price", "namespace": "test", "fields": [
        {"name": "p", "type": {"type": "bytes", "logicalType": "decimal", "precision": 20, "scale": 2}},
        {"name": "n", "type": "long", "default": 0}
      ]}""");

  private static BigDecimal decimalOf(Conversion c) {
    assertThat(c.errors()).isEmpty();
    Schema p = SCHEMA.getField("p").schema();
    return new Conversions.DecimalConversion()
        .fromBytes((ByteBuffer) c.record().get("p"), p, (LogicalTypes.Decimal) p.getLogicalType());
  }

  @Test
  void shouldKeepEveryDigitOfADecimalInAJsonBody() throws Exception {
    // Given a JSON body whose decimal has more digits than a double holds
    byte[] body = "[{\"p\": 12345678901234567.89, \"n\": 9223372036854775807}]"
        .getBytes(StandardCharsets.UTF_8);

    // When it is split and converted
    List<JsonBatch.Item> items = JsonBatch.parseJson(body);
    Conversion c = JsonToAvro.convert(items.get(0).json(), SCHEMA);

    // Then the exact decimal arrives, and the long is intact
    assertThat(decimalOf(c)).isEqualTo(new BigDecimal("12345678901234567.89"));
    assertThat(c.record().get("n")).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void shouldKeepEveryDigitOfADecimalInAnNdjsonBody() throws Exception {
    // Given an NDJSON body whose decimal has more digits than a double holds
    byte[] body = "{\"p\": 12345678901234567.89}\n{\"p\": -98765432109876543.21}\n"
        .getBytes(StandardCharsets.UTF_8);

    // When it is split and converted
    List<JsonBatch.Item> items = JsonBatch.parseNdjson(body);

    // Then each exact decimal arrives
    assertThat(decimalOf(JsonToAvro.convert(items.get(0).json(), SCHEMA)))
        .isEqualTo(new BigDecimal("12345678901234567.89"));
    assertThat(decimalOf(JsonToAvro.convert(items.get(1).json(), SCHEMA)))
        .isEqualTo(new BigDecimal("-98765432109876543.21"));
  }
}
