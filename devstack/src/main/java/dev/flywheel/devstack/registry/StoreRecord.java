package dev.flywheel.devstack.registry;

import dev.flywheel.registry.CompatibilityLevel;
import java.util.Objects;

/**
 * One record of the {@code _schemas} topic, decoded: a schema version of a subject, or a
 * compatibility configuration. The record's Kafka key is made of the fields before the value, so
 * that compaction keeps the last state of each version and of each configuration.
 */
sealed interface StoreRecord {

  /**
   * A version of a subject. Key {@code {"keytype":"SCHEMA","subject":..,"version":..,"magic":1}},
   * value {@code {"subject":..,"version":..,"id":..,"schema":..,"deleted":..}}; a null {@code value}
   * is a tombstone (a permanent delete).
   */
  record SchemaRecord(String subject, int version, SchemaValue value) implements StoreRecord {
    public SchemaRecord {
      Objects.requireNonNull(subject, "subject");
    }
  }

  /**
   * The value of a {@link SchemaRecord}.
   *
   * @param schema the schema text as stored: the compact JSON form Avro prints for the parsed schema
   */
  record SchemaValue(String subject, int version, int id, String schema, boolean deleted) {
    public SchemaValue {
      Objects.requireNonNull(subject, "subject");
      Objects.requireNonNull(schema, "schema");
    }

    SchemaValue markDeleted() {
      return new SchemaValue(subject, version, id, schema, true);
    }
  }

  /**
   * A compatibility configuration. Key {@code {"keytype":"CONFIG","subject":null|..,"magic":0}},
   * value {@code {"compatibilityLevel":..}}; a null {@code level} deletes the configuration.
   *
   * @param subject the subject, or null for the global configuration
   */
  record ConfigRecord(String subject, CompatibilityLevel level) implements StoreRecord {}
}
