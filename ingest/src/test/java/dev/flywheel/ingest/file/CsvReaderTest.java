package dev.flywheel.ingest.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

class CsvReaderTest {

  private static final Schema SCHEMA = new Schema.Parser().parse("""
      {"type": "record", "name": "Tx", "namespace": "test", "fields": [
        {"name": "id", "type": "string"},
        {"name": "count", "type": "int"},
        {"name": "amount", "type": "double"},
        {"name": "big", "type": "long", "default": 0},
        {"name": "flag", "type": "boolean"},
        {"name": "note", "type": ["null", "string"], "default": null},
        {"name": "score", "type": ["null", "float"], "default": null},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "price", "type": {"type": "bytes", "logicalType": "decimal",
                                   "precision": 10, "scale": 2}},
        {"name": "tags", "type": {"type": "array", "items": "string"}, "default": []},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B"]}}
      ]}""");

  @Test
  void shouldTypeCellsByTheirFieldsSchema() throws IOException {
    List<SourceLine> rows = readAll("""
        id,count,amount,big,flag,note,score,at,price,tags,kind
        x1,42,12.50,9000000000,TRUE,hello,0.5,1700000000000,19.99,"[""a"",""b""]",B
        """);

    JsonNode row = rows.get(0).value();
    assertThat(row.get("id").isTextual()).isTrue();
    assertThat(row.get("count").isInt()).isTrue();
    assertThat(row.get("count").intValue()).isEqualTo(42);
    assertThat(row.get("amount").decimalValue()).isEqualByComparingTo("12.50");
    assertThat(row.get("big").isLong()).isTrue();
    assertThat(row.get("big").longValue()).isEqualTo(9_000_000_000L);
    assertThat(row.get("flag").isBoolean()).isTrue();
    assertThat(row.get("flag").booleanValue()).isTrue();
    assertThat(row.get("note").textValue()).isEqualTo("hello");
    assertThat(row.get("score").isNumber()).isTrue();
    assertThat(row.get("at").longValue()).isEqualTo(1_700_000_000_000L);
    assertThat(row.get("price").decimalValue()).isEqualByComparingTo("19.99");
    assertThat(row.get("tags").isArray()).isTrue();
    assertThat(row.get("tags").get(1).textValue()).isEqualTo("b");
    assertThat(row.get("kind").textValue()).isEqualTo("B");
  }

  @Test
  void shouldMakeEmptyCellsNullWhenNullableAbsentWhenNotAndEmptyForStrings() throws IOException {
    List<SourceLine> rows = readAll("""
        id,count,big,note,score
        ,1,,,
        """);

    JsonNode row = rows.get(0).value();
    assertThat(row.get("id").textValue()).isEmpty();
    assertThat(row.has("big")).isFalse();
    assertThat(row.get("note").isNull()).isTrue();
    assertThat(row.get("score").isNull()).isTrue();
  }

  @Test
  void shouldLeaveTextThatFitsNoTypeAsTextForTheConversionToReport() throws IOException {
    List<SourceLine> rows = readAll("""
        id,count,flag,at
        x,12abc,yes,2024-01-02T03:04:05Z
        """);

    JsonNode row = rows.get(0).value();
    assertThat(row.get("count").textValue()).isEqualTo("12abc");
    assertThat(row.get("flag").textValue()).isEqualTo("yes");
    assertThat(row.get("at").textValue()).isEqualTo("2024-01-02T03:04:05Z");
  }

  @Test
  void shouldReadQuotedCellsWithCommasQuotesAndLineBreaks() throws IOException {
    List<SourceLine> rows = readAll(
        "id,note\r\n"
            + "a,\"one, two\"\r\n"
            + "b,\"she said \"\"hi\"\"\"\r\n"
            + "c,\"first\r\nsecond\nthird\"\r\n"
            + "d,plain\r\n");

    assertThat(rows).extracting(r -> r.value().get("note").textValue()).containsExactly(
        "one, two", "she said \"hi\"", "first\r\nsecond\nthird", "plain");
    assertThat(rows).extracting(SourceLine::lineNumber).containsExactly(2L, 3L, 4L, 7L);
    assertThat(rows.get(2).text()).isEqualTo("c,\"first\r\nsecond\nthird\"");
  }

