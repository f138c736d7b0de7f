package dev.flywheel.featurestreams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.registry.SchemaRegistryException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.errors.TaskMigratedException;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.junit.jupiter.api.Test;

/**
 * What {@link DecodeProcessor} does with a record it cannot read, by the reason it cannot, and
 * with one it can read but whose processing fails downstream.
 */
class DecodeProcessorTest {

  private static final String TOPIC = "flywheel.data.transactions";

  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final MockProcessorContext<byte[], Object> context = new MockProcessorContext<>();

  @Test
  void shouldThrowNotDeadLetterARecordReadWhileTheSchemaRegistryDidNotAnswer() {
    // Given a deserializer whose registry does not answer
    DecodeProcessor decode = processor((topic, bytes) -> {
      throw new SerializationException("cannot deserialize value of topic '" + topic + "'",
          new SchemaRegistryException("GET /schemas/ids/1 failed: no answer",
              SchemaRegistryException.NO_RESPONSE, SchemaRegistryException.NO_RESPONSE, null,
              null));
    });

    // When a record arrives
    // Then the failure goes on to the processing handler, which reads the record again, and
    // nothing is forwarded: neither a value nor a dead letter
    assertThatThrownBy(() -> decode.process(record()))
        .isInstanceOf(SerializationException.class);
    assertThat(context.forwarded()).isEmpty();
    assertThat(meters.get("flywheel.features.dead.letters").counter().count()).isZero();
  }

  @Test
  void shouldDeadLetterARecordTheRegistryAnsweredForButThatCannotBeRead() {
    // Given a deserializer that finds no schema for the record's id
    DecodeProcessor decode = processor((topic, bytes) -> {
      throw new SerializationException("unknown schema id 77",
          new SchemaRegistryException("GET /schemas/ids/77: 404", 404,
              SchemaRegistryException.SCHEMA_NOT_FOUND, "Schema 77 not found", null));
    });

    // When a record arrives
    decode.process(record());

    // Then it goes on as a dead letter with its bytes, and is counted
    assertThat(context.forwarded()).hasSize(1);
    Object forwarded = context.forwarded().get(0).record().value();
    assertThat(forwarded).isInstanceOf(DeadLetter.class);
    assertThat(new String(((DeadLetter) forwarded).value(), StandardCharsets.UTF_8))
        .isEqualTo("payload");
    assertThat(meters.get("flywheel.features.dead.letters").counter().count()).isOne();
  }

  @Test
  void shouldLetAFailureDownstreamGoOnRatherThanDeadLetterTheRecordAsUnreadable() {
    // Given a readable record, and a node downstream that fails on it (here the task migrated;
    // alike a processing handler's FAIL, or a dead-letter write refused)
    GenericRecord readable = new GenericData.Record(TransactionSource.schema());
    TaskMigratedException downstream = new TaskMigratedException("task 0_0 migrated");
    MockProcessorContext<byte[], Object> failing = new FailingDownstream<>(downstream);
    DecodeProcessor decode = new DecodeProcessor("transactions", (topic, bytes) -> readable,
        meters);
    failing.setRecordMetadata(TOPIC, 0, 7);
    decode.init(failing);

    // When the record arrives
    // Then the failure goes on as it was, to Kafka Streams, and the record is neither
    // dead-lettered nor counted as unreadable
    assertThatThrownBy(() -> decode.process(record())).isSameAs(downstream);
    assertThat(failing.forwarded()).isEmpty();
    assertThat(meters.get("flywheel.features.dead.letters").counter().count()).isZero();
  }

  private DecodeProcessor processor(Deserializer<GenericRecord> deserializer) {
    DecodeProcessor decode = new DecodeProcessor("transactions", deserializer, meters);
    context.setRecordMetadata(TOPIC, 0, 7);
    decode.init(context);
    return decode;
  }

  /**
   * A context whose downstream throws {@code failure} on every record forwarded to it but dead
   * letters, which it keeps as forwarded.
   */
  private static final class FailingDownstream<K> extends MockProcessorContext<K, Object> {
    private final RuntimeException failure;

    FailingDownstream(RuntimeException failure) {
      this.failure = failure;
    }

    @Override
    public <K1 extends K, V1> void forward(Record<K1, V1> record) {
      if (!(record.value() instanceof DeadLetter)) {
        throw failure;
      }
      super.forward(record);
    }
  }

  private static Record<byte[], byte[]> record() {
    return new Record<>("card-1".getBytes(StandardCharsets.UTF_8),
        "payload".getBytes(StandardCharsets.UTF_8), 1_700_000_000_000L);
  }
}
