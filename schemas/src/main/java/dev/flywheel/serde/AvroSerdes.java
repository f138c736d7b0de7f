package dev.flywheel.serde;

import dev.flywheel.registry.SchemaRegistryClient;
import dev.flywheel.topics.AvroSerdeFactory;
import java.util.Map;
import java.util.Objects;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;

/**
 * Makes configured Avro serdes that share one {@link SchemaRegistryClient} (and so its caches), for
 * the topic catalogue ({@link dev.flywheel.topics.Topics}) and anyone else:
 *
 * <pre>{@code
 * AvroSerdes serdes = AvroSerdes.fromConfig(Map.of("schema.registry.url", "http://localhost:8081"));
 * Serde<FeatureVector> values = serdes.specific(FeatureVector.class, false);
 * }</pre>
 *
 * Every serde returned is already configured (Kafka Streams does not configure serdes handed to
 * the DSL). Thread-safe.
 */
public final class AvroSerdes implements AvroSerdeFactory {

  private final SchemaRegistryClient client;
  private final Map<String, ?> config;

  /**
   * Serdes on {@code client} with the {@link AvroSerdeConfig} settings of {@code serdeConfig}.
   *
   * @throws org.apache.kafka.common.config.ConfigException when a setting is invalid
   */
  public AvroSerdes(SchemaRegistryClient client, Map<String, ?> serdeConfig) {
    this.client = Objects.requireNonNull(client, "client");
    this.config = Map.copyOf(serdeConfig);
    AvroSerdeConfig.of(this.config); // fail fast on a bad setting
  }

  /**
   * Serdes whose registry client is built from the same map ({@link
   * SchemaRegistryClient#fromConfig}).
   *
   * @throws org.apache.kafka.common.config.ConfigException when the URL is missing or a value is
   *     invalid
   */
  public static AvroSerdes fromConfig(Map<String, ?> config) {
    return new AvroSerdes(SchemaRegistryClient.fromConfig(config), config);
  }

  /** The registry client every serde of this factory shares. */
  public SchemaRegistryClient client() {
    return client;
  }

  @Override
  public <T extends SpecificRecord> Serde<T> specific(Class<T> type, boolean isKey) {
    SpecificAvroSerde<T> serde = new SpecificAvroSerde<>(client, type);
    serde.configure(config, isKey);
    return serde;
  }

  @Override
  public Serde<GenericRecord> generic(boolean isKey) {
    GenericAvroSerde serde = new GenericAvroSerde(client);
    serde.configure(config, isKey);
    return serde;
  }
}
