package dev.flywheel.serde;

import static dev.flywheel.serde.TestSchemas.USER_V1;
import static dev.flywheel.serde.TestSchemas.userV1;
import static dev.flywheel.serde.TestSchemas.wire;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.events.FeatureVector;
import dev.flywheel.registry.InMemorySchemaRegistryClient;
import dev.flywheel.registry.SchemaRegistryClient;
import dev.flywheel.registry.SchemaRegistryException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

class BadPayloadTest {

  private static final String TOPIC = "flywheel.features";

  private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
  private final AvroSerializer<GenericRecord> serializer = new AvroSerializer<>(registry);
  private final AvroDeserializer<GenericRecord> deserializer = new AvroDeserializer<>(registry);

  @Test
  void shouldDeserializeNullAsNull() {
    // Given a null payload (a tombstone), When it is deserialized, Then the result is null
    assertThat(deserializer.deserialize(TOPIC, null)).isNull();
    assertThat(deserializer.deserialize(TOPIC, new RecordHeaders(), (byte[]) null)).isNull();
  }

  @Test
  void shouldRefuseAPayloadShorterThanTheHeader() {
    // Given payloads of 0 and 4 bytes, When they are deserialized, Then the error names the size
    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, new byte[0]))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("value of topic 'flywheel.features'")
        .hasMessageContaining("the payload is 0 bytes, shorter than the 5-byte header");
    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, new byte[] {0, 0, 0, 1}))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("topic 'flywheel.features'")
        .hasMessageContaining("4 bytes, shorter than the 5-byte header");
  }

  @Test
  void shouldRefuseAnUnknownMagicByteAndSuspectJson() {
    // Given a JSON payload
    byte[] json = "{\"entity_id\": \"card-7\"}".getBytes(StandardCharsets.UTF_8);

    // When it is deserialized, Then the error names the topic, the byte and the likely cause
    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, json))
        .isInstanceOf(SerializationException.class)
        .hasMessage("cannot deserialize value of topic 'flywheel.features': unknown magic byte 0x7b "
            + "(expected 0x00); the payload is not in the Confluent wire format (it starts like "
            + "JSON: was it written by a JSON serializer?)");
  }

  @Test
  void shouldRefuseAnotherMagicByteWithoutAGuess() {
    // Given a payload starting with 0x01, When it is deserialized as a key, Then the error says so
    AvroDeserializer<Object> keys = new AvroDeserializer<>(registry, Map.of(), true);
    assertThatThrownBy(() -> keys.deserialize(TOPIC, new byte[] {1, 0, 0, 0, 1, 2}))
        .isInstanceOf(SerializationException.class)
        .hasMessage("cannot deserialize key of topic 'flywheel.features': unknown magic byte 0x01 "
            + "(expected 0x00); the payload is not in the Confluent wire format");
  }

  @Test
  void shouldMarkAReadThatFailedBecauseTheRegistryIsAwayAsRetriableAndABadRecordAsNot()
      throws Exception {
    // Given a deserializer whose registry does not answer, and a well-formed record for it
    int port;
    try (ServerSocket closed = new ServerSocket(0)) {
      port = closed.getLocalPort();
    }
    AvroDeserializer<GenericRecord> away = new AvroDeserializer<>(SchemaRegistryClient.builder()
        .url("http://127.0.0.1:" + port).maxRetries(1).initialBackoff(Duration.ofMillis(1))
        .build());
    byte[] fine = wire(1, new byte[] {2, 'a', 4});

    // When it is read, Then the failure says the record may be fine: retry it, do not drop it
    assertThatThrownBy(() -> away.deserialize(TOPIC, fine))
        .isInstanceOf(SerializationException.class)
        .satisfies(e -> assertThat(SchemaRegistryException.isRetriableCause(e)).isTrue());

    // And a record the registry answers for but that is itself bad (an unknown id, truncated Avro,
    // not the wire format) is not retriable
    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, wire(77, new byte[] {2, 'a', 4})))
        .satisfies(e -> assertThat(SchemaRegistryException.isRetriableCause(e)).isFalse());
    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, new byte[] {1, 2}))
        .satisfies(e -> assertThat(SchemaRegistryException.isRetriableCause(e)).isFalse());
  }

  @Test
  void shouldRefuseASchemaIdTheRegistryDoesNotKnow() {
    // Given a well-formed header with id 77 that no schema has
    byte[] payload = wire(77, new byte[] {2, 'a', 4});

    // When it is deserialized, Then the error names the id and keeps the registry's answer as cause
    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, payload))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("value of topic 'flywheel.features': unknown schema id 77")
        .hasCauseInstanceOf(SchemaRegistryException.class)
        .satisfies(e -> assertThat(((SchemaRegistryException) e.getCause()).errorCode())
            .isEqualTo(SchemaRegistryException.SCHEMA_NOT_FOUND));
  }

  @Test
  void shouldRefuseATruncatedBody() {
    // Given a valid payload cut short
    byte[] full = serializer.serialize(TOPIC, userV1("user-with-a-long-id", 30));
    byte[] truncated = Arrays.copyOf(full, full.length - 3);

    // When it is deserialized, Then the error says the body is truncated
    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, truncated))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("value of topic 'flywheel.features'")
        .hasMessageContaining("the Avro body is truncated")
        .hasMessageContaining("schema id 1 (dev.flywheel.test.User)");
  }

  @Test
  void shouldRefuseAGarbageBody() {
    // Given a valid header followed by bytes that are no User (a negative string length)
    serializer.serialize(TOPIC, userV1("u", 1));
    byte[] garbage = wire(1, new byte[] {(byte) 0x81, (byte) 0x80, 0x7f, 1, 2, 3});

    // When it is deserialized, Then the error says the body cannot be decoded with that schema
    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, garbage))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("value of topic 'flywheel.features'")
        .hasMessageContaining("schema id 1 (dev.flywheel.test.User)");
  }

  @Test
  void shouldRefuseBytesLeftAfterTheDatum() {
    // Given a valid payload with two extra bytes appended
    byte[] full = serializer.serialize(TOPIC, userV1("u", 1));
    byte[] longer = Arrays.copyOf(full, full.length + 2);

    // When it is deserialized, Then the error says bytes are left over
    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, longer))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("value of topic 'flywheel.features'")
        .hasMessageContaining("bytes left after the datum written with schema id 1");
  }

  @Test
  void shouldExplainWhenTheReaderClassCannotReadTheWriterSchema() {
    // Given a User record on a topic read as FeatureVector
    byte[] user = serializer.serialize(TOPIC, userV1("u", 1));
    AvroDeserializer<FeatureVector> vectors = new AvroDeserializer<>(registry, FeatureVector.class);

    // When it is deserialized, Then the error names both schemas and why they do not match
    assertThatThrownBy(() -> vectors.deserialize(TOPIC, user))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("value of topic 'flywheel.features'")
        .hasMessageContaining("writer schema id 1 (dev.flywheel.test.User)")
        .hasMessageContaining("the reader schema dev.flywheel.events.FeatureVector cannot read it");
  }

  @Test
  void shouldKeepWorkingAfterABadPayload() {
    // Given a deserializer that has just refused a payload
    byte[] good = serializer.serialize(TOPIC, userV1("u", 1));
    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, Arrays.copyOf(good, 6)))
        .isInstanceOf(SerializationException.class);

    // When a good payload follows, Then it is read
    assertThat(deserializer.deserialize(TOPIC, good)).isEqualTo(userV1("u", 1));
  }

  @Test
  void shouldNameTheTopicWhenTheDatumDoesNotFitItsSchema() {
    // Given a record missing a required field
    GenericRecord broken = new org.apache.avro.generic.GenericData.Record(USER_V1);
    broken.put("age", 3);

    // When it is serialized, Then the error names the topic and the field
    assertThatThrownBy(() -> serializer.serialize(TOPIC, broken))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("cannot serialize value of topic 'flywheel.features'")
        .hasMessageContaining("id");
  }

  @Test
  void shouldRefuseTypesAvroCannotWrite() {
    // Given a serializer of anything, When a java.util.Date is serialized, Then the error says so
    AvroSerializer<Object> any = new AvroSerializer<>(registry);
    assertThatThrownBy(() -> any.serialize(TOPIC, new java.util.Date()))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("cannot serialize value of topic 'flywheel.features': unsupported "
            + "type java.util.Date");
  }
}
