package dev.flywheel.serde;

import org.apache.avro.Schema;

/**
 * Subject = the record's full name (e.g. {@code dev.flywheel.events.FeatureVector}), so one type
 * evolves the same way on every topic and a topic may hold several types. Same subjects as
 * Confluent's {@code RecordNameStrategy}.
 */
public final class RecordNameStrategy implements SubjectNameStrategy {

  /** @throws IllegalArgumentException when the schema is not a record, enum or fixed */
  @Override
  public String subjectName(String topic, boolean isKey, Schema schema) {
    return SubjectNameStrategy.requireNamed(schema, "RecordNameStrategy");
  }
}
