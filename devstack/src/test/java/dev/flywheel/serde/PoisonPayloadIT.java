package dev.flywheel.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.events.FeatureVector;
import dev.flywheel.topics.Topic;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Corrupt record values on a real topic: the Flywheel deserializer names the topic and the problem,
 * and a consumer that deserializes record by record skips them and reads on.
 */
@WithDevstack
class PoisonPayloadIT {

  /** An id far above any the shared registry hands out during a test run. */
  private static final int UNKNOWN_ID = 2_000_000_000;

  /** Ways to spoil a good payload, and what the deserializer must say about each. */
  enum Poison {
    WRONG_MAGIC_BYTE(good -> {
      byte[] bad = good.clone();
      bad[0] = 1;
      return bad;
    }, "unknown magic byte 0x01"),
    UNKNOWN_SCHEMA_ID(good -> {
      byte[] bad = good.clone();
      ByteBuffer.wrap(bad, 1, 4).putInt(UNKNOWN_ID);
      return bad;
    }, "unknown schema id " + UNKNOWN_ID),
    TRUNCATED_AVRO(good -> Arrays.copyOf(good, 5 + (good.length - 5) / 2), "truncated"),
    RANDOM_BYTES(good -> {
      byte[] bad = new byte[64];
      new Random(7).nextBytes(bad);
      bad[0] = (byte) 0x9c; // random, but never 0: a header-less payload
      return bad;
    }, "unknown magic byte 0x9c"),
    GARBAGE_AVRO_BODY(good -> {
      byte[] bad = Arrays.copyOf(good, 5 + 40);
      byte[] noise = new byte[40];
      new Random(11).nextBytes(noise);
      System.arraycopy(noise, 0, bad, 5, noise.length);
      return bad;
    }, "schema id ");

    final UnaryOperator<byte[]> spoil;
    final String problem;

    Poison(UnaryOperator<byte[]> spoil, String problem) {
      this.spoil = spoil;
      this.problem = problem;
    }
  }

  private Devstack devstack;
  private String topic;
  private SpecificAvroSerde<FeatureVector> serde;

  @BeforeEach
  void createTopic(Devstack stack, UniqueNames names) {
    devstack = stack;
    Topic<String, FeatureVector> features = KafkaIO.catalogue(stack, names.prefix()).features();
    KafkaIO.create(stack, features);
    topic = features.name();
    serde = new SpecificAvroSerde<>(KafkaIO.freshClient(stack), FeatureVector.class);
  }

  @ParameterizedTest
  @EnumSource(Poison.class)
  void shouldRaiseSerializationExceptionNamingTheTopicAndTheProblem(Poison poison) {
    // Given a poisoned record value on the topic
    byte[] good = serde.serializer().serialize(topic, FullyPopulated.of(FeatureVector.class));
    KafkaIO.produce(devstack, topic, new ByteArraySerializer(), List.of(poison.spoil.apply(good)));
    byte[] onTopic = KafkaIO.consume(devstack, topic, new ByteArrayDeserializer(), 1).get(0).value();

    // When a fresh Flywheel deserializer reads it
    AvroDeserializer<FeatureVector> deserializer =
        new AvroDeserializer<>(KafkaIO.freshClient(devstack), FeatureVector.class);

    // Then it raises SerializationException naming the topic and the problem
    assertThatThrownBy(() -> deserializer.deserialize(topic, onTopic))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("'" + topic + "'")
        .hasMessageContaining(poison.problem);
  }

  @Test
  void shouldSkipEveryPoisonedRecordAndReadTheGoodOnesThatFollow() {
    // Given good records with each kind of poison between them
    List<FeatureVector> goods = new ArrayList<>();
    List<byte[]> values = new ArrayList<>();
    List<Long> poisonedOffsets = new ArrayList<>();
    for (Poison poison : Poison.values()) {
      FeatureVector event = FullyPopulated.of(FeatureVector.class, goods.size());
      event.setEventId("good-" + goods.size());
      byte[] payload = serde.serializer().serialize(topic, event);
      goods.add(event);
      values.add(payload);
      poisonedOffsets.add((long) values.size());
      values.add(poison.spoil.apply(payload));
    }
    FeatureVector last = FullyPopulated.of(FeatureVector.class);
    last.setEventId("good-last");
    goods.add(last);
    values.add(serde.serializer().serialize(topic, last));
    KafkaIO.produce(devstack, topic, new ByteArraySerializer(), values);

    // When a consumer reads raw values and deserializes them one by one, skipping failures
    AvroDeserializer<FeatureVector> deserializer =
        new AvroDeserializer<>(KafkaIO.freshClient(devstack), FeatureVector.class);
    List<FeatureVector> read = new ArrayList<>();
    List<Long> skipped = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> record
        : KafkaIO.consume(devstack, topic, new ByteArrayDeserializer(), values.size())) {
      try {
        read.add(deserializer.deserialize(record.topic(), record.headers(), record.value()));
      } catch (SerializationException e) {
        skipped.add(record.offset());
      }
    }

    // Then exactly the poisoned offsets were skipped and every good record was read, in order
    assertThat(skipped).containsExactlyElementsOf(poisonedOffsets);
    assertThat(read).containsExactlyElementsOf(goods);
  }
}
