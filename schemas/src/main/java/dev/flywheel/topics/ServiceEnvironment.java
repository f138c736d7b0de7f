package dev.flywheel.topics;

import dev.flywheel.registry.SchemaRegistryClientConfig;
import dev.flywheel.serde.AvroSerdeConfig;
import dev.flywheel.serde.AvroSerdes;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import org.apache.kafka.common.config.ConfigException;

/**
 * What a service's {@code main} reads from its environment, with the embedded stack's defaults:
 * {@value #BOOTSTRAP_SERVERS} ({@value #DEFAULT_BOOTSTRAP_SERVERS}), {@value #SCHEMA_REGISTRY_URL}
 * ({@value #DEFAULT_SCHEMA_REGISTRY_URL}), {@value #TOPIC_PREFIX} (none), {@value #STATE_DIR}
 * ({@value #DEFAULT_STATE_DIR}), Kafka client properties (SASL, TLS, timeouts) and schema
 * registry settings (credentials, TLS). A variable that is unset or blank counts as absent.
 *
 * <p>Kafka client properties come two ways, and {@link #kafka()} layers them, each later one
 * winning over the earlier:
 *
 * <ol>
 *   <li>{@code bootstrap.servers} from {@value #BOOTSTRAP_SERVERS} (or its default);
 *   <li>environment variables {@value #KAFKA_ENV_PREFIX}{@code <NAME>}, the rest of the name
 *       lower-cased with {@code _} as {@code .}: {@code FLYWHEEL_KAFKA_SASL_JAAS_CONFIG} is {@code
 *       sasl.jaas.config} ({@link #kafkaFromEnv()});
 *   <li>system properties {@code -D}{@value #KAFKA_PROPERTY_PREFIX}{@code <property>=<value>},
 *       prefix removed.
 * </ol>
 *
 * <p>A property whose name itself holds an {@code _} can only be given as a system property. A
 * service that read another prefix before keeps it with {@link #kafka(String)}. The values may be
 * secrets ({@code sasl.jaas.config}, {@code ssl.*.password}): do not log the map.
 *
 * <p>Schema registry client and Avro serde settings (credentials, TLS, retries, {@code
 * auto.register.schemas}) come the same two ways, and {@link #schemaRegistry()} layers them over
 * {@code schema.registry.url} from {@value #SCHEMA_REGISTRY_URL}: environment variables {@value
 * #SCHEMA_REGISTRY_ENV_PREFIX}{@code <NAME>}, then system properties {@code -D}{@value
 * #SCHEMA_REGISTRY_PROPERTY_PREFIX}{@code <property>=<value>}. The rest of a variable's name is
 * lower-cased with {@code _} as {@code .}; that name, or the rest of a property's, is the key when
 * the registry client or the serde reads it ({@code FLYWHEEL_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO}
 * is {@code basic.auth.user.info}), else the key is it prefixed {@code schema.registry.} ({@code
 * FLYWHEEL_SCHEMA_REGISTRY_SSL_TRUSTSTORE_LOCATION} is {@code
 * schema.registry.ssl.truststore.location}). A name that gives neither is refused. These values
 * may be secrets too ({@code basic.auth.user.info}, {@code bearer.auth.token}): do not log them.
 *
 * <pre>{@code
 * ServiceEnvironment env = ServiceEnvironment.fromSystem();
 * AvroSerdes serdes = env.serdes();
 * MyService service = MyService.builder().kafka(env.kafka()).serdes(serdes)
 *     .topics(env.topics(serdes)).stateDir(env.stateDir()).build().start();
 * ServiceEnvironment.ShutdownLatch stopped =
 *     ServiceEnvironment.closeOnShutdown("my-service-shutdown", service);
 * System.out.println("my service running");
 * stopped.await();
 * }</pre>
 *
 * <p>Reads nothing but the map and properties it is given, so tests pass their own.
 */
public final class ServiceEnvironment {

  /** Kafka bootstrap servers. */
  public static final String BOOTSTRAP_SERVERS = "FLYWHEEL_BOOTSTRAP_SERVERS";
  /** Schema registry URL. */
  public static final String SCHEMA_REGISTRY_URL = "FLYWHEEL_SCHEMA_REGISTRY_URL";
  /** Prefix of every topic name (see {@link Topics.Builder#prefix}). */
  public static final String TOPIC_PREFIX = "FLYWHEEL_TOPIC_PREFIX";
  /** Folder of the service's local state. */
  public static final String STATE_DIR = "FLYWHEEL_STATE_DIR";
  /** Replication factor of the topics the service creates, its internal ones included. */
  public static final String REPLICATION_FACTOR = "FLYWHEEL_REPLICATION_FACTOR";

