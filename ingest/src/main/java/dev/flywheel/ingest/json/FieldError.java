package dev.flywheel.ingest.json;

import java.util.Objects;

/**
 * One reason a JSON value does not fit an Avro schema.
 *
 * @param field where: a dotted path from the record, with {@code [i]} for array elements and
 *     {@code [key]} for map values (e.g. {@code items[2].price}); {@code $} for the whole value
 * @param reason what is wrong and what would fit, e.g. {@code expected a long, got "12a"}
 */
public record FieldError(String field, String reason) {

  /** The path of the value itself, when the whole value is wrong. */
  public static final String ROOT = "$";

  /** @throws NullPointerException when either component is null */
  public FieldError {
    Objects.requireNonNull(field, "field");
    Objects.requireNonNull(reason, "reason");
  }

  @Override
  public String toString() {
    return field + ": " + reason;
  }
}
