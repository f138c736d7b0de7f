package dev.flywheel.serde;

import dev.flywheel.registry.SchemaRegistryClientConfig;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;
import org.apache.kafka.common.config.ConfigException;

/**
 * The serde's settings, read from a Kafka-style config map with Confluent's property names, so
 * that a {@code KafkaAvroSerializer}/{@code KafkaAvroDeserializer} config carries over unchanged.
 * Values may be strings or the matching Java types; other keys are ignored (the registry client
 * reads its own keys from the same map, see {@link SchemaRegistryClientConfig}), except the
 * Confluent keys Flywheel does not implement (below).
 *
 * <table>
 *   <caption>Keys</caption>
 *   <tr><th>key</th><th>meaning</th><th>default</th></tr>
 *   <tr><td>{@value #SCHEMA_REGISTRY_URL}</td><td>registry base URLs, comma-separated
 *       ({@code mock://scope} for the in-memory one); required unless a client is given</td>
 *       <td></td></tr>
 *   <tr><td>{@value #AUTO_REGISTER_SCHEMAS}</td><td>the serializer registers the datum's schema
 *       under its subject; when false it looks the schema up and fails if absent</td>
 *       <td>true</td></tr>
 *   <tr><td>{@value #USE_LATEST_VERSION}</td><td>the serializer writes with the subject's latest
 *       version instead of the datum's schema; as in Confluent, applies only when
 *       {@value #AUTO_REGISTER_SCHEMAS} is false</td><td>false</td></tr>
 *   <tr><td>{@value #LATEST_COMPATIBILITY_STRICT}</td><td>with {@value #USE_LATEST_VERSION},
 *       require the latest version to be able to read data of the datum's schema</td>
 *       <td>true</td></tr>
 *   <tr><td>{@value #LATEST_CACHE_TTL_SEC}</td><td>how long the serializer keeps the latest
 *       version before asking again; -1 keeps it for the serializer's life</td><td>-1</td></tr>
 *   <tr><td>{@value #USE_SCHEMA_ID}</td><td>the serializer writes with this registered schema id
 *       (when {@value #AUTO_REGISTER_SCHEMAS} is false); -1 disables</td><td>-1</td></tr>
 *   <tr><td>{@value #ID_COMPATIBILITY_STRICT}</td><td>with {@value #USE_SCHEMA_ID}, require that
 *       schema to be able to read data of the datum's schema</td><td>true</td></tr>
 *   <tr><td>{@value #NORMALIZE_SCHEMAS}</td><td>ask the registry to normalize schemas on
 *       register and lookup</td><td>false</td></tr>
 *   <tr><td>{@value #KEY_SUBJECT_NAME_STRATEGY}, {@value #VALUE_SUBJECT_NAME_STRATEGY}</td><td>a
 *       {@link SubjectNameStrategy}: class name, {@code Class} or instance; Confluent's names
 *       {@code io.confluent.kafka.serializers.subject.TopicNameStrategy}, {@code
 *       RecordNameStrategy} and {@code TopicRecordNameStrategy} are accepted as aliases</td>
 *       <td>{@link TopicNameStrategy}</td></tr>
 *   <tr><td>{@value #SPECIFIC_AVRO_READER}</td><td>the deserializer returns generated classes
 *       (found by the writer schema's full name) read with their own schema as reader</td>
 *       <td>false</td></tr>
 *   <tr><td>{@value #USE_LOGICAL_TYPE_CONVERTERS}</td><td>generic data uses Java types for
 *       Avro's logical types, as Confluent's serde does with this key: {@code BigDecimal}
 *       (decimal), {@code UUID}, {@code LocalDate} (date), {@code LocalTime} (time-millis,
 *       time-micros), {@code Instant} (timestamp-millis, timestamp-micros), {@code LocalDateTime}
 *       (local-timestamp-millis, local-timestamp-micros); the deserializer returns them and the
 *       serializer accepts them (and still the plain values). Generated classes always use
 *       their own conversions</td><td>false</td></tr>
 *   <tr><td>{@value #REMOVE_JAVA_PROPERTIES}</td><td>the serializer strips the {@code
 *       avro.java.*} properties (such as {@code "avro.java.string": "String"}, which the Avro
 *       compiler adds to generated classes' schemas) before it registers or looks up a schema,
 *       so that it finds the schema a kafkajs, Python or Kafka UI producer registered without
 *       them instead of failing (or registering a new version). The bytes written are the
 *       same</td><td>false</td></tr>
 *   <tr><td>{@value #READER_SCHEMA}</td><td>Flywheel extension: reader schema (JSON text or
 *       {@link Schema}) for the generic deserializer; without it, records are read with their
 *       writer schema</td><td></td></tr>
 * </table>
 *
 * <p>Confluent keys that Flywheel does not implement are refused with a {@link ConfigException}
 * naming the key when set to anything but their default, rather than ignored: {@code
 * schema.reflection} and {@code avro.reflection.allow.null} (true), {@code
 * specific.avro.key.type}, {@code specific.avro.value.type}, {@code use.latest.with.metadata},
 * {@code rule.executors}, {@code rule.actions} (any value) and {@code context.name.strategy}
 * (other than Confluent's {@code NullContextNameStrategy}).
 */
