package dev.flywheel.serde;

import dev.flywheel.registry.SchemaRegistryClient;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A Kafka {@link Serde} of generated Avro classes in the Confluent wire format: {@link
 * AvroSerializer} and a specific {@link AvroDeserializer}. With a class, records are read with
 * that class's schema whatever version wrote them; without one (as Kafka instantiates it from a
 * class name), the generated class is found by the writer schema's full name, as with Confluent's
 * {@code SpecificAvroSerde}. Configured with {@link AvroSerdeConfig}'s keys; {@value
 * AvroSerdeConfig#SPECIFIC_AVRO_READER} is always true. Thread-safe once configured.
 *
 * @param <T> the generated class
 */
public final class SpecificAvroSerde<T extends SpecificRecord> implements Serde<T> {

  private final AvroSerializer<T> serializer;
  private final AvroDeserializer<T> deserializer;

  /** For Kafka: {@link #configure} must follow, with {@value AvroSerdeConfig#SCHEMA_REGISTRY_URL}. */
  public SpecificAvroSerde() {
    this.serializer = new AvroSerializer<>();
    this.deserializer = new AvroDeserializer<>();
  }

  /**
   * A value serde of {@code type} with default settings; {@link #configure} may change them and
   * make it a key serde.
   */
  public SpecificAvroSerde(SchemaRegistryClient client, Class<T> type) {
    Objects.requireNonNull(client, "client");
    this.serializer = new AvroSerializer<>(client);
    this.deserializer = new AvroDeserializer<>(client, Objects.requireNonNull(type, "type"));
  }

  /**
   * A value serde that finds the generated class by the writer schema's full name; {@link
   * #configure} may change the settings and make it a key serde.
   */
  public SpecificAvroSerde(SchemaRegistryClient client) {
    Objects.requireNonNull(client, "client");
    this.serializer = new AvroSerializer<>(client);
    this.deserializer = new AvroDeserializer<>(client);
    this.deserializer.configure(Map.of(AvroSerdeConfig.SPECIFIC_AVRO_READER, true), false);
  }

  /**
   * Configures both sides with {@link AvroSerdeConfig}'s keys, forcing {@value
   * AvroSerdeConfig#SPECIFIC_AVRO_READER}.
   *
   * @throws org.apache.kafka.common.config.ConfigException when a value is invalid
   */
  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    Map<String, Object> specific = new HashMap<>(configs);
    specific.put(AvroSerdeConfig.SPECIFIC_AVRO_READER, true);
    serializer.configure(specific, isKey);
    deserializer.configure(specific, isKey);
  }

  @Override
  public Serializer<T> serializer() {
    return serializer;
  }

  @Override
  public Deserializer<T> deserializer() {
    return deserializer;
  }

  @Override
  public void close() {
    serializer.close();
    deserializer.close();
  }
}