  /** Bootstrap servers of the embedded stack. */
  public static final String DEFAULT_BOOTSTRAP_SERVERS = "127.0.0.1:9092";
  /** Schema registry of the embedded stack. */
  public static final String DEFAULT_SCHEMA_REGISTRY_URL = "http://127.0.0.1:8081";
  /** State folder, relative to the working directory, when {@value #STATE_DIR} is not set. */
  public static final String DEFAULT_STATE_DIR = ".flywheel/state";

  /** System properties with this prefix are passed to the Kafka clients, prefix removed. */
  public static final String KAFKA_PROPERTY_PREFIX = "flywheel.kafka.";
  /**
   * Environment variables with this prefix are passed to the Kafka clients: the rest of the name
   * lower-cased, {@code _} as {@code .}.
   */
  public static final String KAFKA_ENV_PREFIX = "FLYWHEEL_KAFKA_";

  /**
   * System properties with this prefix are passed to the schema registry client and the Avro
   * serdes, prefix removed (see {@link #schemaRegistry()} for the name).
   */
  public static final String SCHEMA_REGISTRY_PROPERTY_PREFIX = "flywheel.schema.registry.";
  /**
   * Environment variables with this prefix are passed to the schema registry client and the Avro
   * serdes: the rest of the name lower-cased, {@code _} as {@code .} (see {@link
   * #schemaRegistry()} for the name).
   */
  public static final String SCHEMA_REGISTRY_ENV_PREFIX = "FLYWHEEL_SCHEMA_REGISTRY_";

  /**
   * Every key {@link SchemaRegistryClientConfig} and {@link AvroSerdeConfig} read, those they
   * refuse included (so that they say why), sorted.
   */
  private static final Set<String> SCHEMA_REGISTRY_KEYS = schemaRegistryKeys();

  private final Map<String, String> env;
  private final Properties properties;

  /**
   * An environment read from {@code env} (variables) and {@code properties} (system properties).
   * Both are read as they are when a method is called.
   */
  public ServiceEnvironment(Map<String, String> env, Properties properties) {
    this.env = Objects.requireNonNull(env, "env");
    this.properties = Objects.requireNonNull(properties, "properties");
  }

  /** The process's environment ({@link System#getenv()}) and {@link System#getProperties()}. */
  public static ServiceEnvironment fromSystem() {
    return new ServiceEnvironment(System.getenv(), System.getProperties());
  }

  /** The variable {@code name}, or {@code fallback} when it is unset or blank. */
  public String get(String name, String fallback) {
    return find(name).orElse(fallback);
  }

  /** The variable {@code name}; empty when it is unset or blank. */
  public Optional<String> find(String name) {
    String value = env.get(name);
    return value == null || value.isBlank() ? Optional.empty() : Optional.of(value);
  }

  /** {@value #BOOTSTRAP_SERVERS}, default {@value #DEFAULT_BOOTSTRAP_SERVERS}. */
  public String bootstrapServers() {
    return get(BOOTSTRAP_SERVERS, DEFAULT_BOOTSTRAP_SERVERS);
  }

  /** {@value #SCHEMA_REGISTRY_URL}, default {@value #DEFAULT_SCHEMA_REGISTRY_URL}. */
  public String schemaRegistryUrl() {
    return get(SCHEMA_REGISTRY_URL, DEFAULT_SCHEMA_REGISTRY_URL);
  }

  /** {@value #TOPIC_PREFIX}; empty (no prefix) when unset or blank. */
  public String topicPrefix() {
    return get(TOPIC_PREFIX, "");
  }

  /**
   * {@value #REPLICATION_FACTOR}; empty when it is not set.
   *
   * @throws IllegalArgumentException when it is not a whole number of at least 1, saying so
   */
  public Optional<Short> replicationFactor() {
    return find(REPLICATION_FACTOR).map(String::trim).map(value -> {
      int factor;
      try {
        factor = Integer.parseInt(value);
      } catch (NumberFormatException e) {
        factor = 0;
      }
      if (factor < 1 || factor > Short.MAX_VALUE) {
        throw new IllegalArgumentException(REPLICATION_FACTOR + " must be a whole number >= 1"
            + " (how many brokers hold a copy of each partition; at most the brokers of the"
            + " cluster), got '" + value + "'");
      }
      return (short) factor;
    });
  }

