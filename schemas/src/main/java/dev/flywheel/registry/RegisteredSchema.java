package dev.flywheel.registry;

import java.util.Objects;
import org.apache.avro.Schema;

/**
 * One version of a subject in the schema registry.
 *
 * @param subject the subject; never null
 * @param version the subject's version number, 1 or more
 * @param id the registry-wide schema id, as written in the Confluent wire format
 * @param schema the Avro schema; never null
 */
public record RegisteredSchema(String subject, int version, int id, Schema schema) {

  /** @throws NullPointerException when {@code subject} or {@code schema} is null */
  public RegisteredSchema {
    Objects.requireNonNull(subject, "subject");
    Objects.requireNonNull(schema, "schema");
  }
}
