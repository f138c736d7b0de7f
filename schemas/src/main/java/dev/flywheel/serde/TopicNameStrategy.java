package dev.flywheel.serde;

import org.apache.avro.Schema;

/**
 * The default strategy: subject {@code <topic>-key} or {@code <topic>-value}, so one topic holds
 * one evolving type per side. Same subjects as Confluent's {@code TopicNameStrategy}.
 */
public final class TopicNameStrategy implements SubjectNameStrategy {

  @Override
  public String subjectName(String topic, boolean isKey, Schema schema) {
    return topic + (isKey ? "-key" : "-value");
  }
}