  /** {@value #STATE_DIR}, default {@value #DEFAULT_STATE_DIR}. */
  public Path stateDir() {
    return Path.of(get(STATE_DIR, DEFAULT_STATE_DIR));
  }

  /**
   * Avro serdes whose registry client talks to {@link #schemaRegistryUrl()}, with the settings of
   * {@link #schemaRegistry()}.
   *
   * @throws ConfigException when a {@value #SCHEMA_REGISTRY_ENV_PREFIX} variable or {@value
   *     #SCHEMA_REGISTRY_PROPERTY_PREFIX} property names no setting, or a value is invalid
   */
  public AvroSerdes serdes() {
    return AvroSerdes.fromConfig(schemaRegistry());
  }

  /**
   * Schema registry client and Avro serde settings: {@code schema.registry.url} from {@link
   * #schemaRegistryUrl()}, then the {@value #SCHEMA_REGISTRY_ENV_PREFIX} variables, then the
   * {@value #SCHEMA_REGISTRY_PROPERTY_PREFIX} system properties, each winning over the one before.
   * The rest of a variable's name is lower-cased with {@code _} as {@code .}; that name, or the
   * rest of a property's, is the key when {@link SchemaRegistryClientConfig} or {@link
   * AvroSerdeConfig} reads it, else the key is it prefixed {@code schema.registry.}: {@code
   * FLYWHEEL_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO} and {@code
   * -Dflywheel.schema.registry.basic.auth.user.info} are {@code basic.auth.user.info}, {@code
   * FLYWHEEL_SCHEMA_REGISTRY_SSL_TRUSTSTORE_LOCATION} and {@code
   * -Dflywheel.schema.registry.ssl.truststore.location} are {@code
   * schema.registry.ssl.truststore.location}. Blank variables count as absent. A new mutable map;
   * it may hold secrets, do not log it.
   *
   * @throws ConfigException naming the variable or property (never its value) when it gives no key
   *     the registry client or the serde reads, or when two of the same kind give one key
   */
  public Map<String, Object> schemaRegistry() {
    Map<String, Object> registry = new HashMap<>();
    registry.put(SchemaRegistryClientConfig.URL, schemaRegistryUrl());
    registry.putAll(schemaRegistryFromEnv());
    registry.putAll(schemaRegistryFromProperties());
    return registry;
  }

  /**
   * The {@value #SCHEMA_REGISTRY_ENV_PREFIX}{@code <NAME>} variables that are not blank, by the key
   * each gives (see {@link #schemaRegistry()}). A new mutable map.
   *
   * @throws ConfigException as {@link #schemaRegistry()}
   */
  public Map<String, Object> schemaRegistryFromEnv() {
    Map<String, Object> found = new HashMap<>();
    Map<String, String> givenBy = new HashMap<>();
    new TreeMap<>(env).forEach((name, value) -> {
      if (name.startsWith(SCHEMA_REGISTRY_ENV_PREFIX)
          && name.length() > SCHEMA_REGISTRY_ENV_PREFIX.length()
          && value != null && !value.isBlank()
          && !SERVICE_LINK.matcher(name.substring(SCHEMA_REGISTRY_ENV_PREFIX.length())).matches()) {
        String key = schemaRegistryKey("environment variable " + name,
            name.substring(SCHEMA_REGISTRY_ENV_PREFIX.length()).toLowerCase(Locale.ROOT)
                .replace('_', '.'));
        putOnce(found, givenBy, key, value, "environment variable " + name);
      }
    });
    return found;
  }

  /**
   * The {@value #SCHEMA_REGISTRY_PROPERTY_PREFIX}{@code <property>} system properties, by the key
   * each gives (see {@link #schemaRegistry()}). A new mutable map.
   *
   * @throws ConfigException as {@link #schemaRegistry()}
   */
  Map<String, Object> schemaRegistryFromProperties() {
    Map<String, Object> found = new HashMap<>();
    Map<String, String> givenBy = new HashMap<>();
    new TreeMap<>(propertiesWithPrefix(SCHEMA_REGISTRY_PROPERTY_PREFIX)).forEach((name, value) -> {
      String property = "system property " + SCHEMA_REGISTRY_PROPERTY_PREFIX + name;
      putOnce(found, givenBy, schemaRegistryKey(property, name), value, property);
    });
    return found;
  }