public final class AvroSerdeConfig {

  /** Registry base URLs, comma-separated. */
  public static final String SCHEMA_REGISTRY_URL = SchemaRegistryClientConfig.URL;
  /** Whether the serializer registers schemas. */
  public static final String AUTO_REGISTER_SCHEMAS = "auto.register.schemas";
  /** Whether the serializer writes with the subject's latest version. */
  public static final String USE_LATEST_VERSION = "use.latest.version";
  /** Whether the latest version must be able to read data of the datum's schema. */
  public static final String LATEST_COMPATIBILITY_STRICT = "latest.compatibility.strict";
  /** Seconds the latest version is cached; -1 for ever. */
  public static final String LATEST_CACHE_TTL_SEC = "latest.cache.ttl.sec";
  /** A registered schema id to write with; -1 disables. */
  public static final String USE_SCHEMA_ID = "use.schema.id";
  /** Whether the {@link #USE_SCHEMA_ID} schema must be able to read data of the datum's schema. */
  public static final String ID_COMPATIBILITY_STRICT = "id.compatibility.strict";
  /** Whether schemas are normalized by the registry on register and lookup. */
  public static final String NORMALIZE_SCHEMAS = "normalize.schemas";
  /** The subject name strategy of keys. */
  public static final String KEY_SUBJECT_NAME_STRATEGY = "key.subject.name.strategy";
  /** The subject name strategy of values. */
  public static final String VALUE_SUBJECT_NAME_STRATEGY = "value.subject.name.strategy";
  /** Whether the deserializer returns generated (specific) classes. */
  public static final String SPECIFIC_AVRO_READER = "specific.avro.reader";
  /** Whether generic data uses Java types (BigDecimal, Instant, UUID, ...) for logical types. */
  public static final String USE_LOGICAL_TYPE_CONVERTERS = "avro.use.logical.type.converters";
  /** Whether the serializer strips {@code avro.java.*} properties before register and lookup. */
  public static final String REMOVE_JAVA_PROPERTIES = "avro.remove.java.properties";
  /** Flywheel extension: the generic deserializer's reader schema. */
  public static final String READER_SCHEMA = "flywheel.avro.reader.schema";

  private static final String CONFLUENT_STRATEGIES = "io.confluent.kafka.serializers.subject.";

  // Confluent keys that Flywheel refuses when set to anything but their default
  static final String SCHEMA_REFLECTION = "schema.reflection";
  static final String AVRO_REFLECTION_ALLOW_NULL = "avro.reflection.allow.null";
  static final String SPECIFIC_AVRO_KEY_TYPE = "specific.avro.key.type";
  static final String SPECIFIC_AVRO_VALUE_TYPE = "specific.avro.value.type";
  static final String USE_LATEST_WITH_METADATA = "use.latest.with.metadata";
  static final String RULE_EXECUTORS = "rule.executors";
  static final String RULE_ACTIONS = "rule.actions";
  static final String CONTEXT_NAME_STRATEGY = "context.name.strategy";

  private final boolean autoRegisterSchemas;
  private final boolean useLatestVersion;
  private final boolean latestCompatibilityStrict;
  private final Duration latestCacheTtl;
  private final int useSchemaId;
  private final boolean idCompatibilityStrict;
  private final boolean normalizeSchemas;
  private final SubjectNameStrategy keySubjectNameStrategy;
  private final SubjectNameStrategy valueSubjectNameStrategy;
  private final boolean specificAvroReader;
  private final boolean useLogicalTypeConverters;
  private final boolean removeJavaProperties;
  private final Schema readerSchema;

