package dev.flywheel.featurestreams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.registry.SchemaRegistryException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.junit.jupiter.api.Test;

/** What {@link DecodeProcessor} does with a record it cannot read, by the reason it cannot. */
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

  private DecodeProcessor processor(Deserializer<GenericRecord> deserializer) {
    DecodeProcessor decode = new DecodeProcessor("transactions", deserializer, meters);
    context.setRecordMetadata(TOPIC, 0, 7);
    decode.init(context);
    return decode;
  }

  private static Record<byte[], byte[]> record() {
    return new Record<>("card-1".getBytes(StandardCharsets.UTF_8),
        "payload".getBytes(StandardCharsets.UTF_8), 1_700_000_000_000L);
  }
}
