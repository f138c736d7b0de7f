package dev.flywheel.registry;

import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;

/**
 * A client of a schema registry speaking the Confluent Schema Registry REST API.
 *
 * <p>Two implementations: {@link RestSchemaRegistryClient} talks HTTP to a real registry (Confluent,
 * Flywheel's devstack, or any compatible one) and caches what never changes; {@link
 * InMemorySchemaRegistryClient} keeps everything in memory, for tests (e.g. with Kafka's {@code
 * TopologyTestDriver}).
 *
 * <p>Every method throws {@link SchemaRegistryException} when the registry refuses the request
 * (carrying its HTTP status, {@code error_code} and message) or cannot be reached. Implementations
 * are thread-safe. Arguments are never null unless a parameter says otherwise.
 */
public interface SchemaRegistryClient {

  /** A builder for a {@link RestSchemaRegistryClient}. */
  static RestSchemaRegistryClient.Builder builder() {
    return RestSchemaRegistryClient.builder();
  }

  /**
   * A client configured with Confluent's client property names ({@code schema.registry.url},
   * {@code basic.auth.*}, {@code bearer.auth.*}, {@code schema.registry.ssl.*}, …), so that
   * existing serializer configs carry over. A {@code mock://scope} URL gives the shared {@link
   * InMemorySchemaRegistryClient#forScope in-memory registry} of that scope. See {@link
   * SchemaRegistryClientConfig} for every key.
   *
   * @throws org.apache.kafka.common.config.ConfigException when a value is missing or invalid
   */
  static SchemaRegistryClient fromConfig(Map<String, ?> config) {
    return SchemaRegistryClientConfig.createClient(config);
  }

  /**
   * Registers {@code schema} under {@code subject} ({@code POST /subjects/{subject}/versions}) and
   * returns its id. Registering a schema the subject already has returns the existing id.
   *
   * @throws SchemaRegistryException 409 when incompatible, 422 (42201) when invalid
   */
  default int register(String subject, Schema schema) {
    return register(subject, schema, false);
  }

  /**
   * As {@link #register(String, Schema)}; with {@code normalize} the registry normalizes the
   * schema before comparing and storing it ({@code ?normalize=true}).
   */
  int register(String subject, Schema schema, boolean normalize);

  /**
   * The schema with this registry-wide id ({@code GET /schemas/ids/{id}}).
   *
   * @throws SchemaRegistryException 404 (40403) when there is none
   */
  Schema getSchemaById(int id);

  /**
   * A version of a subject ({@code GET /subjects/{subject}/versions/{version}}).
   *
   * @throws SchemaRegistryException 404 (40401 subject, 40402 version) when absent, 422 (42202)
   *     when {@code version} is less than 1
   */
  RegisteredSchema getBySubjectAndVersion(String subject, int version);

  /**
   * The latest version of a subject ({@code GET /subjects/{subject}/versions/latest}).
   *
   * @throws SchemaRegistryException 404 (40401) when the subject does not exist
   */
  RegisteredSchema getLatest(String subject);

  /**
   * Finds {@code schema} among the versions of {@code subject} ({@code POST /subjects/{subject}})
   * without registering it.
   *
   * @throws SchemaRegistryException 404 (40401 subject, 40403 schema) when absent
   */
  default RegisteredSchema lookup(String subject, Schema schema) {
    return lookup(subject, schema, false);
  }

  /** As {@link #lookup(String, Schema)}, normalizing the schema first when {@code normalize}. */
  RegisteredSchema lookup(String subject, Schema schema, boolean normalize);

  /**
   * Checks whether {@code schema} could be registered under {@code subject} with the subject's
   * compatibility level ({@code POST /compatibility/subjects/{subject}/versions?verbose=true}, the
   * check registration makes: against every version under a {@code *_TRANSITIVE} level; a
   * registry without that route is asked about {@code /versions/latest}, the latest version
   * alone). A subject with no versions accepts any schema.
   */
  CompatibilityResult testCompatibility(String subject, Schema schema);

  /**
   * The compatibility level in force: the subject's own, or the global one when the subject has
   * none ({@code GET /config/{subject}?defaultToGlobal=true}); the global one ({@code GET /config})
   * when {@code subject} is null.
   *
   * @param subject the subject, or null for the global level
   */
  CompatibilityLevel getCompatibility(String subject);

  /**
   * Sets the compatibility level of a subject, or the global one when {@code subject} is null
   * ({@code PUT /config[/{subject}]}).
   *
   * @param subject the subject, or null for the global level
   * @return the level now in force
   */
  CompatibilityLevel setCompatibility(String subject, CompatibilityLevel level);

  /**
   * Removes the subject's own compatibility level, so the global one applies again ({@code DELETE
   * /config/{subject}}).
   *
   * @return the level the subject had
   * @throws SchemaRegistryException 404 (40401 or 40408) when the subject has no level of its own
   */
  CompatibilityLevel deleteSubjectConfig(String subject);

  /** Every subject that has at least one live version ({@code GET /subjects}), never null. */
  List<String> listSubjects();

  /**
   * The live version numbers of a subject, ascending ({@code GET /subjects/{subject}/versions}).
   *
   * @throws SchemaRegistryException 404 (40401) when the subject does not exist
   */
  List<Integer> listVersions(String subject);

  /**
   * Deletes a subject ({@code DELETE /subjects/{subject}}): first softly (ids stay readable, the
   * versions are hidden), then, with {@code permanent}, for good.
   *
   * @return the deleted version numbers
   * @throws SchemaRegistryException 404: 40401 when absent, 40404 when already soft-deleted and
   *     {@code permanent} is false, 40405 when {@code permanent} but not soft-deleted first
   */
  List<Integer> deleteSubject(String subject, boolean permanent);

  /**
   * Deletes one version of a subject ({@code DELETE /subjects/{subject}/versions/{version}}), softly
   * first, then for good with {@code permanent}.
   *
   * @return the deleted version number
   * @throws SchemaRegistryException 404: 40401, 40402, 40406 (already soft-deleted), 40407
   *     ({@code permanent} but not soft-deleted first)
   */
  int deleteVersion(String subject, int version, boolean permanent);
}