  /**
   * The rest of the names of the variables Kubernetes sets for a Service (its "service links"):
   * a Service named {@code flywheel-schema-registry} gives every pod of its namespace {@code
   * FLYWHEEL_SCHEMA_REGISTRY_SERVICE_HOST}, {@code ..._SERVICE_PORT}, {@code ..._PORT} and
   * {@code ..._PORT_8081_TCP...}, and one named {@code flywheel-schema-registry-ui} the same
   * with {@code _UI} before them. They are not registry settings and are passed over, where any
   * other unknown name is refused.
   */
  private static final java.util.regex.Pattern SERVICE_LINK = java.util.regex.Pattern.compile(
      "([A-Z0-9_]+_)?(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?"
          + "|PORT(_[0-9]+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?)?)");

  /** The key {@code name} gives: itself when known, else prefixed {@code schema.registry.}. */
  private static String schemaRegistryKey(String source, String name) {
    if (SCHEMA_REGISTRY_KEYS.contains(name)) {
      return name;
    }
    String prefixed = "schema.registry." + name;
    if (SCHEMA_REGISTRY_KEYS.contains(prefixed)) {
      return prefixed;
    }
    throw new ConfigException(source + " gives " + name + ", which is not a setting of the "
        + "schema registry client or the Avro serde (nor is " + prefixed + "); fix its name or "
        + "remove it. The settings are: " + String.join(", ", SCHEMA_REGISTRY_KEYS));
  }

  private static void putOnce(Map<String, Object> found, Map<String, String> givenBy, String key,
      Object value, String source) {
    String earlier = givenBy.putIfAbsent(key, source);
    if (earlier != null) {
      throw new ConfigException(earlier + " and " + source + " both give " + key
          + "; keep one of them");
    }
    found.put(key, value);
  }

  private static Set<String> schemaRegistryKeys() {
    Set<String> keys = new TreeSet<>(SchemaRegistryClientConfig.KEYS);
    keys.addAll(List.of(
        AvroSerdeConfig.AUTO_REGISTER_SCHEMAS,
        AvroSerdeConfig.USE_LATEST_VERSION,
        AvroSerdeConfig.LATEST_COMPATIBILITY_STRICT,
        AvroSerdeConfig.LATEST_CACHE_TTL_SEC,
        AvroSerdeConfig.USE_SCHEMA_ID,
        AvroSerdeConfig.ID_COMPATIBILITY_STRICT,
        AvroSerdeConfig.NORMALIZE_SCHEMAS,
        AvroSerdeConfig.KEY_SUBJECT_NAME_STRATEGY,
        AvroSerdeConfig.VALUE_SUBJECT_NAME_STRATEGY,
        AvroSerdeConfig.SPECIFIC_AVRO_READER,
        AvroSerdeConfig.USE_LOGICAL_TYPE_CONVERTERS,
        AvroSerdeConfig.REMOVE_JAVA_PROPERTIES,
        AvroSerdeConfig.READER_SCHEMA,
        "schema.reflection", "avro.reflection.allow.null", "specific.avro.key.type",
        "specific.avro.value.type", "use.latest.with.metadata", "rule.executors",
        "rule.actions", "context.name.strategy"));
    return Collections.unmodifiableSet(keys);
  }

  /**
   * The topic catalogue with {@link #topicPrefix()}, {@link #replicationFactor()} when set, and
   * otherwise default settings.
   *
   * @throws IllegalArgumentException if {@value #TOPIC_PREFIX} is not a legal prefix or {@value
   *     #REPLICATION_FACTOR} not a replication factor
   */
  public Topics topics(AvroSerdeFactory serdes) {
    Topics.Builder topics = Topics.builder(serdes).prefix(topicPrefix());
    replicationFactor().ifPresent(topics::replicationFactor);
    return topics.build();
  }

  /**
   * Kafka client settings: {@code bootstrap.servers} from {@link #bootstrapServers()}, then the
   * {@value #KAFKA_ENV_PREFIX} variables, then the {@value #KAFKA_PROPERTY_PREFIX} system
   * properties ({@link #kafkaOverrides()}), each winning over the one before. A new mutable map on
   * each call.
   */
  public Map<String, Object> kafka() {
    return layeredKafka(List.of());
  }

  /**
   * As {@link #kafka()}, with also the system properties prefixed {@code olderPropertyPrefix}
   * (prefix removed): for a service that took its Kafka properties under another prefix before.
   * They win over the variables and lose to the {@value #KAFKA_PROPERTY_PREFIX} properties.
   */
  public Map<String, Object> kafka(String olderPropertyPrefix) {
    return layeredKafka(
        List.of(Objects.requireNonNull(olderPropertyPrefix, "olderPropertyPrefix")));
  }