  private AvroSerdeConfig(Map<String, ?> config) {
    refuseUnsupported(config);
    autoRegisterSchemas = bool(config, AUTO_REGISTER_SCHEMAS, true);
    useLatestVersion = bool(config, USE_LATEST_VERSION, false);
    latestCompatibilityStrict = bool(config, LATEST_COMPATIBILITY_STRICT, true);
    long ttl = number(config, LATEST_CACHE_TTL_SEC, -1);
    latestCacheTtl = ttl < 0 ? null : Duration.ofSeconds(ttl);
    useSchemaId = (int) number(config, USE_SCHEMA_ID, -1);
    idCompatibilityStrict = bool(config, ID_COMPATIBILITY_STRICT, true);
    normalizeSchemas = bool(config, NORMALIZE_SCHEMAS, false);
    keySubjectNameStrategy = strategy(config, KEY_SUBJECT_NAME_STRATEGY);
    valueSubjectNameStrategy = strategy(config, VALUE_SUBJECT_NAME_STRATEGY);
    specificAvroReader = bool(config, SPECIFIC_AVRO_READER, false);
    useLogicalTypeConverters = bool(config, USE_LOGICAL_TYPE_CONVERTERS, false);
    removeJavaProperties = bool(config, REMOVE_JAVA_PROPERTIES, false);
    readerSchema = schema(config, READER_SCHEMA);
  }

  /**
   * The settings of {@code config}.
   *
   * @throws ConfigException naming the key when a value is invalid
   */
  public static AvroSerdeConfig of(Map<String, ?> config) {
    return new AvroSerdeConfig(Objects.requireNonNull(config, "config"));
  }

  /** Every setting at its default. */
  public static AvroSerdeConfig defaults() {
    return new AvroSerdeConfig(Map.of());
  }

  /** {@value #AUTO_REGISTER_SCHEMAS}, default true. */
  public boolean autoRegisterSchemas() {
    return autoRegisterSchemas;
  }

  /** {@value #USE_LATEST_VERSION}, default false. */
  public boolean useLatestVersion() {
    return useLatestVersion;
  }

  /** {@value #LATEST_COMPATIBILITY_STRICT}, default true. */
  public boolean latestCompatibilityStrict() {
    return latestCompatibilityStrict;
  }

  /** {@value #LATEST_CACHE_TTL_SEC}; empty means the latest version is cached for ever. */
  public Optional<Duration> latestCacheTtl() {
    return Optional.ofNullable(latestCacheTtl);
  }

  /** {@value #USE_SCHEMA_ID}, or -1 when not set. */
  public int useSchemaId() {
    return useSchemaId;
  }

  /** {@value #ID_COMPATIBILITY_STRICT}, default true. */
  public boolean idCompatibilityStrict() {
    return idCompatibilityStrict;
  }

  /** {@value #NORMALIZE_SCHEMAS}, default false. */
  public boolean normalizeSchemas() {
    return normalizeSchemas;
  }

  /** The subject name strategy of keys ({@code isKey}) or values; never null. */
  public SubjectNameStrategy subjectNameStrategy(boolean isKey) {
    return isKey ? keySubjectNameStrategy : valueSubjectNameStrategy;
  }

  /** {@value #SPECIFIC_AVRO_READER}, default false. */
  public boolean specificAvroReader() {
    return specificAvroReader;
  }

  /** {@value #USE_LOGICAL_TYPE_CONVERTERS}, default false. */
  public boolean useLogicalTypeConverters() {
    return useLogicalTypeConverters;
  }

  /** {@value #REMOVE_JAVA_PROPERTIES}, default false (as in Confluent's serializer). */
  public boolean removeJavaProperties() {
    return removeJavaProperties;
  }

  /** {@value #READER_SCHEMA}; empty when the writer schema is the reader. */
  public Optional<Schema> readerSchema() {
    return Optional.ofNullable(readerSchema);
  }

  /**
   * Refuses Confluent serde keys that Flywheel does not implement when they are set to anything
   * but their default, rather than ignore them: each would change what is written or read.
   */
  private static void refuseUnsupported(Map<String, ?> config) {
    for (String key : new String[] {SCHEMA_REFLECTION, AVRO_REFLECTION_ALLOW_NULL}) {
      if (bool(config, key, false)) {
        throw unsupported(key, config.get(key), "Flywheel's serde writes and reads generated "
            + "(specific) and generic records, not Java classes by reflection; generate classes "
            + "from the schema with the avro-maven-plugin, or use GenericRecord, and remove the key");
      }
    }
    for (String key : new String[] {SPECIFIC_AVRO_KEY_TYPE, SPECIFIC_AVRO_VALUE_TYPE}) {
      if (isSet(config, key)) {
        throw unsupported(key, config.get(key), "give the generated class to the serde instead "
            + "(new SpecificAvroSerde<>(client, TheClass.class) or new AvroDeserializer<>(client, "
            + "TheClass.class)), or use " + SPECIFIC_AVRO_READER + "=true, which reads each record "
            + "as the generated class its writer schema names");
      }
    }
    if (isSet(config, USE_LATEST_WITH_METADATA)) {
      throw unsupported(USE_LATEST_WITH_METADATA, config.get(USE_LATEST_WITH_METADATA),
          "use " + USE_LATEST_VERSION + " or " + USE_SCHEMA_ID + " (with "
              + AUTO_REGISTER_SCHEMAS + "=false) to choose the writer schema");
    }
    for (String key : new String[] {RULE_EXECUTORS, RULE_ACTIONS}) {
      if (isSet(config, key)) {
        throw unsupported(key, config.get(key), "Flywheel's serde does not run data-contract "
            + "rules; remove the key");
      }
    }
    if (isSet(config, CONTEXT_NAME_STRATEGY) && !String.valueOf(config.get(CONTEXT_NAME_STRATEGY))
        .trim().endsWith(".NullContextNameStrategy")) {
      throw unsupported(CONTEXT_NAME_STRATEGY, config.get(CONTEXT_NAME_STRATEGY),
          "Flywheel's serde uses the default context only; remove the key");
    }
  }

