package dev.flywheel.devstack.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flywheel.devstack.registry.StoreRecord.ConfigRecord;
import dev.flywheel.devstack.registry.StoreRecord.SchemaRecord;
import dev.flywheel.devstack.registry.StoreRecord.SchemaValue;
import dev.flywheel.registry.CompatibilityChecker;
import dev.flywheel.registry.CompatibilityLevel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry's state and rules: subjects and their versions, global schema ids, and
 * compatibility configurations.
 *
 * <p>Every change is first appended to the {@link Log} (the {@code _schemas} topic) and applied to
 * memory only once the log acknowledged it, through the same {@link #apply} that rebuilds the state
 * from the topic at start: what a restarted registry reads back is what the running one served.
 *
 * <p>The one exception is a write that failed without a known outcome: it is not applied, yet a
 * write that timed out can still reach the topic, and a restarted registry then reads it back. So
 * the id and version number of a registration whose write failed are never given again by this
 * registry: were they reused, the topic would hold two schemas under one id, and the replay, which
 * keeps the first, would serve a schema other than the one producers wrote with.
 *
 * <p>Concurrency: changes are serialized by one writer lock, held across the check, the log write
 * and the apply, so that two concurrent registrations cannot take the same version or id. Reads
 * take a read lock and see either the state before or after a change, never a half-applied one.
 *
 * <p>Identity of schemas: two schemas are the same when Avro prints the same JSON for them after
 * parsing ({@link Schema#toString()}). Whitespace and key order of the submitted text do not
 * matter; a different {@code doc}, default, alias or property does, so such a change makes a new
 * version (and a new id), as in Confluent's registry, which compares the same form.
 *
 * <p>A registration or lookup asked to normalize compares, and a registration then stores, the
 * normalized form ({@link #normalize}): Avro's form with the properties of every type and field in
 * sorted order, so that two schemas differing only in the order of their properties are the same.
 */
final class SchemaStore {

  /** Where changes are written before they are applied; the {@code _schemas} topic. */
  interface Log {
    /**
     * Writes a record and returns once it is durably acknowledged.
     *
     * @throws RegistryException with a 500xx code when the write failed or timed out; the record
     *     may be in the log all the same (a write that timed out can still land)
     */
    void append(StoreRecord record);
  }

  /** A version of a subject as served. */
  record Version(String subject, int version, int id, String schema, boolean deleted) {}

  /** The outcome of a compatibility test; {@code messages} is empty when compatible. */
  record Compatibility(boolean compatible, List<String> messages) {}

  /** Which versions a listing shows, by their soft-deleted state. */
  enum Deleted {
    /** Live versions only. */
    EXCLUDE,
    /** Live and soft-deleted versions. */
    INCLUDE,
    /** Soft-deleted versions only. */
    ONLY;

    /**
     * From the {@code deleted} and {@code deletedOnly} flags of a request; as in Confluent's
     * registry, {@code deletedOnly} wins when both are set.
     */
    static Deleted of(boolean deleted, boolean deletedOnly) {
      return deletedOnly ? ONLY : deleted ? INCLUDE : EXCLUDE;
    }

    boolean shows(boolean softDeleted) {
      return switch (this) {
        case EXCLUDE -> !softDeleted;
        case INCLUDE -> true;
        case ONLY -> softDeleted;
      };
    }
  }

  /** The version designated by "latest" (or -1) in a path. */
  static final int LATEST = -1;

  private static final Logger log = LoggerFactory.getLogger(SchemaStore.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Log store;
  private final CompatibilityLevel defaultLevel;
  private final Object writer = new Object();
  private final ReadWriteLock lock = new ReentrantReadWriteLock();

  // guarded by lock
  private final Map<String, NavigableMap<Integer, SchemaValue>> subjects = new TreeMap<>();
  private final Map<Integer, Schema> schemasById = new HashMap<>();
  private final Map<Integer, String> textsById = new HashMap<>();
  private final Map<String, Integer> idsByCanonical = new HashMap<>();
  private final Map<String, CompatibilityLevel> subjectLevels = new HashMap<>();
  /** Per subject, the highest version number a failed write may have taken; not in the log. */
  private final Map<String, Integer> unsureVersions = new HashMap<>();
  private CompatibilityLevel globalLevel;
  private int maxId;

  SchemaStore(Log store, CompatibilityLevel defaultLevel) {
    this.store = Objects.requireNonNull(store, "store");
    this.defaultLevel = Objects.requireNonNull(defaultLevel, "defaultLevel");
  }

  // ---------------------------------------------------------------- applying records

  /** Applies one record read from, or just written to, the log. */
  void apply(StoreRecord record) {
    write(() -> {
      if (record instanceof SchemaRecord schema) {
        applySchema(schema);
      } else if (record instanceof ConfigRecord config) {
        if (config.subject() == null) {
          globalLevel = config.level();
        } else if (config.level() == null) {
          subjectLevels.remove(config.subject());
        } else {
          subjectLevels.put(config.subject(), config.level());
        }
      }
      return null;
    });
  }

  private void applySchema(SchemaRecord record) {
    NavigableMap<Integer, SchemaValue> versions =
        subjects.computeIfAbsent(record.subject(), s -> new TreeMap<>());
    SchemaValue value = record.value();
    if (value == null) {
      SchemaValue removed = versions.remove(record.version());
      if (versions.isEmpty()) {
        subjects.remove(record.subject());
      }
      if (removed != null && !idInUse(removed.id())) {
        Optional.ofNullable(textsById.remove(removed.id())).ifPresent(text ->
            idsByCanonical.remove(canonical(removed.id(), text)));
        schemasById.remove(removed.id());
      }
      return;
    }
    versions.put(record.version(), value);
    maxId = Math.max(maxId, value.id());
    if (!textsById.containsKey(value.id())) {
      textsById.put(value.id(), value.schema());
      Schema parsed = tryParse(value.schema());
      if (parsed != null) {
        schemasById.put(value.id(), parsed);
      }
      idsByCanonical.putIfAbsent(parsed != null ? parsed.toString() : value.schema(), value.id());
    }
  }

  private String canonical(int id, String text) {
    Schema parsed = schemasById.get(id);
    return parsed != null ? parsed.toString() : text;
  }

  private boolean idInUse(int id) {
    for (NavigableMap<Integer, SchemaValue> versions : subjects.values()) {
      for (SchemaValue value : versions.values()) {
        if (value.id() == id) {
          return true;
        }
      }
    }
    return false;
  }

  private static Schema tryParse(String text) {
    try {
      return new Schema.Parser().parse(text);
    } catch (RuntimeException e) {
      log.warn("schema in the store cannot be parsed; it is served but not used for checks: {}",
          e.getMessage());
      return null;
    }
  }

  // ---------------------------------------------------------------- writes

  /**
   * Registers {@code schemaText} under {@code subject}, or returns the id of the identical schema
   * already registered there.
   *
   * @throws RegistryException 42201 when the schema is invalid, 409 when it is incompatible, 500xx
   *     when the write failed (the id and version it would have taken are then never given again)
   */
  int register(String subject, String schemaText) {
    return register(subject, schemaText, false);
  }

  /**
   * Registers {@code schemaText} under {@code subject}, or returns the id of the same schema
   * already registered there; when {@code normalize}, the same under {@link #normalize} and the
   * normalized form is what is stored.
   *
   * @throws RegistryException 42201 when the schema is invalid, 409 when it is incompatible, 500xx
   *     when the write failed (the id and version it would have taken are then never given again)
   */
  int register(String subject, String schemaText, boolean normalize) {
    Schema schema = parse(schemaText);
    if (normalize) {
      schema = normalize(schema);
    }
    String canonical = schema.toString();
    synchronized (writer) {
      int id;
      int version;
      lock.readLock().lock();
      try {
        NavigableMap<Integer, SchemaValue> versions = subjects.getOrDefault(subject, new TreeMap<>());
        for (SchemaValue value : versions.values()) {
          if (!value.deleted() && canonical.equals(identity(value, normalize))) {
            return value.id();
          }
        }
        CompatibilityLevel level = effectiveLevel(subject);
        List<String> messages = CompatibilityChecker.check(level, schema, liveSchemas(versions));
        if (!messages.isEmpty()) {
          throw RegistryException.incompatible("Schema being registered is incompatible with an"
              + " earlier schema for subject \"" + subject + "\" (compatibility " + level + "),"
              + " details: " + messages);
        }
        id = idsByCanonical.getOrDefault(canonical, maxId + 1);
        version = Math.max(versions.isEmpty() ? 0 : versions.lastKey(),
            unsureVersions.getOrDefault(subject, 0)) + 1;
      } finally {
        lock.readLock().unlock();
      }
      SchemaRecord record = new SchemaRecord(subject, version,
          new SchemaValue(subject, version, id, canonical, false));
      try {
        store.append(record);
      } catch (RuntimeException e) {
        // the record may be in the log all the same: keep its id and version from being given again
        write(() -> {
          maxId = Math.max(maxId, id);
          unsureVersions.merge(subject, version, Math::max);
          return null;
        });
        log.warn("the write of schema id {} as version {} of subject '{}' failed; it may still"
            + " reach the topic, so neither number will be given again: {}", id, version, subject,
            e.getMessage());
        throw e;
      }
      apply(record);
      log.info("registered schema id {} as version {} of subject '{}'", id, version, subject);
      return id;
    }
  }

  /**
   * Soft-deletes every live version of a subject (and its configuration), or, when {@code
   * permanent}, removes every version of a soft-deleted subject.
   *
   * @return the versions deleted
   */
  List<Integer> deleteSubject(String subject, boolean permanent) {
    synchronized (writer) {
      List<SchemaValue> versions = read(() ->
          new ArrayList<>(subjects.getOrDefault(subject, new TreeMap<>()).values()));
      if (versions.isEmpty()) {
        throw RegistryException.subjectNotFound(subject);
      }
      boolean anyLive = versions.stream().anyMatch(v -> !v.deleted());
      List<Integer> deleted = new ArrayList<>();
      if (permanent) {
        if (anyLive) {
          throw RegistryException.subjectNotSoftDeleted(subject);
        }
        for (SchemaValue value : versions) {
          commit(new SchemaRecord(subject, value.version(), null));
          deleted.add(value.version());
        }
      } else {
        if (!anyLive) {
          throw RegistryException.subjectSoftDeleted(subject);
        }
        for (SchemaValue value : versions) {
          if (!value.deleted()) {
            commit(new SchemaRecord(subject, value.version(), value.markDeleted()));
            deleted.add(value.version());
          }
        }
      }
      if (read(() -> subjectLevels.containsKey(subject))) {
        commit(new ConfigRecord(subject, null));
      }
      log.info("{} deleted versions {} of subject '{}'", permanent ? "permanently" : "soft",
          deleted, subject);
      return deleted;
    }
  }

  /**
   * Soft-deletes a version, or, when {@code permanent}, removes a soft-deleted version.
   *
   * @param version a version number or {@link #LATEST}
   * @return the version deleted
   */
  int deleteVersion(String subject, int version, boolean permanent) {
    synchronized (writer) {
      SchemaValue value = read(() -> {
        NavigableMap<Integer, SchemaValue> versions = subjects.get(subject);
        if (versions == null || (!permanent && versions.values().stream().allMatch(
            SchemaValue::deleted))) {
          throw RegistryException.subjectNotFound(subject);
        }
        SchemaValue found = version == LATEST ? latest(versions, permanent) : versions.get(version);
        if (found == null) {
          throw RegistryException.versionNotFound(version);
        }
        return found;
      });
      if (permanent) {
        if (!value.deleted()) {
          throw RegistryException.versionNotSoftDeleted(subject, value.version());
        }
        commit(new SchemaRecord(subject, value.version(), null));
      } else {
        if (value.deleted()) {
          throw RegistryException.versionSoftDeleted(subject, value.version());
        }
        commit(new SchemaRecord(subject, value.version(), value.markDeleted()));
      }
      log.info("{} deleted version {} of subject '{}'", permanent ? "permanently" : "soft",
          value.version(), subject);
      return value.version();
    }
  }

  /** Sets the global (subject null) or a subject's compatibility level. */
  void setLevel(String subject, CompatibilityLevel level) {
    synchronized (writer) {
      commit(new ConfigRecord(subject, Objects.requireNonNull(level, "level")));
    }
  }

  /**
   * Removes a subject's own level, or resets the global level to the default (subject null).
   *
   * @return the level in force before
   * @throws RegistryException 40401 when the subject had no level of its own
   */
  CompatibilityLevel deleteLevel(String subject) {
    synchronized (writer) {
      CompatibilityLevel before = subject == null ? globalLevel()
          : read(() -> subjectLevels.get(subject));
      if (before == null) {
        throw RegistryException.subjectNotFound(subject);
      }
      commit(new ConfigRecord(subject, null));
      return before;
    }
  }

  private void commit(StoreRecord record) {
    store.append(record);
    apply(record);
  }

  // ---------------------------------------------------------------- reads

  /**
   * Subjects, sorted: with a live version ({@link Deleted#EXCLUDE}), with any version ({@link
   * Deleted#INCLUDE}), or whose versions are all soft-deleted ({@link Deleted#ONLY}).
   */
  List<String> subjects(Deleted filter) {
    return read(() -> {
      List<String> names = new ArrayList<>();
      subjects.forEach((name, versions) -> {
        boolean allDeleted = versions.values().stream().allMatch(SchemaValue::deleted);
        if (filter.shows(allDeleted)) {
          names.add(name);
        }
      });
      return names;
    });
  }

  /**
   * The version numbers of a subject, oldest first.
   *
   * @throws RegistryException 40401 when there is none
   */
  List<Integer> versions(String subject, boolean deleted) {
    return versions(subject, deleted ? Deleted.INCLUDE : Deleted.EXCLUDE);
  }

  /**
   * The version numbers of a subject that {@code filter} shows, oldest first. With {@link
   * Deleted#ONLY}, as in Confluent's registry, a subject that has versions but none soft-deleted
   * has an empty list.
   *
   * @throws RegistryException 40401 when the subject has no version, or no live one unless
   *     soft-deleted ones are asked for
   */
  List<Integer> versions(String subject, Deleted filter) {
    return read(() -> {
      List<Integer> numbers = new ArrayList<>();
      NavigableMap<Integer, SchemaValue> versions =
          subjects.getOrDefault(subject, new TreeMap<>());
      versions.values().forEach(v -> {
        if (filter.shows(v.deleted())) {
          numbers.add(v.version());
        }
      });
      if (versions.isEmpty() || (numbers.isEmpty() && filter == Deleted.EXCLUDE)) {
        throw RegistryException.subjectNotFound(subject);
      }
      return numbers;
    });
  }

  /**
   * The versions of every subject starting with {@code prefix} (every subject when it is null or
   * empty), by subject then version: the live ones, or all when {@code deleted}; only the latest of
   * those of each subject when {@code latestOnly}.
   */
  List<Version> versionsWithPrefix(String prefix, boolean deleted, boolean latestOnly) {
    return read(() -> {
      List<Version> found = new ArrayList<>();
      subjects.forEach((name, versions) -> {
        if (prefix != null && !name.startsWith(prefix)) {
          return;
        }
        List<Version> shown = new ArrayList<>();
        versions.values().forEach(v -> {
          if (deleted || !v.deleted()) {
            shown.add(toVersion(v));
          }
        });
        if (latestOnly && !shown.isEmpty()) {
          found.add(shown.get(shown.size() - 1));
        } else if (!latestOnly) {
          found.addAll(shown);
        }
      });
      return found;
    });
  }

  /**
   * A version of a subject.
   *
   * @param version a version number or {@link #LATEST}
   * @throws RegistryException 40401 when the subject has no (live) version, 40402 when that one is
   *     missing
   */
  Version version(String subject, int version, boolean deleted) {
    return read(() -> {
      NavigableMap<Integer, SchemaValue> versions = subjects.get(subject);
      if (versions == null || (!deleted && versions.values().stream().allMatch(
          SchemaValue::deleted))) {
        throw RegistryException.subjectNotFound(subject);
      }
      SchemaValue value = version == LATEST ? latest(versions, deleted) : versions.get(version);
      if (value == null || (value.deleted() && !deleted)) {
        throw RegistryException.versionNotFound(version);
      }
      return toVersion(value);
    });
  }

  /**
   * Finds {@code schemaText} among the versions of a subject; when {@code normalize}, compares the
   * {@link #normalize normalized} forms of both.
   *
   * @throws RegistryException 42201 when the schema is invalid, 40401 when the subject has no
   *     version, 40403 when none of its versions is this schema
   */
  Version lookup(String subject, String schemaText, boolean deleted, boolean normalize) {
    Schema parsed = parse(schemaText);
    String canonical = (normalize ? normalize(parsed) : parsed).toString();
    return read(() -> {
      NavigableMap<Integer, SchemaValue> versions = subjects.get(subject);
      if (versions == null || (!deleted && versions.values().stream().allMatch(
          SchemaValue::deleted))) {
        throw RegistryException.subjectNotFound(subject);
      }
      for (SchemaValue value : versions.descendingMap().values()) {
        if ((deleted || !value.deleted()) && canonical.equals(identity(value, normalize))) {
          return toVersion(value);
        }
      }
      throw RegistryException.schemaNotFound("Schema not found");
    });
  }

  /**
   * The schema text of a global id.
   *
   * @throws RegistryException 40403 when no version holds this id
   */
  String schemaText(int id) {
    return read(() -> {
      String text = textsById.get(id);
      if (text == null) {
        throw RegistryException.schemaNotFound("Schema " + id + " not found");
      }
      return text;
    });
  }

  /**
   * The subject versions holding a global id, by subject then version.
   *
   * @throws RegistryException 40403 when no version holds this id
   */
  List<Version> versionsOf(int id, boolean deleted) {
    return read(() -> {
      if (!textsById.containsKey(id)) {
        throw RegistryException.schemaNotFound("Schema " + id + " not found");
      }
      List<Version> found = new ArrayList<>();
      subjects.values().forEach(versions -> versions.values().forEach(v -> {
        if (v.id() == id && (deleted || !v.deleted())) {
          found.add(toVersion(v));
        }
      }));
      return found;
    });
  }

  /** The highest id ever given, 0 when none. */
  int maxId() {
    return read(() -> maxId);
  }

  /** The global level: the one set through the API, else the registry's default. */
  CompatibilityLevel globalLevel() {
    return read(() -> globalLevel != null ? globalLevel : defaultLevel);
  }

  /** The subject's own level, if it has one. */
  Optional<CompatibilityLevel> subjectLevel(String subject) {
    return read(() -> Optional.ofNullable(subjectLevels.get(subject)));
  }

  /**
   * Tests {@code schemaText} against one live version of a subject, the latest when {@code
   * version} is {@link #LATEST}, with the subject's level. As in Confluent's registry, only that
   * version is checked, whatever the level: a transitive level widens the check only for {@link
   * #testCompatibilityWithAll}. A subject without live versions is compatible with anything for
   * {@link #LATEST}.
   *
   * @throws RegistryException 42201 when the schema is invalid, 40402 when a numbered version is
   *     missing or soft-deleted, the subject missing too (Confluent looks the version up without
   *     looking for the subject first)
   */
  Compatibility testCompatibility(String subject, int version, String schemaText) {
    Schema schema = parse(schemaText);
    return read(() -> {
      NavigableMap<Integer, SchemaValue> versions = subjects.getOrDefault(subject, new TreeMap<>());
      SchemaValue against = version == LATEST ? latest(versions, false) : versions.get(version);
      if (version != LATEST && (against == null || against.deleted())) {
        throw RegistryException.versionNotFound(version);
      }
      NavigableMap<Integer, SchemaValue> previous = new TreeMap<>();
      if (against != null) {
        previous.put(against.version(), against);
      }
      return check(subject, schema, previous);
    });
  }

  /**
   * Tests {@code schemaText} as a registration under {@code subject} would be: against the
   * subject's live versions that its level names (the latest, or all of them when transitive). A
   * subject without live versions is compatible with anything.
   *
   * @throws RegistryException 42201 when the schema is invalid
   */
  Compatibility testCompatibilityWithAll(String subject, String schemaText) {
    Schema schema = parse(schemaText);
    return read(() -> check(subject, schema, subjects.getOrDefault(subject, new TreeMap<>())));
  }

  private Compatibility check(String subject, Schema schema,
      NavigableMap<Integer, SchemaValue> versions) {
    List<String> messages = CompatibilityChecker.check(effectiveLevel(subject), schema,
        liveSchemas(versions));
    return new Compatibility(messages.isEmpty(), messages);
  }

  /** Counts for the start-up log line: subjects, ids. */
  String summary() {
    return read(() -> subjects.size() + " subjects, " + textsById.size() + " schemas, max id "
        + maxId);
  }

  // ---------------------------------------------------------------- helpers

  /** What a stored version is compared with: Avro's form, or the normalized one. */
  private String identity(SchemaValue value, boolean normalize) {
    Schema parsed = schemasById.get(value.id());
    if (!normalize || parsed == null) {
      return canonical(value.id(), value.schema());
    }
    return normalize(parsed).toString();
  }

  /**
   * The normalized form of a schema: the same schema with the properties of every type and field
   * (and the keys of every default and property value) in sorted order. Avro's own form already
   * resolves names against their namespaces, leaves out a field order that is the default
   * ({@code ascending}) and ignores the key order and whitespace of the text; sorting the
   * properties makes the form independent of the order in which properties were written too. This
   * is close to, not the same as, Confluent's normalization: Confluent writes fully qualified names
   * and an explicit order, so the text stored for a normalized registration differs in form.
   */
  static Schema normalize(Schema schema) {
    try {
      JsonNode sorted = sortKeys(JSON.readTree(schema.toString()));
      return new Schema.Parser().parse(JSON.writeValueAsString(sorted));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("Avro printed a schema that is not JSON: " + schema, e);
    }
  }

  private static JsonNode sortKeys(JsonNode node) {
    if (node.isObject()) {
      ObjectNode sorted = JSON.createObjectNode();
      new TreeSet<>(fieldNames(node)).forEach(name -> sorted.set(name, sortKeys(node.get(name))));
      return sorted;
    }
    if (node.isArray()) {
      ArrayNode sorted = JSON.createArrayNode();
      node.forEach(element -> sorted.add(sortKeys(element)));
      return sorted;
    }
    return node;
  }

  private static List<String> fieldNames(JsonNode object) {
    List<String> names = new ArrayList<>();
    object.fieldNames().forEachRemaining(names::add);
    return names;
  }

  private CompatibilityLevel effectiveLevel(String subject) {
    CompatibilityLevel own = subjectLevels.get(subject);
    return own != null ? own : globalLevel != null ? globalLevel : defaultLevel;
  }

  private List<Schema> liveSchemas(NavigableMap<Integer, SchemaValue> versions) {
    List<Schema> schemas = new ArrayList<>();
    for (SchemaValue value : versions.values()) {
      if (!value.deleted()) {
        Schema schema = schemasById.get(value.id());
        if (schema != null) {
          schemas.add(schema);
        }
      }
    }
    return schemas;
  }

  private static SchemaValue latest(NavigableMap<Integer, SchemaValue> versions,
      boolean includeDeleted) {
    for (SchemaValue value : versions.descendingMap().values()) {
      if (includeDeleted || !value.deleted()) {
        return value;
      }
    }
    return null;
  }

  private Version toVersion(SchemaValue value) {
    return new Version(value.subject(), value.version(), value.id(), value.schema(),
        value.deleted());
  }

  /**
   * Parses an Avro schema as submitted.
   *
   * @throws RegistryException 42201 naming Avro's complaint
   */
  static Schema parse(String text) {
    if (text == null || text.isBlank()) {
      throw RegistryException.invalidSchema("Invalid schema: empty schema");
    }
    try {
      return new Schema.Parser().parse(text);
    } catch (SchemaParseException e) {
      throw RegistryException.invalidSchema("Invalid schema " + text + ": " + e.getMessage());
    } catch (RuntimeException e) {
      // Avro reports some defects (bad defaults, bad names) with other runtime exceptions
      throw RegistryException.invalidSchema("Invalid schema " + text + ": " + e);
    }
  }

  private <T> T read(Supplier<T> body) {
    lock.readLock().lock();
    try {
      return body.get();
    } finally {
      lock.readLock().unlock();
    }
  }

  private <T> T write(Supplier<T> body) {
    lock.writeLock().lock();
    try {
      return body.get();
    } finally {
      lock.writeLock().unlock();
    }
  }
}
