package dev.flywheel.serde;

import java.util.Map;
import org.apache.avro.Schema;

/**
 * Chooses the schema-registry subject under which a record's schema is registered and looked up,
 * as Confluent's {@code SubjectNameStrategy} does. Configured with {@code key.subject.name.strategy}
 * and {@code value.subject.name.strategy}; implementations need a public no-argument constructor
 * and must be thread-safe. The serializer asks once per (topic, schema) and caches the answer.
 */
public interface SubjectNameStrategy {

  /**
   * The subject for a record of {@code topic}.
   *
   * @param topic the topic; may be null when a caller serializes outside a topic
   * @param isKey true for the record key, false for the value
   * @param schema the schema of the datum being serialized; never null
   * @return the subject; never null
   * @throws IllegalArgumentException when the strategy cannot name a subject for this schema
   */
  String subjectName(String topic, boolean isKey, Schema schema);

  /** Receives the serializer's config once, before the first {@link #subjectName}; default: ignores it. */
  default void configure(Map<String, ?> config) {}

  /**
   * The full name of a named schema (record, enum, fixed).
   *
   * @throws IllegalArgumentException for any other schema, naming the strategy that needs it
   */
  static String requireNamed(Schema schema, String strategy) {
    switch (schema.getType()) {
      case RECORD, ENUM, FIXED:
        return schema.getFullName();
      default:
        throw new IllegalArgumentException(strategy + " needs a named schema (record, enum or "
            + "fixed) but the datum's schema is " + schema.getType().getName()
            + "; use TopicNameStrategy for primitive keys and values");
    }
  }
}