  private static boolean isSet(Map<String, ?> config, String key) {
    Object value = config.get(key);
    return value != null && !String.valueOf(value).isBlank();
  }

  private static ConfigException unsupported(String key, Object value, String whatToDo) {
    return new ConfigException(key, value, "this Confluent setting is not supported by "
        + "Flywheel's serde (it would be ignored); " + whatToDo);
  }

  private static boolean bool(Map<String, ?> config, String key, boolean fallback) {
    Object value = config.get(key);
    if (value == null) {
      return fallback;
    }
    if (value instanceof Boolean b) {
      return b;
    }
    String text = String.valueOf(value).trim().toLowerCase(Locale.ROOT);
    if (text.equals("true")) {
      return true;
    }
    if (text.equals("false")) {
      return false;
    }
    throw new ConfigException(key, value, "expected true or false");
  }

  private static long number(Map<String, ?> config, String key, long fallback) {
    Object value = config.get(key);
    if (value == null) {
      return fallback;
    }
    if (value instanceof Number n) {
      return n.longValue();
    }
    try {
      return Long.parseLong(String.valueOf(value).trim());
    } catch (NumberFormatException e) {
      throw new ConfigException(key, value, "expected an integer");
    }
  }

  private static Schema schema(Map<String, ?> config, String key) {
    Object value = config.get(key);
    if (value == null) {
      return null;
    }
    if (value instanceof Schema s) {
      return s;
    }
    try {
      return new Schema.Parser().parse(String.valueOf(value));
    } catch (SchemaParseException e) {
      throw new ConfigException(key, "(schema)", "not a valid Avro schema: " + e.getMessage());
    }
  }

  private static SubjectNameStrategy strategy(Map<String, ?> config, String key) {
    Object value = config.get(key);
    SubjectNameStrategy strategy;
    if (value == null) {
      strategy = new TopicNameStrategy();
    } else if (value instanceof SubjectNameStrategy s) {
      strategy = s;
    } else if (value instanceof Class<?> c) {
      strategy = instantiate(key, c);
    } else {
      strategy = byName(key, String.valueOf(value).trim());
    }
    strategy.configure(config);
    return strategy;
  }

  private static SubjectNameStrategy byName(String key, String name) {
    if (name.startsWith(CONFLUENT_STRATEGIES)) {
      switch (name.substring(CONFLUENT_STRATEGIES.length())) {
        case "TopicNameStrategy":
          return new TopicNameStrategy();
        case "RecordNameStrategy":
          return new RecordNameStrategy();
        case "TopicRecordNameStrategy":
          return new TopicRecordNameStrategy();
        default:
          throw new ConfigException(key, name, "unknown Confluent strategy; supported are "
              + "TopicNameStrategy, RecordNameStrategy and TopicRecordNameStrategy");
      }
    }
    Class<?> type;
    try {
      ClassLoader loader = Thread.currentThread().getContextClassLoader();
      type = Class.forName(name, true, loader != null ? loader : AvroSerdeConfig.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      throw new ConfigException(key, name, "class not found");
    }
    return instantiate(key, type);
  }

  private static SubjectNameStrategy instantiate(String key, Class<?> type) {
    if (!SubjectNameStrategy.class.isAssignableFrom(type)) {
      throw new ConfigException(key, type.getName(), "not a " + SubjectNameStrategy.class.getName());
    }
    try {
      return (SubjectNameStrategy) type.getDeclaredConstructor().newInstance();
    } catch (ReflectiveOperationException e) {
      throw new ConfigException(key, type.getName(), "cannot instantiate it with a public "
          + "no-argument constructor: " + e);
    }
  }
}