  private Map<String, Object> layeredKafka(List<String> olderPropertyPrefixes) {
    Map<String, Object> kafka = new HashMap<>();
    kafka.put("bootstrap.servers", bootstrapServers());
    kafka.putAll(kafkaFromEnv());
    olderPropertyPrefixes.forEach(prefix -> kafka.putAll(propertiesWithPrefix(prefix)));
    kafka.putAll(propertiesWithPrefix(KAFKA_PROPERTY_PREFIX));
    return kafka;
  }

  /**
   * The Kafka client properties given in the environment and as system properties, without the
   * {@link #bootstrapServers()} base: {@link #kafkaFromEnv()}, then the {@value
   * #KAFKA_PROPERTY_PREFIX} properties, which win. A new mutable map.
   */
  Map<String, Object> kafkaOverrides() {
    Map<String, Object> overrides = kafkaFromEnv();
    overrides.putAll(propertiesWithPrefix(KAFKA_PROPERTY_PREFIX));
    return overrides;
  }

  /**
   * The {@value #KAFKA_ENV_PREFIX}{@code <NAME>} variables that are not blank, named {@code <name>}
   * lower-cased with {@code _} as {@code .} ({@code FLYWHEEL_KAFKA_SECURITY_PROTOCOL} is {@code
   * security.protocol}). A new mutable map.
   */
  public Map<String, Object> kafkaFromEnv() {
    Map<String, Object> found = new HashMap<>();
    env.forEach((name, value) -> {
      if (name.startsWith(KAFKA_ENV_PREFIX) && name.length() > KAFKA_ENV_PREFIX.length()
          && value != null && !value.isBlank()) {
        found.put(name.substring(KAFKA_ENV_PREFIX.length()).toLowerCase(Locale.ROOT)
            .replace('_', '.'), value);
      }
    });
    return found;
  }

  /** The properties whose names start with {@code prefix}, prefix removed. A new mutable map. */
  Map<String, Object> propertiesWithPrefix(String prefix) {
    Objects.requireNonNull(prefix, "prefix");
    Map<String, Object> found = new HashMap<>();
    for (String name : properties.stringPropertyNames()) {
      if (name.startsWith(prefix)) {
        found.put(name.substring(prefix.length()), properties.getProperty(name));
      }
    }
    return found;
  }

  /**
   * Registers a JVM shutdown hook, on a thread named {@code threadName}, that closes {@code
   * services} in the order given and then releases the returned latch. Call it once the services
   * exist, and {@link ShutdownLatch#await()} at the end of {@code main} to block until the JVM is
   * asked to stop (SIGTERM, Ctrl-C).
   *
   * <p>Each service is closed even when an earlier one throws; the first failure, with the later
   * ones suppressed, is then thrown on the hook thread.
   */
  public static ShutdownLatch closeOnShutdown(String threadName, AutoCloseable... services) {
    return closeOnShutdown(Runtime.getRuntime()::addShutdownHook, threadName, services);
  }

  /** {@link #closeOnShutdown(String, AutoCloseable...)} with the hook handed to {@code hooks}. */
  static ShutdownLatch closeOnShutdown(Consumer<Thread> hooks, String threadName,
      AutoCloseable... services) {
    Objects.requireNonNull(threadName, "threadName");
    List<AutoCloseable> toClose = List.of(services);
    CountDownLatch stopped = new CountDownLatch(1);
    hooks.accept(new Thread(() -> {
      try {
        closeAll(toClose);
      } finally {
        stopped.countDown();
      }
    }, threadName));
    return new ShutdownLatch(stopped);
  }

  private static void closeAll(List<AutoCloseable> services) {
    RuntimeException failure = null;
    for (AutoCloseable service : services) {
      try {
        service.close();
      } catch (Exception e) {
        if (failure == null) {
          failure = e instanceof RuntimeException r ? r
              : new IllegalStateException("closing " + service + " failed", e);
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  /** Released once the shutdown hook of {@link #closeOnShutdown} has closed its services. */
  public static final class ShutdownLatch {

    private final CountDownLatch stopped;

    private ShutdownLatch(CountDownLatch stopped) {
      this.stopped = stopped;
    }

    /** Blocks until the services are closed. */
    public void await() throws InterruptedException {
      stopped.await();
    }
  }
}
