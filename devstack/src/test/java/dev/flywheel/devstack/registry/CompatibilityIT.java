package dev.flywheel.devstack.registry;

import static dev.flywheel.devstack.registry.Schemas.AMOUNT;
import static dev.flywheel.devstack.registry.Schemas.ID_INT;
import static dev.flywheel.devstack.registry.Schemas.ID_STRING;
import static dev.flywheel.devstack.registry.Schemas.NAME;
import static dev.flywheel.devstack.registry.Schemas.NAME_DEFAULTED;
import static dev.flywheel.devstack.registry.Schemas.record;
import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.devstack.registry.RegistryHttp.Response;
import dev.flywheel.registry.CompatibilityLevel;
import dev.flywheel.devstack.junit.WithDevstack;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Compatibility checks on registration and on demand, and the levels that drive them. */
@WithDevstack
class CompatibilityIT {

  @RegisterExtension final FreshRegistry fresh = new FreshRegistry();

  @Test
  void shouldAcceptAFieldAddedWithADefaultUnderBackward() {
    // Given a subject at the default level, BACKWARD, with one version
    fresh.http().registerOk("tx-value", record("Tx", ID_INT));

    // When a version adding a defaulted field is registered
    Response response = fresh.http().register("tx-value", record("Tx", ID_INT + "," + NAME_DEFAULTED));

    // Then it is accepted as version 2
    assertThat(response.status()).isEqualTo(200);
    assertThat(fresh.http().get("/subjects/tx-value/versions").json().toString()).isEqualTo("[1,2]");
  }

  @Test
  void shouldRefuseAFieldAddedWithoutADefaultUnderBackward() {
    // Given a subject at BACKWARD with one version
    fresh.http().registerOk("tx-value", record("Tx", ID_INT));

    // When a version adding a required field is registered
    Response response = fresh.http().register("tx-value", record("Tx", ID_INT + "," + NAME));

    // Then it is refused with 409, naming the field that has no default
    assertThat(response.status()).isEqualTo(409);
    assertThat(response.errorCode()).isEqualTo(409);
    assertThat(response.json().get("message").asText())
        .contains("READER_FIELD_MISSING_DEFAULT_VALUE").contains("name");
  }

  @Test
  void shouldRefuseRemovingARequiredFieldUnderForward() {
    // Given a FORWARD subject whose schema has a required field
    fresh.http().setLevel("fwd-value", "FORWARD");
    fresh.http().registerOk("fwd-value", record("Fwd", ID_INT + "," + AMOUNT));

    // When a version without that field is registered
    Response response = fresh.http().register("fwd-value", record("Fwd", ID_INT));

    // Then it is refused: old readers need the field
    assertThat(response.status()).isEqualTo(409);
    assertThat(response.errorCode()).isEqualTo(409);
    assertThat(response.json().get("message").asText()).contains("FORWARD").contains("amount");
  }

  @Test
  void shouldRefuseRemovingARequiredFieldUnderFull() {
    // Given a FULL subject whose schema has a required field
    fresh.http().setLevel("full-value", "FULL");
    fresh.http().registerOk("full-value", record("Full", ID_INT + "," + AMOUNT));

    // When a version without that field is registered
    Response response = fresh.http().register("full-value", record("Full", ID_INT));

    // Then it is refused with 409
    assertThat(response.status()).isEqualTo(409);
    assertThat(response.errorCode()).isEqualTo(409);
  }

  @Test
  void shouldRefuseChangingAFieldTypeFromIntToString() {
    // Given a BACKWARD subject with an int field
    fresh.http().registerOk("type-value", record("Type", ID_INT));

    // When a version makes it a string
    Response response = fresh.http().register("type-value", record("Type", ID_STRING));

    // Then it is refused with 409 naming the type mismatch
    assertThat(response.status()).isEqualTo(409);
    assertThat(response.errorCode()).isEqualTo(409);
    assertThat(response.json().get("message").asText()).contains("TYPE_MISMATCH");
  }

