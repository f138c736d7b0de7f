package dev.flywheel.registry;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;

/**
 * A schema registry held in memory, with the semantics and error codes of the Confluent Schema
 * Registry: ids are registry-wide and stable (the same schema text gets the same id under every
 * subject), versions count per subject from 1, registrations are checked with {@link
 * CompatibilityChecker} at the subject's level (global default {@link CompatibilityLevel#BACKWARD}),
 * deletes are soft first and permanent second.
 *
 * <p>For tests: serdes built on it need no HTTP server, e.g. with Kafka's {@code
 * TopologyTestDriver}. Serde configs may name a shared instance with {@code
 * schema.registry.url=mock://<scope>} (see {@link #forScope}), like Confluent's {@code
 * MockSchemaRegistryClient}. Schemas are compared by their JSON text ({@link Schema#toString()});
 * {@code normalize} adds nothing to that. Thread-safe.
 */
public final class InMemorySchemaRegistryClient implements SchemaRegistryClient {

  private static final Map<String, InMemorySchemaRegistryClient> SCOPES = new ConcurrentHashMap<>();

  private final String name;
  private final Map<String, Integer> idsByText = new HashMap<>();
  private final Map<Integer, Schema> schemasById = new HashMap<>();
  private final Map<String, TreeMap<Integer, Version>> subjects = new HashMap<>();
  private final Map<String, CompatibilityLevel> subjectLevels = new HashMap<>();
  private CompatibilityLevel globalLevel = CompatibilityLevel.BACKWARD;
  private int nextId = 1;

  private static final class Version {
    final int id;
    final Schema schema;
    final String text;
    boolean deleted;

    Version(int id, Schema schema, String text) {
      this.id = id;
      this.schema = schema;
      this.text = text;
    }
  }

  /** An empty registry. */
  public InMemorySchemaRegistryClient() {
    this("in-memory schema registry");
  }

  private InMemorySchemaRegistryClient(String name) {
    this.name = name;
  }

  /**
   * The registry shared by everything in this JVM that names {@code mock://<scope>}; created empty
   * on first use.
   */
  public static InMemorySchemaRegistryClient forScope(String scope) {
    Objects.requireNonNull(scope, "scope");
    return SCOPES.computeIfAbsent(scope, s -> new InMemorySchemaRegistryClient("mock://" + s));
  }

  /** Forgets the shared registry of {@code scope}, so the next {@link #forScope} starts empty. */
  public static void dropScope(String scope) {
    SCOPES.remove(scope);
  }

  @Override
  public synchronized int register(String subject, Schema schema, boolean normalize) {
    requireSubject(subject);
    Objects.requireNonNull(schema, "schema");
    String text = schema.toString();
    TreeMap<Integer, Version> versions = subjects.computeIfAbsent(subject, s -> new TreeMap<>());
    List<Schema> live = new ArrayList<>();
    for (Version v : versions.values()) {
      if (!v.deleted) {
        if (v.text.equals(text)) {
          return v.id;
        }
        live.add(v.schema);
      }
    }
    List<String> problems = CompatibilityChecker.check(levelOf(subject), schema, live);
    if (!problems.isEmpty()) {
      throw error(409, SchemaRegistryException.INCOMPATIBLE_SCHEMA,
          "Schema being registered is incompatible with an earlier schema for subject \"" + subject
              + "\", details: " + problems);
    }
    Integer id = idsByText.get(text);
    if (id == null) {
      id = nextId++;
      idsByText.put(text, id);
    }
    schemasById.putIfAbsent(id, schema);
    int version = versions.isEmpty() ? 1 : versions.lastKey() + 1;
    versions.put(version, new Version(id, schemasById.get(id), text));
    return id;
  }

  @Override
  public synchronized Schema getSchemaById(int id) {
    Schema schema = schemasById.get(id);
    if (schema == null) {
      throw error(404, SchemaRegistryException.SCHEMA_NOT_FOUND, "Schema " + id + " not found");
    }
    return schema;
  }

  @Override
  public synchronized RegisteredSchema getBySubjectAndVersion(String subject, int version) {
    TreeMap<Integer, Version> versions = liveSubject(subject);
    checkVersion(version);
    Version v = versions.get(version);
    if (v == null || v.deleted) {
      throw error(404, SchemaRegistryException.VERSION_NOT_FOUND, "Version " + version + " not found.");
    }
    return new RegisteredSchema(subject, version, v.id, v.schema);
  }

  @Override
  public synchronized RegisteredSchema getLatest(String subject) {
    TreeMap<Integer, Version> versions = liveSubject(subject);
    for (Map.Entry<Integer, Version> e : versions.descendingMap().entrySet()) {
      if (!e.getValue().deleted) {
        return new RegisteredSchema(subject, e.getKey(), e.getValue().id, e.getValue().schema);
      }
    }
    throw subjectNotFound(subject);
  }

  @Override
  public synchronized RegisteredSchema lookup(String subject, Schema schema, boolean normalize) {
    Objects.requireNonNull(schema, "schema");
    TreeMap<Integer, Version> versions = liveSubject(subject);
    String text = schema.toString();
    for (Map.Entry<Integer, Version> e : versions.entrySet()) {
      Version v = e.getValue();
      if (!v.deleted && v.text.equals(text)) {
        return new RegisteredSchema(subject, e.getKey(), v.id, v.schema);
      }
    }
    throw error(404, SchemaRegistryException.SCHEMA_NOT_FOUND, "Schema not found");
  }