  @Test
  void shouldReadTheLastRowWithoutALineBreakAndSkipBlankLines() throws IOException {
    List<SourceLine> rows = readAll("\uFEFFid,note\n\na,x\n\nb,y");

    assertThat(rows).extracting(r -> r.value().get("id").textValue()).containsExactly("a", "b");
    assertThat(rows).extracting(SourceLine::lineNumber).containsExactly(3L, 5L);
  }

  @Test
  void shouldKeepAnEmptyLastCellAfterATrailingComma() throws IOException {
    List<SourceLine> rows = readAll("id,note\na,\n");

    assertThat(rows.get(0).value().get("note").isNull()).isTrue();
  }

  @Test
  void shouldReportARowWithTheWrongNumberOfCellsAndCarryOn() throws IOException {
    List<SourceLine> rows = readAll("id,note\na,x,extra\nb\nc,z\n");

    assertThat(rows.get(0).error()).isEqualTo(
        "row has 3 cells but the header has 2 columns [id, note]");
    assertThat(rows.get(0).text()).isEqualTo("a,x,extra");
    assertThat(rows.get(1).error()).isEqualTo(
        "row has 1 cell but the header has 2 columns [id, note]");
    assertThat(rows.get(2).value().get("id").textValue()).isEqualTo("c");
  }

  @Test
  void shouldReportAQuoteInsideAnUnquotedCell() throws IOException {
    List<SourceLine> rows = readAll("id,note\na,say \"hi\"\nb,ok\n");

    assertThat(rows.get(0).error()).startsWith("cell 2 has a '\"' but does not start with one");
    assertThat(rows.get(1).readable()).isTrue();
  }

  @Test
  void shouldReportTextAfterAClosingQuote() throws IOException {
    List<SourceLine> rows = readAll("id,note\na,\"hi\"x\nb,ok\n");

    assertThat(rows.get(0).error()).startsWith("cell 2 has 'x' after its closing quote");
    assertThat(rows.get(1).lineNumber()).isEqualTo(3L);
  }

  @Test
  void shouldReportAQuoteNeverClosed() throws IOException {
    List<SourceLine> rows = readAll("id,note\na,ok\nb,\"never\nclosed\n");

    assertThat(rows).hasSize(2);
    assertThat(rows.get(1).lineNumber()).isEqualTo(3L);
    assertThat(rows.get(1).error())
        .startsWith("a quoted field opened on line 3 is never closed");
  }

  @Test
  void shouldPassColumnsTheSchemaDoesNotNameAsText() throws IOException {
    List<SourceLine> rows = readAll("id,extra\na,7\n");

    assertThat(rows.get(0).value().get("extra").textValue()).isEqualTo("7");
  }

  @Test
  void shouldRefuseAFileWithoutHeader() {
    assertThatThrownBy(() -> readAll(""))
        .isInstanceOf(MalformedFileException.class)
        .hasMessageContaining("header naming the columns");
  }

  @Test
  void shouldRefuseAHeaderNamingAColumnTwice() {
    assertThatThrownBy(() -> readAll("id,note,id\na,b,c\n"))
        .isInstanceOf(MalformedFileException.class)
        .hasMessageContaining("names column 'id' twice");
  }

  @Test
  void shouldRefuseAHeaderWithAnUnnamedColumn() {
    assertThatThrownBy(() -> readAll("id,,note\na,b,c\n"))
        .isInstanceOf(MalformedFileException.class)
        .hasMessageContaining("column 2 of the CSV header on line 1 has no name");
  }

  private static List<SourceLine> readAll(String content) throws IOException {
    List<SourceLine> rows = new ArrayList<>();
    try (RecordReader reader = new CsvReader(
        new ByteArrayInputStream(content.getBytes(StandardCharsets.UTF_8)), SCHEMA)) {
      for (SourceLine row = reader.next(); row != null; row = reader.next()) {
        rows.add(row);
      }
    }
    return rows;
  }
}