  @Test
  void shouldRefuseAMalformedSchemaWith42201() {
    // Given a schema that is not valid Avro
    String malformed = "{\"type\":\"record\",\"name\":\"Broken\",\"fields\":[{\"name\":\"x\"}]}";

    // When it is registered
    Response response = fresh.http().register("broken-value", malformed);

    // Then it is an invalid schema
    assertThat(response.status()).isEqualTo(422);
    assertThat(response.errorCode()).isEqualTo(42201);
    assertThat(fresh.http().get("/subjects").json()).isEmpty();
  }

  @Test
  void shouldRefuseAnInvalidCompatibilityLevelWith42203() {
    // Given a running registry
    // When an unknown level is set globally and on a subject
    Response global = fresh.http().setLevel(null, "SIDEWAYS");
    Response subject = fresh.http().setLevel("any-value", "SIDEWAYS");

    // Then both are refused and nothing changed
    assertThat(global.status()).isEqualTo(422);
    assertThat(global.errorCode()).isEqualTo(42203);
    assertThat(subject.errorCode()).isEqualTo(42203);
    assertThat(fresh.http().get("/config").json().get("compatibilityLevel").asText())
        .isEqualTo("BACKWARD");
  }

  @Test
  void shouldCheckAgainstTheGlobalLevelUnlessTheSubjectHasItsOwn() {
    // Given the global level NONE and one subject kept at BACKWARD
    assertThat(fresh.http().setLevel(null, "NONE").body()).isEqualTo("{\"compatibility\":\"NONE\"}");
    fresh.http().setLevel("strict-value", "BACKWARD");
    fresh.http().registerOk("free-value", record("Free", ID_INT));
    fresh.http().registerOk("strict-value", record("Strict", ID_INT));

    // When both subjects change a field's type
    Response free = fresh.http().register("free-value", record("Free", ID_STRING));
    Response strict = fresh.http().register("strict-value", record("Strict", ID_STRING));

    // Then only the subject at BACKWARD refuses it
    assertThat(free.status()).isEqualTo(200);
    assertThat(strict.status()).isEqualTo(409);
    assertThat(fresh.http().get("/config").body()).isEqualTo("{\"compatibilityLevel\":\"NONE\"}");
  }

  @Test
  void shouldAnswer40408ForASubjectWithoutItsOwnLevelUnlessDefaultToGlobal() {
    // Given a subject without a level of its own, and the global level FULL
    fresh.http().setLevel(null, "FULL");
    fresh.http().registerOk("cfg-value", record("Cfg", ID_INT));

    // When its level is read with and without defaultToGlobal
    Response own = fresh.http().get("/config/cfg-value");
    Response fallback = fresh.http().get("/config/cfg-value?defaultToGlobal=true");

    // Then without it the answer is 40408; with it, the global level
    assertThat(own.status()).isEqualTo(404);
    assertThat(own.errorCode()).isEqualTo(40408);
    assertThat(fallback.body()).isEqualTo("{\"compatibilityLevel\":\"FULL\"}");
  }

  @Test
  void shouldServeAndDeleteASubjectsOwnLevel() {
    // Given a subject with its own level
    Response set = fresh.http().setLevel("cfg-value", "forward_transitive");

    // When it is read, deleted, and read again
    Response read = fresh.http().get("/config/cfg-value");
    Response deleted = fresh.http().delete("/config/cfg-value");
    Response after = fresh.http().get("/config/cfg-value");

    // Then the level is echoed, served, answered on delete, and gone
    assertThat(set.body()).isEqualTo("{\"compatibility\":\"FORWARD_TRANSITIVE\"}");
    assertThat(read.body()).isEqualTo("{\"compatibilityLevel\":\"FORWARD_TRANSITIVE\"}");
    assertThat(deleted.body()).isEqualTo("{\"compatibilityLevel\":\"FORWARD_TRANSITIVE\"}");
    assertThat(after.errorCode()).isEqualTo(40408);
  }

