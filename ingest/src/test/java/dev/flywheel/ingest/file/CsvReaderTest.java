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
  void shouldReportAQuoteNeverClosedAndReadOnFromTheNextLine() throws IOException {
    // Given a stray quote on line 3, followed by good rows
    List<SourceLine> rows = readAll("id,note\na,ok\nb,\"never\r\nc,fine\nd,also\n");

    // Then its row ends with its line, and the rows after it are read
    assertThat(rows).extracting(SourceLine::lineNumber).containsExactly(2L, 3L, 4L, 5L);
    assertThat(rows.get(1).text()).isEqualTo("b,\"never");
    assertThat(rows.get(1).error()).isEqualTo("a quoted field opened on line 3 is never closed;"
        + " end it with '\"' and write a quote inside it as '\"\"' (the row is taken to end at"
        + " the end of line 3)");
    assertThat(rows.get(2).value().get("note").textValue()).isEqualTo("fine");
    assertThat(rows.get(3).value().get("note").textValue()).isEqualTo("also");
  }

  @Test
  void shouldEndAQuoteNotClosedWithinTheRowLimitAtItsLineAndReadOn() throws IOException {
    // Given a stray quote followed by more good rows than the row limit holds
    StringBuilder csv = new StringBuilder("id,note\na,\"oops,x\n");
    for (int i = 0; i < 1000; i++) {
      csv.append("r").append(i).append(",good\n");
    }

    // When it is read with rows of at most 100 characters
    List<SourceLine> rows = readAll(csv.toString().getBytes(StandardCharsets.UTF_8), 100);

    // Then the quote's row is invalid, and every row after it is read on its own line
    assertThat(rows).hasSize(1001);
    assertThat(rows.get(0).lineNumber()).isEqualTo(2L);
    assertThat(rows.get(0).text()).isEqualTo("a,\"oops,x");
    assertThat(rows.get(0).error()).isEqualTo("a quoted field opened on line 2 is not closed"
        + " within 100 characters, the most a row may have; end it with '\"' and write a quote"
        + " inside it as '\"\"' (the row is taken to end at the end of line 2)");
    assertThat(rows.subList(1, 1001)).allMatch(SourceLine::readable);
    assertThat(rows.get(1000).lineNumber()).isEqualTo(1002L);
    assertThat(rows.get(1000).value().get("id").textValue()).isEqualTo("r999");
  }

  @Test
  void shouldCutARowOverTheLimitWithoutALineBreakAndSkipItsLine() throws IOException {
    // Given a row of 300 characters on one line, then a good row
    String csv = "id,note\na," + "x".repeat(298) + "\nb,ok\n";

    // When it is read with rows of at most 100 characters
    List<SourceLine> rows = readAll(csv.getBytes(StandardCharsets.UTF_8), 100);

    // Then that row is cut to the limit and invalid, and the next row is read
    assertThat(rows).extracting(SourceLine::lineNumber).containsExactly(2L, 3L);
    assertThat(rows.get(0).text()).hasSize(100);
    assertThat(rows.get(0).error()).startsWith("the row on line 2 is over 100 characters");
    assertThat(rows.get(1).value().get("note").textValue()).isEqualTo("ok");
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

  @Test
  void shouldMakeARowWithBytesThatAreNotUtf8InvalidAndReadOn() throws IOException {
    // Given a row whose name is Latin-1, between two UTF-8 rows
    byte[] content = concat("id,note\na,ok\nb,M".getBytes(StandardCharsets.UTF_8),
        new byte[] {(byte) 0xFC}, "ller\nc,Müller\n".getBytes(StandardCharsets.UTF_8));

    // When it is read
    List<SourceLine> rows = readAll(content);

    // Then that row is invalid, naming its line, the byte and what to fix, and the next is read
    assertThat(rows).extracting(SourceLine::lineNumber).containsExactly(2L, 3L, 4L);
    assertThat(rows.get(0).readable()).isTrue();
    assertThat(rows.get(1).readable()).isFalse();
    assertThat(rows.get(1).error()).isEqualTo("line 3 is not UTF-8: byte 0xFC at column 4 cannot"
        + " be decoded; save the file as UTF-8 (for example iconv -f LATIN1 -t UTF-8)");
    assertThat(Utf8Input.bytes(rows.get(1).text()))
        .isEqualTo(concat("b,M".getBytes(StandardCharsets.UTF_8), new byte[] {(byte) 0xFC},
            "ller".getBytes(StandardCharsets.UTF_8)));
    assertThat(rows.get(2).value().get("note").textValue()).isEqualTo("Müller");
  }

  static byte[] concat(byte[]... parts) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  private static List<SourceLine> readAll(String content) throws IOException {
    return readAll(content.getBytes(StandardCharsets.UTF_8));
  }

  private static List<SourceLine> readAll(byte[] content) throws IOException {
    return readAll(content, CsvReader.DEFAULT_MAX_ROW_CHARS);
  }

  private static List<SourceLine> readAll(byte[] content, int maxRowChars) throws IOException {
    List<SourceLine> rows = new ArrayList<>();
    try (RecordReader reader = new CsvReader(new ByteArrayInputStream(content), SCHEMA,
        maxRowChars)) {
      for (SourceLine row = reader.next(); row != null; row = reader.next()) {
        rows.add(row);
      }
    }
    return rows;
  }
}
