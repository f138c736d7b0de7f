package dev.flywheel.serde;

import dev.flywheel.registry.SchemaRegistryClient;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A Kafka {@link Serde} of {@link GenericRecord}s in the Confluent wire format: {@link
 * AvroSerializer} and a generic {@link AvroDeserializer}, which reads with each record's writer
 * schema or with a reader schema (constructor, or {@value AvroSerdeConfig#READER_SCHEMA}).
 * Configured with {@link AvroSerdeConfig}'s keys, like Confluent's {@code GenericAvroSerde}.
 * Thread-safe once configured.
 */
public final class GenericAvroSerde implements Serde<GenericRecord> {

  private final AvroSerializer<GenericRecord> serializer;
  private final AvroDeserializer<GenericRecord> deserializer;

  /** For Kafka: {@link #configure} must follow, with {@value AvroSerdeConfig#SCHEMA_REGISTRY_URL}. */
  public GenericAvroSerde() {
    this.serializer = new AvroSerializer<>();
    this.deserializer = new AvroDeserializer<>();
  }

  /** A value serde reading with writer schemas; {@link #configure} may change the settings. */
  public GenericAvroSerde(SchemaRegistryClient client) {
    this(client, null);
  }

  /**
   * A value serde reading every record with {@code readerSchema}; {@link #configure} may change
   * the other settings.
   *
   * @param readerSchema the reader schema; null reads with each record's writer schema
   */
  public GenericAvroSerde(SchemaRegistryClient client, Schema readerSchema) {
    Objects.requireNonNull(client, "client");
    this.serializer = new AvroSerializer<>(client);
    this.deserializer = new AvroDeserializer<>(client, readerSchema);
  }

  /**
   * Configures both sides with {@link AvroSerdeConfig}'s keys; {@value
   * AvroSerdeConfig#SPECIFIC_AVRO_READER} is ignored (always generic).
   *
   * @throws org.apache.kafka.common.config.ConfigException when a value is invalid
   */
  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    Map<String, Object> generic = new HashMap<>(configs);
    generic.put(AvroSerdeConfig.SPECIFIC_AVRO_READER, false);
    serializer.configure(generic, isKey);
    deserializer.configure(generic, isKey);
  }

  @Override
  public Serializer<GenericRecord> serializer() {
    return serializer;
  }

  @Override
  public Deserializer<GenericRecord> deserializer() {
    return deserializer;
  }

  @Override
  public void close() {
    serializer.close();
    deserializer.close();
  }
}
