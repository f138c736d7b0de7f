package dev.flywheel.ingest.file;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;

/**
 * One record read from a file: where it starts, its original text and either its JSON value or
 * why it could not be read.
 *
 * @param lineNumber the file line, from 1, where the record starts (a CSV record with quoted line
 *     breaks spans several lines)
 * @param text the record's original text, without its line terminator; never null
 * @param value the record as a JSON object, or null when {@code error} is set
 * @param error why the text is not a record (for example malformed JSON or a CSV row with too
 *     many cells), or null when {@code value} is set
 */
public record SourceLine(long lineNumber, String text, JsonNode value, String error) {

  /**
   * Checks the components.
   *
   * @throws IllegalArgumentException unless exactly one of {@code value} and {@code error} is set,
   *     or if {@code lineNumber} is below 1
   */
  public SourceLine {
    Objects.requireNonNull(text, "text");
    if ((value == null) == (error == null)) {
      throw new IllegalArgumentException("exactly one of value and error must be set");
    }
    if (lineNumber < 1) {
      throw new IllegalArgumentException("line numbers start at 1, got " + lineNumber);
    }
  }

  /** A record read as {@code value}. */
  public static SourceLine valid(long lineNumber, String text, JsonNode value) {
    return new SourceLine(lineNumber, text, Objects.requireNonNull(value, "value"), null);
  }

  /** A record that could not be read, for the reason {@code error}. */
  public static SourceLine invalid(long lineNumber, String text, String error) {
    return new SourceLine(lineNumber, text, null, Objects.requireNonNull(error, "error"));
  }

  /** Whether the text was read as a JSON object. */
  public boolean readable() {
    return value != null;
  }
}
