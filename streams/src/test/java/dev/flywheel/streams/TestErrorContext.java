package dev.flywheel.streams;

import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.processor.TaskId;

/**
 * What Kafka Streams tells an error handler, for the handlers' tests: a record of {@code topic}
 * at partition 0, offset 7, whose source record's key and value are {@code sourceRaw}; with a
 * null topic, a punctuation's (no record: partition and offset -1, no source record).
 */
record TestErrorContext(String topic, String processorNodeId, byte[] sourceRaw, Headers headers)
    implements ErrorHandlerContext {

  static TestErrorContext of(String topic, String processorNodeId, byte[] sourceRaw) {
    return new TestErrorContext(topic, processorNodeId, sourceRaw, new RecordHeaders());
  }

  @Override
  public int partition() {
    return topic == null ? -1 : 0;
  }

  @Override
  public long offset() {
    return topic == null ? -1L : 7L;
  }

  @Override
  public TaskId taskId() {
    return new TaskId(0, 0);
  }

  @Override
  public long timestamp() {
    return 0L;
  }

  @Override
  public byte[] sourceRawKey() {
    return topic == null ? null : sourceRaw;
  }

  @Override
  public byte[] sourceRawValue() {
    return topic == null ? null : sourceRaw;
  }
}
