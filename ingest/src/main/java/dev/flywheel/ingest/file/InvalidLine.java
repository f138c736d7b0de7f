package dev.flywheel.ingest.file;

import dev.flywheel.ingest.json.FieldError;
import java.util.List;
import java.util.Objects;

/**
 * A record of a file that was not produced, and every reason why.
 *
 * @param lineNumber the file line, from 1, where the record starts
 * @param errors every problem found, each with the field path ({@link FieldError#ROOT} when the
 *     line as a whole could not be read); never empty
 */
public record InvalidLine(long lineNumber, List<FieldError> errors) {

  /** @throws IllegalArgumentException when {@code errors} is empty */
  public InvalidLine {
    errors = List.copyOf(Objects.requireNonNull(errors, "errors"));
    if (errors.isEmpty()) {
      throw new IllegalArgumentException("an invalid line has at least one error");
    }
  }

  /** Every error in one line of text: {@code field: reason; field: reason}. */
  public String describeErrors() {
    return String.join("; ", errors.stream().map(FieldError::toString).toList());
  }

  @Override
  public String toString() {
    return "line " + lineNumber + ": " + describeErrors();
  }
}
