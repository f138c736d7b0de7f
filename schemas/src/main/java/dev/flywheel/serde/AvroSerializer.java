package dev.flywheel.serde;

import dev.flywheel.registry.RegisteredSchema;
import dev.flywheel.registry.SchemaRegistryClient;
import dev.flywheel.registry.SchemaRegistryException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.generic.GenericContainer;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Serializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serializes Avro data to the Confluent wire format: magic byte {@code 0x00}, the writer schema's
 * registry id as a big-endian int32, then the Avro binary encoding of the datum with that schema.
 * Byte for byte what Confluent's {@code KafkaAvroSerializer} writes, so any Confluent-compatible
 * consumer reads it.
 *
 * <p>Accepts generated (specific) records, generic records, and the primitives Confluent's
 * serializer accepts (strings, int, long, float, double, boolean, {@code byte[]}/{@link
 * ByteBuffer}); {@code null} serializes to {@code null} (a tombstone). Generic data may hold
 * {@code BigDecimal}, {@code Instant}, {@code UUID}, {@code LocalDate} and the other Java types of
 * Avro's logical types when {@value AvroSerdeConfig#USE_LOGICAL_TYPE_CONVERTERS} is true. With
 * {@value AvroSerdeConfig#REMOVE_JAVA_PROPERTIES}, schemas are registered and looked up without
 * their {@code avro.java.*} properties. Configured with {@link
 * AvroSerdeConfig}'s keys: by Kafka ({@link #configure}) after the no-argument constructor, or
 * programmatically with a {@link SchemaRegistryClient}.
 *
 * <p><b>Fast path.</b> The registry is asked once per (topic, schema object); the answer, the
 * subject and a cached {@link DatumWriter} are kept by schema identity, with the last one used
 * checked first, so a stream of one type costs one reference comparison before encoding. The
 * header and the body are encoded straight into a per-thread growing array and copied once into
 * the result. Up to 1000 (topic, schema) pairs are kept; a producer that builds a new schema
 * object per record still works, the cache is emptied when full.
 *
 * <p>Thread-safe once configured; Kafka configures it before any {@code send}. Failures raise
 * {@link SerializationException} naming the topic and the problem; registry failures keep the
 * {@link SchemaRegistryException} as cause.
 *
 * @param <T> the type of data serialized
 */
public final class AvroSerializer<T> implements Serializer<T> {

  private static final Logger LOG = LoggerFactory.getLogger(AvroSerializer.class);
  private static final int MAX_TARGETS = 1000;

  private SchemaRegistryClient client;
  private boolean ownsClient;
  private AvroSerdeConfig config;
  private boolean isKey;
  private SubjectNameStrategy strategy;
  private final Map<TargetKey, Target> targets = new ConcurrentHashMap<>();
  private volatile Target last;

  /** For Kafka: {@link #configure} must follow, with {@value AvroSerdeConfig#SCHEMA_REGISTRY_URL}. */
  public AvroSerializer() {}

  /**
   * A value serializer using {@code client} with the default settings; {@link #configure} may
   * still change the settings (the client stays).
   */
  public AvroSerializer(SchemaRegistryClient client) {
    this.client = Objects.requireNonNull(client, "client");
    apply(AvroSerdeConfig.defaults(), false);
  }

  /**
   * A serializer using {@code client}, configured with {@code config} (registry keys in it are
   * ignored).
   *
   * @throws org.apache.kafka.common.config.ConfigException when a value is invalid
   */
  public AvroSerializer(SchemaRegistryClient client, Map<String, ?> config, boolean isKey) {
    this.client = Objects.requireNonNull(client, "client");
    configure(config, isKey);
  }

  /**
   * Applies {@link AvroSerdeConfig} settings; builds the registry client from the same map when
   * none was given to the constructor.
   *
   * @throws org.apache.kafka.common.config.ConfigException when a value is invalid, or the
   *     registry URL is missing and no client was given
   */
  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    AvroSerdeConfig parsed = AvroSerdeConfig.of(configs);
    if (client == null || ownsClient) {
      client = SchemaRegistryClient.fromConfig(configs);
      ownsClient = true;
    }
    apply(parsed, isKey);
  }

  private void apply(AvroSerdeConfig parsed, boolean isKey) {
    this.config = parsed;
    this.isKey = isKey;
    this.strategy = parsed.subjectNameStrategy(isKey);
    this.targets.clear();
    this.last = null;
    if (parsed.autoRegisterSchemas() && (parsed.useLatestVersion() || parsed.useSchemaId() >= 0)) {
      LOG.warn("{} is true, so {} and {} are ignored (as in Confluent's serializer); set {}=false "
          + "to write with the registered schema", AvroSerdeConfig.AUTO_REGISTER_SCHEMAS,
          AvroSerdeConfig.USE_LATEST_VERSION, AvroSerdeConfig.USE_SCHEMA_ID,
          AvroSerdeConfig.AUTO_REGISTER_SCHEMAS);
    }
  }

  /** The registry client; null until configured. */
  public SchemaRegistryClient client() {
    return client;
  }

  @Override
  public byte[] serialize(String topic, T data) {
    return serialize(topic, null, data);
  }

  /** Headers are neither read nor written: the schema id travels in the payload. */
  @Override
  public byte[] serialize(String topic, Headers headers, T data) {
    if (data == null) {
      return null;
    }
    Object datum = data;
    Schema schema;
    if (data instanceof GenericContainer container) {
      schema = container.getSchema();
    } else {
      schema = Primitives.schemaOf(data);
      if (schema == null) {
        throw new SerializationException(what(topic) + ": unsupported type "
            + data.getClass().getName() + "; expected an Avro record (generated or generic), an "
            + "enum, fixed or array container, or a string, int, long, float, double, boolean or bytes");
      }
      if (data instanceof byte[] bytes) {
        datum = ByteBuffer.wrap(bytes);
      }
    }
    Target target = last;
    if (target == null || target.schema != schema || !sameTopic(target.topic, topic)
        || target.isStale()) {
      target = target(topic, schema);
    }
    WireEncoder out = WireEncoder.acquire();
    try {
      out.start(target.id);
      target.writer.write(datum, out);
      return out.toByteArray();
    } catch (IOException | RuntimeException e) {
      throw new SerializationException(what(topic) + ": the datum does not fit writer schema "
          + target.writerName + " (id " + target.id + ", subject '" + target.subject + "'): " + e,
          e);
    } finally {
      out.release();
    }
  }

  private static boolean sameTopic(String a, String b) {
    return a == b || (a != null && a.equals(b));
  }

  private Target target(String topic, Schema schema) {
    TargetKey key = new TargetKey(topic, schema);
    Target target = targets.get(key);
    if (target == null || target.isStale()) {
      target = resolve(topic, schema);
      if (targets.size() >= MAX_TARGETS) {
        targets.clear();
      }
      targets.put(key, target);
    }
    last = target;
    return target;
  }

  private Target resolve(String topic, Schema schema) {
    if (client == null) {
      throw new IllegalStateException("AvroSerializer is not configured: call configure() or "
          + "construct it with a SchemaRegistryClient");
    }
    String subject;
    try {
      subject = strategy.subjectName(topic, isKey, schema);
    } catch (RuntimeException e) {
      throw new SerializationException(what(topic) + ": " + e.getMessage(), e);
    }
    String name = schema.getFullName();
    if (config.autoRegisterSchemas()) {
      try {
        int id = client.register(subject, registered(schema), config.normalizeSchemas());
        return newTarget(topic, schema, id, subject, schema, -1);
      } catch (SchemaRegistryException e) {
        throw new SerializationException(what(topic) + ": registering schema " + name
            + " under subject '" + subject + "' failed: " + e.getMessage(), e);
      }
    }
    if (config.useSchemaId() >= 0) {
      int id = config.useSchemaId();
      Schema writer;
      try {
        writer = client.getSchemaById(id);
      } catch (SchemaRegistryException e) {
        throw new SerializationException(what(topic) + ": " + AvroSerdeConfig.USE_SCHEMA_ID + "="
            + id + " but the schema cannot be fetched: " + e.getMessage(), e);
      }
      if (config.idCompatibilityStrict()) {
        requireReadable(topic, writer, schema, "schema id " + id + " (" + AvroSerdeConfig.USE_SCHEMA_ID
            + ")", AvroSerdeConfig.ID_COMPATIBILITY_STRICT);
      }
      return newTarget(topic, schema, id, subject, writer, -1);
    }
    if (config.useLatestVersion()) {
      RegisteredSchema latest;
      try {
        latest = client.getLatest(subject);
      } catch (SchemaRegistryException e) {
        throw new SerializationException(what(topic) + ": " + AvroSerdeConfig.USE_LATEST_VERSION
            + " is true but the latest version of subject '" + subject + "' cannot be fetched"
            + (e.isNotFound() ? " (is any schema registered under it?)" : "") + ": "
            + e.getMessage(), e);
      }
      if (config.latestCompatibilityStrict()) {
        requireReadable(topic, latest.schema(), schema, "the latest version " + latest.version()
            + " of subject '" + subject + "' (id " + latest.id() + ")",
            AvroSerdeConfig.LATEST_COMPATIBILITY_STRICT);
      }
      long ttlNanos = config.latestCacheTtl().map(d -> d.toNanos()).orElse(-1L);
      return newTarget(topic, schema, latest.id(), subject, latest.schema(), ttlNanos);
    }
    try {
      RegisteredSchema found = client.lookup(subject, registered(schema),
          config.normalizeSchemas());
      return newTarget(topic, schema, found.id(), subject, schema, -1);
    } catch (SchemaRegistryException e) {
      if (e.isNotFound()) {
        throw new SerializationException(what(topic) + ": schema " + name + " is not registered "
            + "under subject '" + subject + "' and " + AvroSerdeConfig.AUTO_REGISTER_SCHEMAS
            + " is false; register it first (POST /subjects/" + subject + "/versions) or set "
            + AvroSerdeConfig.AUTO_REGISTER_SCHEMAS + "=true (registry said: "
            + e.registryMessage() + ")", e);
      }
      throw new SerializationException(what(topic) + ": looking up schema " + name
          + " under subject '" + subject + "' failed: " + e.getMessage(), e);
    }
  }

  /** The schema to register or look up for {@code schema}: without Java properties if so set. */
  private Schema registered(Schema schema) {
    return config.removeJavaProperties() ? AvroModels.withoutJavaProperties(schema) : schema;
  }

  private void requireReadable(String topic, Schema writer, Schema datumSchema, String which,
      String strictKey) {
    SchemaCompatibility.SchemaPairCompatibility pair =
        SchemaCompatibility.checkReaderWriterCompatibility(writer, datumSchema);
    if (pair.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
      String problems = pair.getResult().getIncompatibilities().stream()
          .map(i -> i.getType() + " at '" + i.getLocation() + "': " + i.getMessage())
          .collect(Collectors.joining("; "));
      throw new SerializationException(what(topic) + ": " + which + " cannot read data of the "
          + "datum's schema " + datumSchema.getFullName() + ": " + problems + "; set " + strictKey
          + "=false to skip this check");
    }
  }

  private Target newTarget(String topic, Schema schema, int id, String subject, Schema writerSchema,
      long ttlNanos) {
    SpecificData model = SpecificData.getForSchema(schema);
    if (config.useLogicalTypeConverters() && model == SpecificData.get()) {
      model = AvroModels.SPECIFIC_WITH_CONVERSIONS; // data without a generated class of its own
    }
    return new Target(topic, schema, id, subject, writerSchema, ttlNanos, model);
  }

  private String what(String topic) {
    return "cannot serialize " + (isKey ? "key" : "value") + " of topic '" + topic + "'";
  }

  @Override
  public void close() {
    targets.clear();
    last = null;
  }

  /** Cache key: topic by value, schema by identity. */
  private static final class TargetKey {
    private final String topic;
    private final Schema schema;
    private final int hash;

    TargetKey(String topic, Schema schema) {
      this.topic = topic;
      this.schema = schema;
      this.hash = 31 * Objects.hashCode(topic) + System.identityHashCode(schema);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof TargetKey k && k.schema == schema && Objects.equals(k.topic, topic);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }

  /** Everything the fast path needs for one (topic, schema object). */
  private static final class Target {
    final String topic;
    final Schema schema;
    final int id;
    final String subject;
    final String writerName;
    final DatumWriter<Object> writer;
    final boolean expiring;
    final long expiresAtNanos;

    Target(String topic, Schema schema, int id, String subject, Schema writerSchema, long ttlNanos,
        SpecificData model) {
      this.topic = topic;
      this.schema = schema;
      this.id = id;
      this.subject = subject;
      this.writerName = writerSchema.getFullName();
      this.writer = writerSchema == schema || writerSchema.equals(schema)
          ? new SpecificDatumWriter<>(schema, model)
          : new ProjectingDatumWriter(writerSchema, model);
      this.expiring = ttlNanos >= 0;
      this.expiresAtNanos = expiring ? System.nanoTime() + ttlNanos : 0;
    }

    boolean isStale() {
      return expiring && System.nanoTime() - expiresAtNanos >= 0;
    }
  }
}