  @Test
  void shouldCheckOnlyTheLatestVersionUnlessTransitive() {
    // Given two subjects with the same history: v1 {id: string}, v2 {} (dropping a field is
    // BACKWARD), one at BACKWARD and one at BACKWARD_TRANSITIVE
    String v1 = record("Hist", "{\"name\":\"code\",\"type\":\"string\"}");
    String v2 = record("Hist", "");
    String v3 = record("Hist", "{\"name\":\"code\",\"type\":\"int\",\"default\":0}");
    for (String subject : new String[] {"plain-value", "transitive-value"}) {
      fresh.http().setLevel(subject, subject.startsWith("plain") ? "BACKWARD" : "BACKWARD_TRANSITIVE");
      fresh.http().registerOk(subject, v1);
      fresh.http().registerOk(subject, v2);
    }

    // When v3 brings the field back as an int, readable from v2 but not from v1 data
    Response plain = fresh.http().register("plain-value", v3);
    Response transitive = fresh.http().register("transitive-value", v3);

    // Then only the transitive subject refuses it, naming the earlier version
    assertThat(plain.status()).isEqualTo(200);
    assertThat(transitive.status()).isEqualTo(409);
    assertThat(transitive.json().get("message").asText()).contains("earlier schema #1");
  }

  @Test
  void shouldNotCheckAgainstSoftDeletedVersions() {
    // Given a subject whose only version was soft-deleted
    fresh.http().registerOk("del-value", record("Del", ID_INT));
    fresh.http().delete("/subjects/del-value/versions/1");

    // When an incompatible schema is registered
    Response response = fresh.http().register("del-value", record("Del", ID_STRING));

    // Then it is accepted: there is no live version to be compatible with
    assertThat(response.status()).isEqualTo(200);
  }

  @Test
  void shouldTestCompatibilityWithoutRegistering() {
    // Given a BACKWARD subject with one version
    fresh.http().registerOk("test-value", record("Test", ID_INT));

    // When a compatible and an incompatible schema are tested, verbosely
    Response good = fresh.http().post("/compatibility/subjects/test-value/versions/latest?verbose=true",
        RegistryHttp.schemaBody(record("Test", ID_INT + "," + NAME_DEFAULTED)));
    Response bad = fresh.http().post("/compatibility/subjects/test-value/versions/1?verbose=true",
        RegistryHttp.schemaBody(record("Test", ID_STRING)));
    Response terse = fresh.http().post("/compatibility/subjects/test-value/versions/latest",
        RegistryHttp.schemaBody(record("Test", ID_STRING)));

    // Then the answers say so, with messages only when verbose, and nothing was registered
    assertThat(good.body()).isEqualTo("{\"is_compatible\":true,\"messages\":[]}");
    assertThat(bad.json().get("is_compatible").asBoolean()).isFalse();
    assertThat(bad.json().get("messages")).isNotEmpty();
    assertThat(bad.json().get("messages").get(0).asText()).contains("TYPE_MISMATCH");
    assertThat(terse.body()).isEqualTo("{\"is_compatible\":false}");
    assertThat(fresh.http().get("/subjects/test-value/versions").json().toString()).isEqualTo("[1]");
  }

  @Test
  void shouldTestAgainstTheNamedVersionAloneEvenUnderATransitiveLevel() {
    // Given a BACKWARD_TRANSITIVE subject with v1 {code: string} and v2 {}
    String v3 = record("Hist", "{\"name\":\"code\",\"type\":\"int\",\"default\":0}");
    fresh.http().setLevel("hist-value", "BACKWARD_TRANSITIVE");
    fresh.http().registerOk("hist-value", record("Hist", "{\"name\":\"code\",\"type\":\"string\"}"));
    fresh.http().registerOk("hist-value", record("Hist", ""));

    // When v3, which reads v2 data but not v1 data, is tested against latest, 2 and 1
    Response latest = fresh.http().post("/compatibility/subjects/hist-value/versions/latest",
        RegistryHttp.schemaBody(v3));
    Response two = fresh.http().post("/compatibility/subjects/hist-value/versions/2",
        RegistryHttp.schemaBody(v3));
    Response one = fresh.http().post("/compatibility/subjects/hist-value/versions/1",
        RegistryHttp.schemaBody(v3));

    // Then, as in Confluent's registry, each is checked against that one version: latest is v2
    assertThat(latest.body()).isEqualTo("{\"is_compatible\":true}");
    assertThat(two.body()).isEqualTo("{\"is_compatible\":true}");
    assertThat(one.body()).isEqualTo("{\"is_compatible\":false}");
  }

