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

  private static List<SourceLine> readAll(String content) throws IOException {
    List<SourceLine> lines = new ArrayList<>();
    try (RecordReader reader = new JsonLinesReader(
        new ByteArrayInputStream(content.getBytes(StandardCharsets.UTF_8)))) {
      for (SourceLine line = reader.next(); line != null; line = reader.next()) {
        lines.add(line);
      }
    }
    return lines;
  }
}
