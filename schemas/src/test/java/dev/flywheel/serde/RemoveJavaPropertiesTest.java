package dev.flywheel.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.events.Label;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.SampleEvents;
import dev.flywheel.registry.InMemorySchemaRegistryClient;
import java.nio.ByteBuffer;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Generated classes' schemas carry {@code "avro.java.string": "String"}; kafkajs, Python and Kafka
 * UI producers register the same schema without it.
 */
class RemoveJavaPropertiesTest {

  private static final String TOPIC = "flywheel.labels";
  private static final String SUBJECT = "flywheel.labels-value";

  private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
  private int plainId;

  @BeforeEach
  void registerTheSchemaAsANonJavaProducerDoes() {
    Schema plain = new Schema.Parser().parse(
        Label.getClassSchema().toString().replace(",\"avro.java.string\":\"String\"", ""));
    assertThat(plain.toString()).doesNotContain("avro.java");
    assertThat(Label.getClassSchema().toString()).contains("\"avro.java.string\":\"String\"");
    plainId = registry.register(SUBJECT, plain);
  }

  private static int idOf(byte[] payload) {
    return ByteBuffer.wrap(payload, 1, 4).getInt();
  }

  @Test
  void shouldFindTheSchemaANonJavaProducerRegisteredWhenJavaPropertiesAreRemoved() {
    // Given a serializer that does not register, with avro.remove.java.properties=true
    AvroSerializer<Label> serializer = new AvroSerializer<>(registry, Map.of(
        AvroSerdeConfig.AUTO_REGISTER_SCHEMAS, "false",
        AvroSerdeConfig.REMOVE_JAVA_PROPERTIES, "true"), false);
    Label label = SampleEvents.label();

    // When a Label is written
    byte[] bytes = serializer.serialize(TOPIC, label);

    // Then it is written with the registered schema's id, and reads back as the same Label
    assertThat(idOf(bytes)).isEqualTo(plainId);
    assertThat(new AvroDeserializer<>(registry, Label.class).deserialize(TOPIC, bytes))
        .isEqualTo(label);
  }

  @Test
  void shouldNotRegisterANewVersionWhenJavaPropertiesAreRemoved() {
    // Given a serializer that registers, with avro.remove.java.properties=true
    AvroSerializer<Label> serializer = new AvroSerializer<>(registry, Map.of(
        AvroSerdeConfig.REMOVE_JAVA_PROPERTIES, "true"), false);

    // When a Label is written
    byte[] bytes = serializer.serialize(TOPIC, SampleEvents.label());

    // Then the existing version is used: no second version of the same schema
    assertThat(idOf(bytes)).isEqualTo(plainId);
    assertThat(registry.listVersions(SUBJECT)).containsExactly(1);
  }

  @Test
  void shouldKeepJavaPropertiesByDefaultAsConfluentDoes() {
    // Given serializers with the default avro.remove.java.properties=false
    AvroSerializer<Label> lookingUp = new AvroSerializer<>(registry, Map.of(
        AvroSerdeConfig.AUTO_REGISTER_SCHEMAS, "false"), false);
    AvroSerializer<Label> registering = new AvroSerializer<>(registry, Map.of(), false);

    // When a Label is written, Then the schema without the properties is not found, and
    // registering adds the class's schema as a second version, as Confluent's serializer does
    assertThatThrownBy(() -> lookingUp.serialize(TOPIC, SampleEvents.label()))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("is not registered under subject 'flywheel.labels-value'");
    assertThat(idOf(registering.serialize(TOPIC, SampleEvents.label()))).isNotEqualTo(plainId);
    assertThat(registry.listVersions(SUBJECT)).containsExactly(1, 2);
  }

  @Test
  void shouldStripJavaPropertiesAtEveryDepthAndKeepEverythingElse() {
    // Given a generated schema with nested records, maps and unions
    Schema generated = ModelPromoted.getClassSchema();
    assertThat(generated.toString()).contains("avro.java.string");

    // When its Java properties are removed
    Schema stripped = AvroModels.withoutJavaProperties(generated);

    // Then none is left, and the schema is otherwise the same
    assertThat(stripped.toString()).doesNotContain("avro.java.");
    Schema expected = new Schema.Parser().parse(
        generated.toString().replace(",\"avro.java.string\":\"String\"", ""));
    assertThat(stripped.toString().equals(expected.toString())).isTrue();
  }
}
