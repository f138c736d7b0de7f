package dev.flywheel.ingest.json;

import java.util.List;
import org.apache.avro.generic.GenericRecord;

/**
 * The outcome of converting one JSON value with {@link JsonToAvro}: the record when it fits, or
 * every error found.
 *
 * @param record the converted record; null exactly when {@code errors} is not empty
 * @param errors every problem found, in document order; empty when the value fits
 */
public record Conversion(GenericRecord record, List<FieldError> errors) {

  /** @throws IllegalArgumentException when both or neither of record and errors are given */
  public Conversion {
    errors = List.copyOf(errors);
    if ((record == null) == errors.isEmpty()) {
      throw new IllegalArgumentException("a conversion has a record or errors, not both");
    }
  }

  /** Whether the value fits the schema. */
  public boolean valid() {
    return errors.isEmpty();
  }

  /** The errors joined in one line, for logs and dead-letter headers. */
  public String describeErrors() {
    return String.join("; ", errors.stream().map(FieldError::toString).toList());
  }
}
