package dev.flywheel.platform.runtime;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.flywheel.serde.AvroSerdeConfig;
import dev.flywheel.topics.ServiceEnvironment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;

/**
 * The platform part of {@code flywheel.yaml}: where Kafka and the schema registry are, the HTTP
 * port every service's API shares, and where state is kept. Other top-level sections belong to
 * the services and are ignored here.
 *
 * <pre>{@code
 * kafka:
 *   bootstrapServers: broker-1:9092       # omit to run the embedded broker and registry
 *   schemaRegistryUrl: http://registry:8081
 *   topicPrefix: acme                     # acme.flywheel.predictions, ...
 *   partitions: 6
 *   replicationFactor: 3
 *   properties:                           # any Kafka client property, for every client
 *     security.protocol: SASL_SSL
 *     sasl.mechanism: SCRAM-SHA-512
 * http:
 *   port: 8080
 * stateDir: .flywheel/state
 * }</pre>
 *
 * <p>Environment variables override the file: {@code FLYWHEEL_BOOTSTRAP_SERVERS}, {@code
 * FLYWHEEL_SCHEMA_REGISTRY_URL}, {@code FLYWHEEL_TOPIC_PREFIX}, {@code
 * FLYWHEEL_REPLICATION_FACTOR}, {@code FLYWHEEL_HTTP_PORT}, {@code FLYWHEEL_STATE_DIR}, and a Kafka
 * client property per {@code FLYWHEEL_KAFKA_<NAME>} variable
 * (named as {@link ServiceEnvironment#kafkaFromEnv()} names it: {@code
 * FLYWHEEL_KAFKA_SASL_JAAS_CONFIG} is {@code sasl.jaas.config}), which wins over the same property
 * in {@code kafka.properties}; so secrets can come from the environment (a Kubernetes Secret)
 * rather than the file.
 *
 * @param kafka the cluster; never null
 * @param http the shared HTTP server; never null
 * @param stateDir where Kafka Streams keeps RocksDB state; never null
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record PlatformConfig(Kafka kafka, Http http, Path stateDir) {

  /** Where state is kept unless configured. */
  public static final Path DEFAULT_STATE_DIR = Path.of(".flywheel", "state");

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /** Defaults filled in. */
  @JsonCreator
  public PlatformConfig(@JsonProperty("kafka") Kafka kafka, @JsonProperty("http") Http http,
      @JsonProperty("stateDir") Path stateDir) {
    this.kafka = kafka == null ? Kafka.embedded() : kafka;
    this.http = http == null ? new Http(Http.DEFAULT_PORT) : http;
    this.stateDir = stateDir == null ? DEFAULT_STATE_DIR : stateDir;
  }

  /** Everything embedded, on the default ports. */
  public static PlatformConfig defaults() {
    return new PlatformConfig(null, null, null);
  }

  /**
   * The cluster Flywheel connects to.
   *
   * @param bootstrapServers brokers; null to run the embedded broker
   * @param schemaRegistryUrl the registry; null to run the embedded one (required with an
   *     external broker)
   * @param topicPrefix the prefix of every topic name; null for none
   * @param partitions partitions of the topics Flywheel creates
   * @param replicationFactor replication of the topics Flywheel creates
   * @param properties client properties passed to every Kafka client (SASL, TLS); never null
   */
  @JsonIgnoreProperties(ignoreUnknown = false)
  public record Kafka(String bootstrapServers, String schemaRegistryUrl, String topicPrefix,
      int partitions, short replicationFactor, Map<String, String> properties) {

    /** Checks the values and fills in defaults. */
    @JsonCreator
    public Kafka(@JsonProperty("bootstrapServers") String bootstrapServers,
        @JsonProperty("schemaRegistryUrl") String schemaRegistryUrl,
        @JsonProperty("topicPrefix") String topicPrefix,
        @JsonProperty("partitions") Integer partitions,
        @JsonProperty("replicationFactor") Short replicationFactor,
        @JsonProperty("properties") Map<String, String> properties) {
      this(blankToNull(bootstrapServers), blankToNull(schemaRegistryUrl), blankToNull(topicPrefix),
          partitions == null ? 3 : partitions, replicationFactor == null ? 1 : replicationFactor,
          properties == null ? Map.of() : Map.copyOf(properties));
    }

    /** @throws IllegalArgumentException naming the setting that is wrong */
    public Kafka {
      if (partitions < 1) {
        throw new IllegalArgumentException("kafka.partitions must be >= 1, got " + partitions);
      }
      if (replicationFactor < 1) {
        throw new IllegalArgumentException(
            "kafka.replicationFactor must be >= 1, got " + replicationFactor);
      }
      if (bootstrapServers != null && schemaRegistryUrl == null) {
        throw new IllegalArgumentException("kafka.bootstrapServers is set but"
            + " kafka.schemaRegistryUrl is not: an external cluster needs its schema registry"
            + " (FLYWHEEL_SCHEMA_REGISTRY_URL)");
      }
      properties = Map.copyOf(properties);
    }

    /** The embedded broker and registry, no prefix, 3 partitions, replication 1. */
    public static Kafka embedded() {
      return new Kafka(null, null, null, 3, (short) 1, Map.of());
    }

    /** True when Flywheel runs its own broker and registry. */
    public boolean isEmbedded() {
      return bootstrapServers == null;
    }

    /** Never shows property values, which may hold secrets. */
    @Override
    public String toString() {
      return "Kafka[bootstrapServers=" + (bootstrapServers == null ? "embedded" : bootstrapServers)
          + ", schemaRegistryUrl=" + (schemaRegistryUrl == null ? "embedded" : schemaRegistryUrl)
          + ", topicPrefix=" + topicPrefix + ", partitions=" + partitions
          + ", replicationFactor=" + replicationFactor + ", properties=" + properties.keySet()
          + "]";
    }
  }

  /**
   * The HTTP server every service's API is mounted on.
   *
   * @param port the port; 0 picks a free one
   */
  public record Http(int port) {

    /** The port unless configured. */
    public static final int DEFAULT_PORT = 8080;

    /** Fills in the default. */
    @JsonCreator
    public Http(@JsonProperty("port") Integer port) {
      this(port == null ? DEFAULT_PORT : port.intValue());
    }

    /** @throws IllegalArgumentException when the port is out of range */
    public Http {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("http.port must be 0..65535, got " + port);
      }
    }
  }

  /**
   * Reads the platform settings of a {@code flywheel.yaml}, then applies the environment.
   *
   * @throws IllegalArgumentException naming the file and problem when it cannot be read
   */
  public static PlatformConfig load(Path file, Map<String, String> env) {
    Objects.requireNonNull(file, "file");
    try {
      return parse(Files.readString(file), env);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Parses the platform settings from YAML text, then applies the environment.
   *
   * @throws IllegalArgumentException naming the problem when the YAML does not fit
   */
  public static PlatformConfig parse(String yaml, Map<String, String> env) {
    PlatformConfig fromFile;
    try {
      Map<String, Object> root = YAML.readValue(yaml.isBlank() ? "{}" : yaml,
          YAML.getTypeFactory().constructMapType(LinkedHashMap.class, String.class, Object.class));
      Map<String, Object> mine = new LinkedHashMap<>();
      for (String key : new String[] {"kafka", "http", "stateDir"}) {
        if (root != null && root.containsKey(key)) {
          mine.put(key, root.get(key));
        }
      }
      fromFile = YAML.convertValue(mine, PlatformConfig.class);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not valid YAML: " + e.getOriginalMessage(), e);
    } catch (IllegalArgumentException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      String message = cause instanceof JsonProcessingException j ? j.getOriginalMessage()
          : cause.getMessage();
      throw new IllegalArgumentException(message, e);
    }
    return fromFile.withEnvironment(env);
  }

  /**
   * This configuration on the cluster at {@code bootstrapServers} with its registry at {@code
   * schemaRegistryUrl}: what {@code flywheel up} passes on once the embedded broker is up.
   */
  public PlatformConfig withCluster(String bootstrapServers, String schemaRegistryUrl) {
    return new PlatformConfig(new Kafka(Objects.requireNonNull(bootstrapServers,
        "bootstrapServers"), Objects.requireNonNull(schemaRegistryUrl, "schemaRegistryUrl"),
        kafka.topicPrefix(), kafka.partitions(), kafka.replicationFactor(), kafka.properties()),
        http, stateDir);
  }

  /** This configuration with HTTP on {@code port} (0 picks a free one). */
  public PlatformConfig withHttpPort(int port) {
    return new PlatformConfig(kafka, new Http(port), stateDir);
  }

  /**
   * This configuration with the {@code FLYWHEEL_*} variables of {@code env} applied, {@code
   * FLYWHEEL_KAFKA_<NAME>} client properties and {@code FLYWHEEL_SCHEMA_REGISTRY_<NAME>} registry
   * settings included: both go into {@code kafka.properties}, which the services' clients and
   * serdes are built from.
   *
   * @throws org.apache.kafka.common.config.ConfigException for a registry setting the registry
   *     client does not know, named
   */
  public PlatformConfig withEnvironment(Map<String, String> env) {
    Kafka k = kafka;
    String bootstrap = blankToNull(env.get("FLYWHEEL_BOOTSTRAP_SERVERS"));
    String registry = blankToNull(env.get("FLYWHEEL_SCHEMA_REGISTRY_URL"));
    String prefix = blankToNull(env.get("FLYWHEEL_TOPIC_PREFIX"));
    ServiceEnvironment environment = new ServiceEnvironment(env, new Properties());
    Short replication = environment.replicationFactor().orElse(null);
    Map<String, Object> clientProperties = environment.kafkaFromEnv();
    // FLYWHEEL_SCHEMA_REGISTRY_URL is the registry's address above; the rest are its settings
    Map<String, Object> registrySettings = environment.schemaRegistryFromEnv();
    registrySettings.remove(AvroSerdeConfig.SCHEMA_REGISTRY_URL);
    clientProperties.putAll(registrySettings);
    if (bootstrap != null || registry != null || prefix != null || replication != null
        || !clientProperties.isEmpty()) {
      Map<String, String> properties = new HashMap<>(k.properties());
      clientProperties.forEach((name, value) -> properties.put(name, value.toString()));
      k = new Kafka(bootstrap != null ? bootstrap : k.bootstrapServers(),
          registry != null ? registry : k.schemaRegistryUrl(),
          prefix != null ? prefix : k.topicPrefix(), k.partitions(),
          replication != null ? replication : k.replicationFactor(), properties);
    }
    Http h = http;
    String port = blankToNull(env.get("FLYWHEEL_HTTP_PORT"));
    if (port != null) {
      try {
        h = new Http(Integer.parseInt(port.trim()));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("FLYWHEEL_HTTP_PORT must be a port number, got '"
            + port + "'", e);
      }
    }
    String state = blankToNull(env.get("FLYWHEEL_STATE_DIR"));
    return new PlatformConfig(k, h, state != null ? Path.of(state) : stateDir);
  }

  /** FLYWHEEL_REPLICATION_FACTOR's value, or null when it is not set. */
  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }
}