  @Test
  void shouldTestAgainstTheVersionsRegistrationWouldWhenNoVersionIsNamed() {
    // Given two subjects with v1 {code: string} and v2 {}, at BACKWARD and BACKWARD_TRANSITIVE
    String v3 = record("Hist", "{\"name\":\"code\",\"type\":\"int\",\"default\":0}");
    for (String subject : new String[] {"plain-value", "transitive-value"}) {
      fresh.http().setLevel(subject, subject.startsWith("plain") ? "BACKWARD" : "BACKWARD_TRANSITIVE");
      fresh.http().registerOk(subject, record("Hist", "{\"name\":\"code\",\"type\":\"string\"}"));
      fresh.http().registerOk(subject, record("Hist", ""));
    }

    // When v3, which reads v2 data but not v1 data, is tested against all their versions
    Response plain = fresh.http().post("/compatibility/subjects/plain-value/versions?verbose=true",
        RegistryHttp.schemaBody(v3));
    Response transitive = fresh.http().post(
        "/compatibility/subjects/transitive-value/versions?verbose=true",
        RegistryHttp.schemaBody(v3));
    Response none = fresh.http().post("/compatibility/subjects/new-value/versions",
        RegistryHttp.schemaBody(v3));

    // Then only the transitive subject finds it incompatible, naming v1; a subject without
    // versions accepts it
    assertThat(plain.body()).isEqualTo("{\"is_compatible\":true,\"messages\":[]}");
    assertThat(transitive.json().get("is_compatible").asBoolean()).isFalse();
    assertThat(transitive.json().get("messages").get(0).asText()).contains("earlier schema #1");
    assertThat(none.body()).isEqualTo("{\"is_compatible\":true}");
  }

  @Test
  void shouldAnswer40402ForANumberedVersionThatIsMissingEvenWithItsSubject() {
    // Given a subject whose version 2 was soft-deleted, and a subject never registered
    fresh.http().registerOk("known-value", record("Known", ID_INT));
    fresh.http().registerOk("known-value", record("Known", ID_INT + "," + NAME_DEFAULTED));
    fresh.http().delete("/subjects/known-value/versions/2");

    // When a schema is tested against version 2 of the one and version 1 of the other
    Response deleted = fresh.http().post("/compatibility/subjects/known-value/versions/2",
        RegistryHttp.schemaBody(record("Known", ID_INT)));
    Response unknown = fresh.http().post("/compatibility/subjects/nosuch-value/versions/1",
        RegistryHttp.schemaBody(record("Known", ID_INT)));

    // Then both are 40402, as Confluent's registry answers: it looks the version up without
    // first looking for the subject (and finds any schema compatible with "latest" of none)
    assertThat(List.of(deleted, unknown)).allSatisfy(response -> {
      assertThat(response.status()).isEqualTo(404);
      assertThat(response.errorCode()).isEqualTo(40402);
    });
  }

  @Test
  void shouldFindAnySchemaCompatibleWithASubjectWithoutVersions() {
    // Given a subject that was never registered
    // When a schema is tested against its latest version
    Response response = fresh.http().post("/compatibility/subjects/new-value/versions/latest",
        RegistryHttp.schemaBody(record("New", ID_INT)));

    // Then it is compatible, not a 404
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.json().get("is_compatible").asBoolean()).isTrue();
  }

  @Test
  void shouldUseTheBuildersDefaultLevelUntilOneIsSet() {
    // Given a registry whose default level is NONE
    try (EmbeddedSchemaRegistry lenient = fresh.startAnother(
        builder -> builder.defaultCompatibility(CompatibilityLevel.NONE))) {
      RegistryHttp lenientHttp = new RegistryHttp(lenient.url());
      lenientHttp.registerOk("any-value", record("Any", ID_INT));

      // When a type is changed
      Response response = lenientHttp.register("any-value", record("Any", ID_STRING));

      // Then it is accepted, and the global level reads NONE
      assertThat(response.status()).isEqualTo(200);
      assertThat(lenientHttp.get("/config").body())
          .isEqualTo("{\"compatibilityLevel\":\"NONE\"}");
    }
  }
}
