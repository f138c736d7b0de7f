package dev.flywheel.serde;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.registry.SchemaRegistryClient;
import dev.flywheel.topics.Topics;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The exact bytes the serializer puts on a topic: the Confluent wire format, checked against the
 * registry's id and an Avro encoding made without the serde.
 */
@WithDevstack
class WireFormatIT {

  private static Devstack devstack;
  private static Topics topics;

  @BeforeAll
  static void createTopics(Devstack stack, UniqueNames names) {
    devstack = stack;
    topics = KafkaIO.bootstrap(stack, names.prefix());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("dev.flywheel.serde.EventSerdeRoundTripIT#events")
  <T extends SpecificRecord> void shouldPutMagicByteRegistryIdAndPlainAvroBodyOnTheTopic(
      String name, Class<T> type, Function<Topics, String> topicOf, List<T> samples)
      throws IOException {
    // Given an event written to its catalogue topic by the Flywheel serializer
    String topic = topicOf.apply(topics);
    T event = samples.get(samples.size() - 1);
    SpecificAvroSerde<T> serde = new SpecificAvroSerde<>(KafkaIO.freshClient(devstack), type);
    KafkaIO.produce(devstack, topic, serde.serializer(), List.of(event));

    // When the raw record value is read from the broker
    byte[] wire = KafkaIO.consume(devstack, topic, new ByteArrayDeserializer(), 1).get(0).value();

    // Then it is magic byte 0, the registry's big-endian id of the subject's schema, and the
    // same Avro binary an independent GenericDatumWriter makes of the datum
    Schema schema = SpecificData.getForClass(type).getSchema(type);
    SchemaRegistryClient registry = KafkaIO.freshClient(devstack);
    int id = registry.lookup(topic + "-value", schema).id();
    assertThat(wire[0]).isZero();
    assertThat(Arrays.copyOfRange(wire, 1, 5))
        .isEqualTo(ByteBuffer.allocate(4).putInt(id).array());
    assertThat(Arrays.copyOfRange(wire, 5, wire.length))
        .isEqualTo(plainAvro(schema, SpecificData.getForClass(type), event));
  }

  private static byte[] plainAvro(Schema schema, SpecificData model, Object datum)
      throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    new GenericDatumWriter<Object>(schema, model).write(datum, encoder);
    encoder.flush();
    return out.toByteArray();
  }
}
