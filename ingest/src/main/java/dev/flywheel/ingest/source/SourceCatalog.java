package dev.flywheel.ingest.source;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flywheel.registry.CompatibilityResult;
import dev.flywheel.registry.RegisteredSchema;
import dev.flywheel.registry.SchemaRegistryClient;
import dev.flywheel.registry.SchemaRegistryException;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ingest sources known to this process, backed by the schema registry and the broker.
 *
 * <p>{@link #add} is what {@code flywheel sources add} and {@code POST /sources} do: it asks the
 * registry whether the schema is compatible with what {@code <topic>-value} already holds
 * ({@code topic = topics.data(name).name()}), registers it only if so, and creates the data topic
 * and its dead-letter topic. The key and time field names travel in the registered schema itself
 * (record properties {@value #KEY_PROPERTY} and {@value #TIME_PROPERTY}), so another process — the
 * CLI, a second ingest instance — {@linkplain #find finds} a source added elsewhere from the
 * registry alone. Bearer tokens are local configuration and never leave the process.
 *
 * <pre>{@code
 * SourceCatalog catalog = new SourceCatalog(topics, registryClient, admin);
 * catalog.add(SourceDefinition.builder("card-tx").schema(schema).keyField("card_id")
 *     .timeField("event_time").build());                // throws IncompatibleSchemaException
 * SourceDefinition current = catalog.find("card-tx").orElseThrow(); // latest schema
 * }</pre>
 *
 * <p>Lookups cache the latest schema for {@link #DEFAULT_REFRESH} (configurable), so a schema
 * evolved by another process is seen within that time. Thread-safe.
 */
public final class SourceCatalog {

  /** Record property of a registered source schema naming its key field. */
  public static final String KEY_PROPERTY = "flywheel.source.key";

  /** Record property of a registered source schema naming its event-time field. */
  public static final String TIME_PROPERTY = "flywheel.source.time";

  /** How long a looked-up latest schema is used before asking the registry again. */
  public static final Duration DEFAULT_REFRESH = Duration.ofSeconds(5);

  private static final Logger log = LoggerFactory.getLogger(SourceCatalog.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Topics topics;
  private final SchemaRegistryClient registry;
  private final TopicBootstrap bootstrap;
  private final Duration refresh;
  private final Clock clock;
  private final ConcurrentMap<String, SourceDefinition> declared = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, Cached> latest = new ConcurrentHashMap<>();

  /**
   * A catalog over {@code registry} that creates topics through {@code admin}; the caller keeps
   * ownership of both (closing them is the caller's job).
   */
  public SourceCatalog(Topics topics, SchemaRegistryClient registry, Admin admin) {
    this(topics, registry, admin, DEFAULT_REFRESH, Clock.systemUTC());
  }

  /**
   * As {@link #SourceCatalog(Topics, SchemaRegistryClient, Admin)}, with how long a latest schema
   * is cached and the clock that measures it.
   */
  public SourceCatalog(Topics topics, SchemaRegistryClient registry, Admin admin, Duration refresh,
      Clock clock) {
    this.topics = Objects.requireNonNull(topics, "topics");
    this.registry = Objects.requireNonNull(registry, "registry");
    this.bootstrap = new TopicBootstrap(Objects.requireNonNull(admin, "admin"));
    this.refresh = Objects.requireNonNull(refresh, "refresh");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** What {@link #add} did. */
  public record Registration(SourceDefinition source, String topic, String subject, int schemaId,
      int version, boolean topicCreated) {}

  /**
   * Adds a source or changes its schema: checks compatibility with the subject's registered
   * versions, registers the schema (with the key and time properties), creates the data topic and
   * its dead-letter topic when missing, and remembers the definition (token included).
   * Adding the same definition again changes nothing and returns the same id.
   *
   * @throws IncompatibleSchemaException when the registry refuses the schema, naming the fields
   * @throws SchemaRegistryException when the registry cannot be reached or refuses otherwise
   * @throws IllegalStateException when the topics cannot be created
   */
  public Registration add(SourceDefinition source) {
    Objects.requireNonNull(source, "source");
    Topic<String, GenericRecord> topic = topics.data(source.name());
    String subject = subject(source.name());
    Schema schema = withSourceProperties(source);
    CompatibilityResult compatibility = registry.testCompatibility(subject, schema);
    if (!compatibility.compatible()) {
      Schema registered = registeredSchema(subject);
      throw new IncompatibleSchemaException(source.name(), subject,
          IncompatibleSchemaException.fieldsOf(compatibility.messages(), schema, registered),
          compatibility.messages());
    }
    int id;
    try {
      id = registry.register(subject, schema);
    } catch (SchemaRegistryException e) {
      if (!e.isIncompatible()) {
        throw e;
      }
      // Another writer registered a version between the check and the registration.
      List<String> messages = List.of(e.registryMessage());
      throw new IncompatibleSchemaException(source.name(), subject,
          IncompatibleSchemaException.fieldsOf(messages, schema, registeredSchema(subject)),
          messages);
    }
    RegisteredSchema registered = registry.lookup(subject, schema);
    TopicBootstrap.Result result = bootstrap.ensure(List.of(topic, topics.dlq(topic)));
    if (!result.consistent()) {
      log.warn("topics of source '{}' differ from the catalogue: {}", source.name(),
          result.describe());
    }
    SourceDefinition stored = source.withSchema(registered.schema());
    declared.put(source.name(), stored);
    latest.put(source.name(), new Cached(stored, clock.millis()));
    log.info("source '{}' registered as {} v{} (id {}), topic {}{}", source.name(), subject,
        registered.version(), id, topic.name(), result.created().contains(topic.name())
            ? " created" : "");
    return new Registration(stored, topic.name(), subject, id, registered.version(),
        result.created().contains(topic.name()));
  }

  /**
   * The source called {@code name} with the subject's latest schema: a source added in this
   * process, or one whose registered schema carries the key and time properties (added by another
   * process; it has no bearer token here).
   *
   * @return empty when no such source exists
   * @throws InvalidSourceException when the latest registered schema no longer has usable key or
   *     time fields
   * @throws SchemaRegistryException when the registry cannot be reached
   */
  public Optional<SourceDefinition> find(String name) {
    if (SourceDefinition.checkName(name).isPresent()) {
      return Optional.empty();
    }
    long now = clock.millis();
    Cached cached = latest.get(name);
    if (cached != null && now - cached.atMillis < refresh.toMillis()) {
      return Optional.of(cached.source);
    }
    Optional<RegisteredSchema> registered = latestRegistered(subject(name));
    SourceDefinition local = declared.get(name);
    SourceDefinition found;
    if (registered.isEmpty()) {
      found = null;
    } else if (local != null) {
      found = local.withSchema(registered.get().schema());
    } else {
      Schema schema = registered.get().schema();
      String key = schema.getType() == Schema.Type.RECORD ? schema.getProp(KEY_PROPERTY) : null;
      String time = schema.getType() == Schema.Type.RECORD ? schema.getProp(TIME_PROPERTY) : null;
      found = key == null || time == null ? null : SourceDefinition.builder(name).schema(schema)
          .keyField(key).timeField(time).build();
    }
    if (found == null) {
      latest.remove(name);
      return Optional.empty();
    }
    latest.put(name, new Cached(found, now));
    return Optional.of(found);
  }

  /**
   * The latest registered schema of source {@code name}, straight from the registry.
   *
   * @throws SchemaRegistryException 404 when the source has no registered schema
   */
  public RegisteredSchema latestSchema(String name) {
    return registry.getLatest(subject(name));
  }

  /** The sources added in this process, with the schema they were added with. */
  public Collection<SourceDefinition> declared() {
    return new ArrayList<>(declared.values());
  }

  /** The data topic of source {@code name}. */
  public Topic<String, GenericRecord> topic(String name) {
    return topics.data(name);
  }

  /** The registry subject of source {@code name}: {@code <data topic>-value}. */
  public String subject(String name) {
    return topics.data(name).name() + "-value";
  }

  /** The topic catalogue this catalog names topics with. */
  public Topics topics() {
    return topics;
  }

  private Optional<RegisteredSchema> latestRegistered(String subject) {
    try {
      return Optional.of(registry.getLatest(subject));
    } catch (SchemaRegistryException e) {
      if (e.isNotFound()) {
        return Optional.empty();
      }
      throw e;
    }
  }

  private Schema registeredSchema(String subject) {
    return latestRegistered(subject).map(RegisteredSchema::schema).orElse(null);
  }

  /** {@code source}'s schema with the key and time fields recorded as record properties. */
  static Schema withSourceProperties(SourceDefinition source) {
    try {
      ObjectNode json = (ObjectNode) JSON.readTree(source.schema().toString());
      json.put(KEY_PROPERTY, source.keyField());
      json.put(TIME_PROPERTY, source.timeField());
      return new Schema.Parser().parse(JSON.writeValueAsString(json));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy schema " + source.schema().getFullName(), e);
    }
  }

  private record Cached(SourceDefinition source, long atMillis) {}
}
