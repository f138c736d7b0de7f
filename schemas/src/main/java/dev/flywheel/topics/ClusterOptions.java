package dev.flywheel.topics;

import dev.flywheel.serde.AvroSerdeConfig;
import dev.flywheel.serde.AvroSerdes;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The cluster a {@code flywheel} command talks to: a picocli mixin ({@code @Mixin ClusterOptions
 * cluster;}) shared by every command that reads or writes the log, so that they all take the
 * same options with the same defaults.
 *
 * <ul>
 *   <li>{@code --bootstrap-servers}, default {@value ServiceEnvironment#BOOTSTRAP_SERVERS}, else
 *       {@value ServiceEnvironment#DEFAULT_BOOTSTRAP_SERVERS};
 *   <li>{@code --schema-registry-url}, default {@value ServiceEnvironment#SCHEMA_REGISTRY_URL},
 *       else {@value ServiceEnvironment#DEFAULT_SCHEMA_REGISTRY_URL};
 *   <li>{@code --prefix}, the topic name prefix the platform runs with, default {@value
 *       ServiceEnvironment#TOPIC_PREFIX}, else none.
 * </ul>
 *
 * <p>The defaults are the variables the services read ({@link ServiceEnvironment}), so a shell
 * set up for a service also points the commands at its cluster. Kafka client properties (SASL,
 * TLS) come as for the services, from {@value ServiceEnvironment#KAFKA_ENV_PREFIX}{@code <NAME>}
 * variables and {@code -D}{@value ServiceEnvironment#KAFKA_PROPERTY_PREFIX}{@code <property>}:
 * see {@link #kafka()}. Schema registry settings (basic auth, a bearer token, TLS) come as for the
 * services too, from {@value ServiceEnvironment#SCHEMA_REGISTRY_ENV_PREFIX}{@code <NAME>}
 * variables and {@code -Dflywheel.schema.registry.<property>}: see {@link #schemaRegistry()}.
 */
public final class ClusterOptions {

  private final ServiceEnvironment env;

  @Option(names = "--bootstrap-servers", paramLabel = "<host:port>",
      description = "Kafka bootstrap servers (default: " + ServiceEnvironment.BOOTSTRAP_SERVERS
          + ", else " + ServiceEnvironment.DEFAULT_BOOTSTRAP_SERVERS + ").")
  private String bootstrapServers;

  @Option(names = "--schema-registry-url", paramLabel = "<url>",
      description = "Schema registry URL (default: " + ServiceEnvironment.SCHEMA_REGISTRY_URL
          + ", else " + ServiceEnvironment.DEFAULT_SCHEMA_REGISTRY_URL + ").")
  private String schemaRegistryUrl;

  @Option(names = "--prefix", paramLabel = "<prefix>",
      description = "Topic name prefix, as the platform was started with (default: "
          + ServiceEnvironment.TOPIC_PREFIX + ", else none).")
  private String prefix;

  /** Used by picocli: the defaults come from this process's environment. */
  public ClusterOptions() {
    this(ServiceEnvironment.fromSystem());
  }

  /** Options whose defaults come from {@code env}. */
  public ClusterOptions(ServiceEnvironment env) {
    this.env = env;
  }

  /** {@code --bootstrap-servers}, else the environment's. */
  public String bootstrapServers() {
    return bootstrapServers != null ? bootstrapServers : env.bootstrapServers();
  }

  /** {@code --schema-registry-url}, else the environment's. */
  public String schemaRegistryUrl() {
    return schemaRegistryUrl != null ? schemaRegistryUrl : env.schemaRegistryUrl();
  }

  /** {@code --prefix}, else the environment's; empty for none. */
  public String prefix() {
    return prefix != null ? prefix : env.topicPrefix();
  }

  /**
   * The services' schema registry settings ({@link ServiceEnvironment#schemaRegistry()}) on
   * {@link #schemaRegistryUrl()}. A new mutable map.
   *
   * @throws org.apache.kafka.common.config.ConfigException for a setting the registry client does
   *     not know, named
   */
  public Map<String, Object> schemaRegistry() {
    Map<String, Object> settings = env.schemaRegistry();
    settings.put(AvroSerdeConfig.SCHEMA_REGISTRY_URL, schemaRegistryUrl());
    return settings;
  }

  /** Serdes with {@link #schemaRegistry()}. */
  public AvroSerdes serdes() {
    return AvroSerdes.fromConfig(schemaRegistry());
  }

  /** Flywheel's topics under {@link #prefix()}. */
  public Topics topics(AvroSerdeFactory serdes) {
    return Topics.builder(serdes).prefix(prefix()).build();
  }

  /** The first part of every Flywheel topic name: {@code [prefix.]flywheel.}. */
  public String topicNamePrefix() {
    return (prefix().isEmpty() ? "" : prefix() + ".") + Topics.PLATFORM + ".";
  }

  /**
   * Kafka client properties for a command's clients: those of {@link ServiceEnvironment#kafka()},
   * with {@code bootstrap.servers} set to {@link #bootstrapServers()}. A new mutable map; it may
   * hold secrets, do not print it.
   */
  public Map<String, Object> kafka() {
    Map<String, Object> kafka = env.kafka();
    kafka.put("bootstrap.servers", bootstrapServers());
    return kafka;
  }
}
