package dev.flywheel.ingest.file;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class JsonLinesReaderTest {

  @Test
  void shouldReadOneObjectPerLineWithItsLineNumberAndText() throws IOException {
    List<SourceLine> lines = readAll("{\"id\":\"a\",\"n\":1}\n{\"id\":\"b\",\"n\":2.5}\n");

    assertThat(lines).extracting(SourceLine::lineNumber).containsExactly(1L, 2L);
    assertThat(lines).extracting(SourceLine::text)
        .containsExactly("{\"id\":\"a\",\"n\":1}", "{\"id\":\"b\",\"n\":2.5}");
    assertThat(lines.get(0).value().get("id").asText()).isEqualTo("a");
    assertThat(lines.get(1).value().get("n").decimalValue()).isEqualByComparingTo("2.5");
  }

  @Test
  void shouldSkipBlankLinesButKeepCountingThem() throws IOException {
    List<SourceLine> lines = readAll("\n{\"id\":\"a\"}\r\n   \r\n\r\n{\"id\":\"b\"}");

    assertThat(lines).extracting(SourceLine::lineNumber).containsExactly(2L, 5L);
    assertThat(lines).allMatch(SourceLine::readable);
  }

  @Test
  void shouldReportMalformedJsonAndCarryOn() throws IOException {
    List<SourceLine> lines = readAll("{\"id\":\"a\"\n{\"id\":\"b\"}\n");

    assertThat(lines.get(0).readable()).isFalse();
    assertThat(lines.get(0).error()).startsWith("not valid JSON");
    assertThat(lines.get(0).text()).isEqualTo("{\"id\":\"a\"");
    assertThat(lines.get(1).readable()).isTrue();
  }

  @Test
  void shouldRejectTrailingTokensAfterTheObject() throws IOException {
    List<SourceLine> lines = readAll("{\"id\":\"a\"} {\"id\":\"b\"}\n");

    assertThat(lines.get(0).error()).startsWith("not valid JSON");
  }

  @Test
  void shouldRejectJsonThatIsNotAnObject() throws IOException {
    List<SourceLine> lines = readAll("[1,2]\n42\n\"x\"\n");

    assertThat(lines).extracting(SourceLine::error).containsExactly(
        "expected a JSON object per line, got an array",
        "expected a JSON object per line, got a number",
        "expected a JSON object per line, got a string");
  }

  @Test
  void shouldIgnoreAByteOrderMark() throws IOException {
    List<SourceLine> lines = readAll("\uFEFF{\"id\":\"a\"}\n");

    assertThat(lines.get(0).value().get("id").asText()).isEqualTo("a");
  }

  @Test
  void shouldCountBytesReadForProgress() throws IOException {
    byte[] bytes = "{\"id\":\"é\"}\n".getBytes(StandardCharsets.UTF_8);
    try (RecordReader reader = new JsonLinesReader(new ByteArrayInputStream(bytes))) {
      while (reader.next() != null) {
        // read to the end
      }
      assertThat(reader.bytesRead()).isEqualTo(bytes.length);
    }
  }

  @Test
  void shouldMakeALineWithBytesThatAreNotUtf8InvalidAndReadOn() throws IOException {
    // Given a line whose name is Latin-1, between two UTF-8 lines
    byte[] content = CsvReaderTest.concat(
        "{\"id\":\"a\"}\n{\"id\":\"M".getBytes(StandardCharsets.UTF_8),
        new byte[] {(byte) 0xFC}, "ller\"}\r\n{\"id\":\"Müller\"}".getBytes(StandardCharsets.UTF_8));

    // When it is read
    List<SourceLine> lines = readAll(content);

    // Then that line is invalid, naming its line, the byte and what to fix, and the next is read
    assertThat(lines).extracting(SourceLine::lineNumber).containsExactly(1L, 2L, 3L);
    assertThat(lines.get(1).readable()).isFalse();
    assertThat(lines.get(1).error()).isEqualTo("line 2 is not UTF-8: byte 0xFC at column 9 cannot"
        + " be decoded; save the file as UTF-8 (for example iconv -f LATIN1 -t UTF-8)");
    assertThat(lines.get(2).value().get("id").textValue()).isEqualTo("Müller");
  }

  @Test
  void shouldReadUtf8SplitAcrossBufferBoundariesAndReportEachBadByte() throws IOException {
    // Given many lines of multi-byte text, so characters straddle the decoder's buffers, and a
    // truncated two-byte sequence on the last line
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < 20_000; i++) {
      text.append("{\"id\":\"Müller €").append(i).append(" \uD83D\uDE00\"}\n");
    }
    byte[] content = CsvReaderTest.concat(text.toString().getBytes(StandardCharsets.UTF_8),
        new byte[] {'{', (byte) 0xC3, '}'});

    // When it is read
    List<SourceLine> lines = readAll(content);

    // Then every good line is read whole and the bad one names its byte
    assertThat(lines).hasSize(20_001);
    assertThat(lines.subList(0, 20_000)).allMatch(SourceLine::readable);
    assertThat(lines.get(19_999).value().get("id").textValue())
        .isEqualTo("Müller €19999 \uD83D\uDE00");
    assertThat(lines.get(20_000).error()).startsWith("line 20001 is not UTF-8: byte 0xC3 at"
        + " column 2");
  }

  private static List<SourceLine> readAll(String content) throws IOException {
    return readAll(content.getBytes(StandardCharsets.UTF_8));
  }

  private static List<SourceLine> readAll(byte[] content) throws IOException {
    List<SourceLine> lines = new ArrayList<>();
    try (RecordReader reader = new JsonLinesReader(new ByteArrayInputStream(content))) {
      for (SourceLine line = reader.next(); line != null; line = reader.next()) {
        lines.add(line);
      }
    }
    return lines;
  }
}
