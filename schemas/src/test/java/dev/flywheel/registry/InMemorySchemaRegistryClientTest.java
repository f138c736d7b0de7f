package dev.flywheel.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

class InMemorySchemaRegistryClientTest {

  private static final Schema V1 = parse("""
      {"type": "record", "name": "User", "fields": [{"name": "id", "type": "string"}]}""");
  private static final Schema V2 = parse("""
      {"type": "record", "name": "User", "fields": [{"name": "id", "type": "string"},
        {"name": "age", "type": "int", "default": 0}]}""");
  private static final Schema V2_REQUIRED = parse("""
      {"type": "record", "name": "User", "fields": [{"name": "id", "type": "string"},
        {"name": "age", "type": "int"}]}""");
  private static final Schema OTHER = parse("""
      {"type": "record", "name": "Other", "fields": [{"name": "x", "type": "long"}]}""");

  private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();

  private static Schema parse(String json) {
    return new Schema.Parser().parse(json);
  }

  private static void assertError(Runnable call, int status, int code) {
    assertThatThrownBy(call::run).isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
      assertThat(e.httpStatus()).isEqualTo(status);
      assertThat(e.errorCode()).isEqualTo(code);
    });
  }

  @Test
  void shouldGiveTheSameSchemaTheSameIdUnderEverySubject() {
    // Given a schema registered under two subjects, and another schema
    int a = registry.register("a-value", V1);
    int b = registry.register("b-value", V1);
    int other = registry.register("c-value", OTHER);

    // When the first is registered again
    int again = registry.register("a-value", V1);

    // Then ids are registry-wide and stable, and no version was added
    assertThat(a).isEqualTo(b).isEqualTo(again);
    assertThat(other).isNotEqualTo(a);
    assertThat(registry.getSchemaById(a)).isEqualTo(V1);
    assertThat(registry.listVersions("a-value")).containsExactly(1);
  }

  @Test
  void shouldCountVersionsPerSubject() {
    // Given two versions of one subject
    int id1 = registry.register("users-value", V1);
    int id2 = registry.register("users-value", V2);

    // When versions are read, Then they count from 1 and the latest is the last
    assertThat(registry.listVersions("users-value")).containsExactly(1, 2);
    assertThat(registry.getBySubjectAndVersion("users-value", 1))
        .isEqualTo(new RegisteredSchema("users-value", 1, id1, V1));
    assertThat(registry.getLatest("users-value"))
        .isEqualTo(new RegisteredSchema("users-value", 2, id2, V2));
    assertThat(registry.lookup("users-value", V1).version()).isEqualTo(1);
  }

  @Test
  void shouldAnswerConfluentsNotFoundCodes() {
    // Given one subject with one version
    registry.register("users-value", V1);

    // When absent things are asked for, Then the codes are Confluent's
    assertError(() -> registry.getLatest("nope"), 404, SchemaRegistryException.SUBJECT_NOT_FOUND);
    assertError(() -> registry.getBySubjectAndVersion("users-value", 9), 404,
        SchemaRegistryException.VERSION_NOT_FOUND);
    assertError(() -> registry.getBySubjectAndVersion("users-value", 0), 422,
        SchemaRegistryException.INVALID_VERSION);
    assertError(() -> registry.getSchemaById(99), 404, SchemaRegistryException.SCHEMA_NOT_FOUND);
    assertError(() -> registry.lookup("users-value", OTHER), 404,
        SchemaRegistryException.SCHEMA_NOT_FOUND);
    assertError(() -> registry.lookup("nope", V1), 404, SchemaRegistryException.SUBJECT_NOT_FOUND);
    assertError(() -> registry.listVersions("nope"), 404, SchemaRegistryException.SUBJECT_NOT_FOUND);
  }

  @Test
  void shouldRefuseAnIncompatibleSchemaWith409AndSayWhy() {
    // Given V1 under the default BACKWARD level
    registry.register("users-value", V1);

    // When a version adding a field without default is registered
    // Then it is refused with 409 naming the problem, and nothing is added
    assertThatThrownBy(() -> registry.register("users-value", V2_REQUIRED))
        .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
          assertThat(e.httpStatus()).isEqualTo(409);
          assertThat(e.isIncompatible()).isTrue();
          assertThat(e.registryMessage()).contains("incompatible with an earlier schema for subject "
              + "\"users-value\"").contains("READER_FIELD_MISSING_DEFAULT_VALUE");
        });
    assertThat(registry.listVersions("users-value")).containsExactly(1);
  }

  @Test
  void shouldApplyTheSubjectsLevelOverTheGlobalOne() {
    // Given the global level BACKWARD and the subject's own level NONE
    registry.register("users-value", V1);
    registry.setCompatibility("users-value", CompatibilityLevel.NONE);

    // When an otherwise incompatible version is registered, Then it is accepted
    registry.register("users-value", V2_REQUIRED);
    assertThat(registry.getCompatibility("users-value")).isEqualTo(CompatibilityLevel.NONE);
    assertThat(registry.getCompatibility(null)).isEqualTo(CompatibilityLevel.BACKWARD);

    // And when the subject's level is removed, the global one applies again
    assertThat(registry.deleteSubjectConfig("users-value")).isEqualTo(CompatibilityLevel.NONE);
    assertThat(registry.getCompatibility("users-value")).isEqualTo(CompatibilityLevel.BACKWARD);
    assertError(() -> registry.deleteSubjectConfig("users-value"), 404,
        SchemaRegistryException.SUBJECT_CONFIG_NOT_FOUND);
  }

  @Test
  void shouldTestCompatibilityWithoutRegistering() {
    // Given V1 registered
    registry.register("users-value", V1);

    // When candidates are tested, Then the answer says why, and nothing is registered
    assertThat(registry.testCompatibility("users-value", V2).compatible()).isTrue();
    CompatibilityResult refused = registry.testCompatibility("users-value", V2_REQUIRED);
    assertThat(refused.compatible()).isFalse();
    assertThat(refused.messages()).anySatisfy(m -> assertThat(m).contains("age"));
    assertThat(registry.testCompatibility("fresh-subject", V2_REQUIRED).compatible()).isTrue();
    assertThat(registry.listSubjects()).containsExactly("users-value");
  }

  @Test
  void shouldDeleteSoftlyFirstAndPermanentlySecond() {
    // Given a subject with two versions
    int id = registry.register("users-value", V1);
    registry.register("users-value", V2);

    // When it is deleted permanently without a soft delete first, Then 40405
    assertError(() -> registry.deleteSubject("users-value", true), 404,
        SchemaRegistryException.SUBJECT_NOT_SOFT_DELETED);

    // When it is soft-deleted, Then it is hidden but its ids stay readable; a second soft delete is 40404
    assertThat(registry.deleteSubject("users-value", false)).containsExactly(1, 2);
    assertThat(registry.listSubjects()).isEmpty();
    assertThat(registry.getSchemaById(id)).isEqualTo(V1);
    assertError(() -> registry.getLatest("users-value"), 404, SchemaRegistryException.SUBJECT_NOT_FOUND);
    assertError(() -> registry.deleteSubject("users-value", false), 404,
        SchemaRegistryException.SUBJECT_SOFT_DELETED);

    // When it is then deleted permanently, Then it is gone, ids included
    assertThat(registry.deleteSubject("users-value", true)).containsExactly(1, 2);
    assertError(() -> registry.getSchemaById(id), 404, SchemaRegistryException.SCHEMA_NOT_FOUND);
    assertError(() -> registry.deleteSubject("users-value", false), 404,
        SchemaRegistryException.SUBJECT_NOT_FOUND);

    // And a schema registered again keeps its id
    assertThat(registry.register("users-value", V1)).isEqualTo(id);
  }

  @Test
  void shouldDeleteVersionsSoftlyFirstAndPermanentlySecond() {
    // Given a subject with two versions
    registry.register("users-value", V1);
    int v2 = registry.register("users-value", V2);

    // When version 2 is deleted, with the same two-step rule as subjects
    assertError(() -> registry.deleteVersion("users-value", 2, true), 404,
        SchemaRegistryException.VERSION_NOT_SOFT_DELETED);
    assertThat(registry.deleteVersion("users-value", 2, false)).isEqualTo(2);
    assertError(() -> registry.deleteVersion("users-value", 2, false), 404,
        SchemaRegistryException.VERSION_SOFT_DELETED);

    // Then version 1 is the latest again; after the permanent delete, V2
    // registers as version 2 again, with its old id
    assertThat(registry.getLatest("users-value").version()).isEqualTo(1);
    assertThat(registry.deleteVersion("users-value", 2, true)).isEqualTo(2);
    assertError(() -> registry.deleteVersion("users-value", 7, false), 404,
        SchemaRegistryException.VERSION_NOT_FOUND);
    assertThat(registry.register("users-value", V2)).isEqualTo(v2);
    assertThat(registry.listVersions("users-value")).isEqualTo(List.of(1, 2));
  }

  @Test
  void shouldShareARegistryPerMockScope() {
    // Given two look-ups of the same scope and one of another
    InMemorySchemaRegistryClient.dropScope("scope-a");
    InMemorySchemaRegistryClient a1 = InMemorySchemaRegistryClient.forScope("scope-a");
    InMemorySchemaRegistryClient a2 = InMemorySchemaRegistryClient.forScope("scope-a");
    InMemorySchemaRegistryClient b = InMemorySchemaRegistryClient.forScope("scope-b");

    // When a schema is registered through one, Then the same scope sees it, the other not
    a1.register("s", V1);
    assertThat(a2).isSameAs(a1);
    assertThat(a2.listSubjects()).containsExactly("s");
    assertThat(b).isNotSameAs(a1);

    // And after the scope is dropped, it starts empty
    InMemorySchemaRegistryClient.dropScope("scope-a");
    assertThat(InMemorySchemaRegistryClient.forScope("scope-a").listSubjects()).isEmpty();
    InMemorySchemaRegistryClient.dropScope("scope-a");
    InMemorySchemaRegistryClient.dropScope("scope-b");
  }
}
