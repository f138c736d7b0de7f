package dev.flywheel.ingest.file;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;

/**
 * Reads JSON Lines (NDJSON): one JSON object per line, UTF-8, lines ended by LF, CRLF or CR.
 * Blank lines are skipped; a line that is not valid JSON, or is JSON but not an object, is
 * returned as unreadable with the parser's reason, and so is a line holding bytes that are not
 * UTF-8 (they are not replaced by U+FFFD); reading goes on with the next line. Numbers keep their exact value (big decimals
 * are not rounded to doubles), so the schema decides their type.
 */
public final class JsonLinesReader implements RecordReader {

  private static final ObjectMapper MAPPER = new ObjectMapper()
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private final CountingInputStream counting;
  private final BufferedReader reader;
  private long lineNumber;

  /** Reads the JSON lines of {@code in}, which it closes when closed. */
  public JsonLinesReader(InputStream in) {
    this.counting = new CountingInputStream(in);
    this.reader = new BufferedReader(Utf8Input.reader(counting), FileFormat.BUFFER_CHARS);
  }

  @Override
  public SourceLine next() throws IOException {
    String line;
    while ((line = reader.readLine()) != null) {
      lineNumber++;
      if (lineNumber == 1 && !line.isEmpty() && line.charAt(0) == FileFormat.BYTE_ORDER_MARK) {
        line = line.substring(1);
      }
      if (!line.isBlank()) {
        return parse(lineNumber, line);
      }
    }
    return null;
  }

  /** Reads {@code line} (number {@code lineNumber}) as a JSON object. */
  static SourceLine parse(long lineNumber, String line) {
    String notUtf8 = Utf8Input.problem(lineNumber, line);
    if (notUtf8 != null) {
      return SourceLine.invalid(lineNumber, line, notUtf8);
    }
    JsonNode value;
    try {
      value = MAPPER.readTree(line);
    } catch (JsonProcessingException e) {
      return SourceLine.invalid(lineNumber, line, "not valid JSON: " + e.getOriginalMessage()
          + " (column " + e.getLocation().getColumnNr() + ")");
    }
    if (!value.isObject()) {
      return SourceLine.invalid(lineNumber, line,
          "expected a JSON object per line, got " + describe(value));
    }
    return SourceLine.valid(lineNumber, line, value);
  }

  private static String describe(JsonNode value) {
    return switch (value.getNodeType()) {
      case ARRAY -> "an array";
      case STRING -> "a string";
      case NUMBER -> "a number";
      case BOOLEAN -> "a boolean";
      case NULL -> "null";
      default -> value.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
    };
  }

  @Override
  public long bytesRead() {
    return counting.count();
  }

  @Override
  public void close() throws IOException {
    reader.close();
  }
}
