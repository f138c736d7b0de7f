package dev.flywheel.serde;

import org.apache.avro.Schema;

/**
 * Subject = {@code <topic>-<record full name>}: several types per topic, each evolving on its own
 * per topic. Same subjects as Confluent's {@code TopicRecordNameStrategy}.
 */
public final class TopicRecordNameStrategy implements SubjectNameStrategy {

  /** @throws IllegalArgumentException when the schema is not a record, enum or fixed */
  @Override
  public String subjectName(String topic, boolean isKey, Schema schema) {
    return topic + "-" + SubjectNameStrategy.requireNamed(schema, "TopicRecordNameStrategy");
  }
}