  @Override
  public synchronized CompatibilityResult testCompatibility(String subject, Schema schema) {
    requireSubject(subject);
    Objects.requireNonNull(schema, "schema");
    List<Schema> live = new ArrayList<>();
    for (Version v : subjects.getOrDefault(subject, new TreeMap<>()).values()) {
      if (!v.deleted) {
        live.add(v.schema);
      }
    }
    List<String> problems = CompatibilityChecker.check(levelOf(subject), schema, live);
    return new CompatibilityResult(problems.isEmpty(), problems);
  }

  @Override
  public synchronized CompatibilityLevel getCompatibility(String subject) {
    return subject == null ? globalLevel : levelOf(subject);
  }

  @Override
  public synchronized CompatibilityLevel setCompatibility(String subject, CompatibilityLevel level) {
    Objects.requireNonNull(level, "level");
    if (subject == null) {
      globalLevel = level;
    } else {
      requireSubject(subject);
      subjectLevels.put(subject, level);
    }
    return level;
  }

  @Override
  public synchronized CompatibilityLevel deleteSubjectConfig(String subject) {
    requireSubject(subject);
    CompatibilityLevel previous = subjectLevels.remove(subject);
    if (previous == null) {
      throw error(404, SchemaRegistryException.SUBJECT_CONFIG_NOT_FOUND,
          "Subject '" + subject + "' does not have subject-level compatibility configured");
    }
    return previous;
  }

  @Override
  public synchronized List<String> listSubjects() {
    List<String> out = new ArrayList<>();
    subjects.forEach((subject, versions) -> {
      if (versions.values().stream().anyMatch(v -> !v.deleted)) {
        out.add(subject);
      }
    });
    out.sort(null);
    return out;
  }

  @Override
  public synchronized List<Integer> listVersions(String subject) {
    List<Integer> out = new ArrayList<>();
    liveSubject(subject).forEach((version, v) -> {
      if (!v.deleted) {
        out.add(version);
      }
    });
    return out;
  }

  @Override
  public synchronized List<Integer> deleteSubject(String subject, boolean permanent) {
    requireSubject(subject);
    TreeMap<Integer, Version> versions = subjects.get(subject);
    if (versions == null || versions.isEmpty()) {
      throw subjectNotFound(subject);
    }
    boolean anyLive = versions.values().stream().anyMatch(v -> !v.deleted);
    List<Integer> deleted = new ArrayList<>();
    if (permanent) {
      if (anyLive) {
        throw error(404, SchemaRegistryException.SUBJECT_NOT_SOFT_DELETED, "Subject '" + subject
            + "' was not deleted first before being permanently deleted");
      }
      deleted.addAll(versions.keySet());
      subjects.remove(subject);
      forgetUnreferencedSchemas();
      return deleted;
    }
    if (!anyLive) {
      throw error(404, SchemaRegistryException.SUBJECT_SOFT_DELETED, "Subject '" + subject
          + "' was soft deleted.Set permanent=true to delete permanently");
    }
    versions.forEach((version, v) -> {
      if (!v.deleted) {
        v.deleted = true;
        deleted.add(version);
      }
    });
    return deleted;
  }

  @Override
  public synchronized int deleteVersion(String subject, int version, boolean permanent) {
    requireSubject(subject);
    TreeMap<Integer, Version> versions = subjects.get(subject);
    if (versions == null || versions.isEmpty()) {
      throw subjectNotFound(subject);
    }
    checkVersion(version);
    Version v = versions.get(version);
    if (v == null) {
      throw error(404, SchemaRegistryException.VERSION_NOT_FOUND, "Version " + version + " not found.");
    }
    if (permanent) {
      if (!v.deleted) {
        throw error(404, SchemaRegistryException.VERSION_NOT_SOFT_DELETED, "Subject '" + subject
            + "' Version " + version + " was not deleted first before being permanently deleted");
      }
      versions.remove(version);
      if (versions.isEmpty()) {
        subjects.remove(subject);
      }
      forgetUnreferencedSchemas();
    } else {
      if (v.deleted) {
        throw error(404, SchemaRegistryException.VERSION_SOFT_DELETED, "Subject '" + subject
            + "' Version " + version + " was soft deleted.Set permanent=true to delete permanently");
      }
      v.deleted = true;
    }
    return version;
  }

  @Override
  public String toString() {
    return name;
  }

  private CompatibilityLevel levelOf(String subject) {
    return subjectLevels.getOrDefault(subject, globalLevel);
  }

  /** The versions of a subject that has at least one live version. */
  private TreeMap<Integer, Version> liveSubject(String subject) {
    requireSubject(subject);
    TreeMap<Integer, Version> versions = subjects.get(subject);
    if (versions == null || versions.values().stream().allMatch(v -> v.deleted)) {
      throw subjectNotFound(subject);
    }
    return versions;
  }

  /** Ids stay allocated to their text; only the id → schema answer goes once nothing uses it. */
  private void forgetUnreferencedSchemas() {
    schemasById.keySet().removeIf(id -> subjects.values().stream()
        .flatMap(versions -> versions.values().stream())
        .noneMatch(v -> v.id == id));
  }

  private static void requireSubject(String subject) {
    Objects.requireNonNull(subject, "subject");
  }

  private void checkVersion(int version) {
    if (version < 1) {
      throw error(422, SchemaRegistryException.INVALID_VERSION, "The specified version '" + version
          + "' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "
          + "\"latest\"");
    }
  }

  private SchemaRegistryException subjectNotFound(String subject) {
    return error(404, SchemaRegistryException.SUBJECT_NOT_FOUND, "Subject '" + subject + "' not found.");
  }

  private SchemaRegistryException error(int status, int code, String message) {
    return new SchemaRegistryException(name + ": HTTP " + status + ", error_code " + code + ": "
        + message, status, code, message, null);
  }
}
