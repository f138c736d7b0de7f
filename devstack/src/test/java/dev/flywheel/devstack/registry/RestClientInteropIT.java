package dev.flywheel.devstack.registry;

import static dev.flywheel.devstack.registry.Schemas.ID_INT;
import static dev.flywheel.devstack.registry.Schemas.ID_STRING;
import static dev.flywheel.devstack.registry.Schemas.NAME;
import static dev.flywheel.devstack.registry.Schemas.NAME_DEFAULTED;
import static dev.flywheel.devstack.registry.Schemas.record;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.registry.CompatibilityLevel;
import dev.flywheel.registry.CompatibilityResult;
import dev.flywheel.registry.RegisteredSchema;
import dev.flywheel.registry.RestSchemaRegistryClient;
import dev.flywheel.registry.SchemaRegistryException;
import org.apache.avro.Schema;
import dev.flywheel.devstack.junit.WithDevstack;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Flywheel's own REST client against the embedded registry, end to end. */
@WithDevstack
class RestClientInteropIT {

  @RegisterExtension final FreshRegistry fresh = new FreshRegistry();

  private RestSchemaRegistryClient client() {
    // a new client each time: nothing answered from its caches
    return RestSchemaRegistryClient.builder().url(fresh.registry().url()).maxRetries(0).build();
  }

  @Test
  void shouldRegisterAndReadBackThroughFlywheelsClient() {
    // Given two versions registered through the client, under a record-name subject
    String subject = "dev.flywheel.test.Client";
    Schema v1 = new Schema.Parser().parse(record("Client", ID_INT));
    Schema v2 = new Schema.Parser().parse(record("Client", ID_INT + "," + NAME_DEFAULTED));
    int id1 = client().register(subject, v1, false);
    int id2 = client().register(subject, v2, false);

    // When they are read by id, version, latest and lookup, by fresh clients
    Schema byId = client().getSchemaById(id1);
    RegisteredSchema first = client().getBySubjectAndVersion(subject, 1);
    RegisteredSchema latest = client().getLatest(subject);
    RegisteredSchema found = client().lookup(subject, v1, false);

    // Then every answer matches what was registered
    assertThat(byId).isEqualTo(v1);
    assertThat(first).isEqualTo(new RegisteredSchema(subject, 1, id1, v1));
    assertThat(latest).isEqualTo(new RegisteredSchema(subject, 2, id2, v2));
    assertThat(found.version()).isEqualTo(1);
    assertThat(client().listSubjects()).containsExactly(subject);
    assertThat(client().listVersions(subject)).containsExactly(1, 2);
  }

  @Test
  void shouldReadBackASchemaWithNonAsciiTextThroughFlywheelsClient() {
    // Given a schema whose doc and field default are outside ASCII, registered through the client
    Schema schema = new Schema.Parser().parse("{\"type\":\"record\",\"name\":\"Price\","
        + "\"namespace\":\"dev.flywheel.test\",\"doc\":\"Prix en € été\",\"fields\":["
        + "{\"name\":\"currency\",\"type\":\"string\",\"default\":\"€\"}]}");
    int id = client().register("price-value", schema, false);

    // When fresh clients read it by id and as the latest version
    Schema byId = client().getSchemaById(id);
    RegisteredSchema latest = client().getLatest("price-value");

    // Then both are the schema registered, doc and default included
    assertThat(byId).isEqualTo(schema);
    assertThat(byId.getDoc()).isEqualTo("Prix en € été");
    assertThat(latest.schema()).isEqualTo(schema);
  }

  @Test
  void shouldCarryTheRegistrysErrorCodesIntoTheClientsExceptions() {
    // Given a subject with an int field
    Schema v1 = new Schema.Parser().parse(record("Err", ID_INT));
    client().register("err-value", v1, false);

    // When an incompatible schema is registered, and unknown things are read
    // Then the client's exceptions carry 409, 40401, 40402 and 40403
    assertThatThrownBy(() -> client().register("err-value",
        new Schema.Parser().parse(record("Err", ID_STRING)), false))
        .isInstanceOfSatisfying(SchemaRegistryException.class,
            e -> assertThat(e.errorCode()).isEqualTo(409));
    assertThatThrownBy(() -> client().getLatest("missing-value"))
        .isInstanceOfSatisfying(SchemaRegistryException.class,
            e -> assertThat(e.errorCode()).isEqualTo(40401));
    assertThatThrownBy(() -> client().getBySubjectAndVersion("err-value", 9))
        .isInstanceOfSatisfying(SchemaRegistryException.class,
            e -> assertThat(e.errorCode()).isEqualTo(40402));
    assertThatThrownBy(() -> client().getSchemaById(99))
        .isInstanceOfSatisfying(SchemaRegistryException.class,
            e -> assertThat(e.errorCode()).isEqualTo(40403));
  }

  @Test
  void shouldTestCompatibilityAsRegistrationDoesUnderATransitiveLevel() {
    // Given a subject at BACKWARD_TRANSITIVE with an id, then an id and a defaulted name
    RestSchemaRegistryClient client = client();
    client.register("tr-value", new Schema.Parser().parse(record("Tr", ID_INT)), false);
    client.setCompatibility("tr-value", CompatibilityLevel.BACKWARD_TRANSITIVE);
    client.register("tr-value", new Schema.Parser().parse(record("Tr", ID_INT + ","
        + NAME_DEFAULTED)), false);

    // When a name without a default is tested: it can read the second version, not the first
    Schema noDefault = new Schema.Parser().parse(record("Tr", ID_INT + "," + NAME));
    CompatibilityResult tested = client.testCompatibility("tr-value", noDefault);

    // Then it is incompatible, as registering it is
    assertThat(tested.compatible()).isFalse();
    assertThatThrownBy(() -> client.register("tr-value", noDefault, false))
        .isInstanceOfSatisfying(SchemaRegistryException.class,
            e -> assertThat(e.errorCode()).isEqualTo(409));
  }

  @Test
  void shouldTestCompatibilityAndManageLevelsThroughFlywheelsClient() {
    // Given a subject with one version, at its own level FULL
    RestSchemaRegistryClient client = client();
    client.register("lvl-value", new Schema.Parser().parse(record("Lvl", ID_INT)), false);
    assertThat(client.setCompatibility("lvl-value", CompatibilityLevel.FULL))
        .isEqualTo(CompatibilityLevel.FULL);

    // When a type change and a defaulted field are tested, and the level is read and removed
    CompatibilityResult typeChange = client.testCompatibility("lvl-value",
        new Schema.Parser().parse(record("Lvl", ID_STRING)));
    CompatibilityResult added = client.testCompatibility("lvl-value",
        new Schema.Parser().parse(record("Lvl", ID_INT + "," + NAME_DEFAULTED)));
    CompatibilityResult fresh = client.testCompatibility("fresh-value",
        new Schema.Parser().parse(record("Fresh", ID_INT)));
    CompatibilityLevel level = client.getCompatibility("lvl-value");
    CompatibilityLevel removed = client.deleteSubjectConfig("lvl-value");

    // Then the answers follow the level, and the subject falls back to the global level
    assertThat(typeChange.compatible()).isFalse();
    assertThat(typeChange.messages()).isNotEmpty();
    assertThat(added.compatible()).isTrue();
    assertThat(fresh.compatible()).isTrue();
    assertThat(level).isEqualTo(CompatibilityLevel.FULL);
    assertThat(removed).isEqualTo(CompatibilityLevel.FULL);
    assertThat(client.getCompatibility("lvl-value")).isEqualTo(CompatibilityLevel.BACKWARD);
    assertThat(client.getCompatibility(null)).isEqualTo(CompatibilityLevel.BACKWARD);
  }

  @Test
  void shouldDeleteThroughFlywheelsClient() {
    // Given a subject with two versions
    RestSchemaRegistryClient client = client();
    client.register("del-value", new Schema.Parser().parse(record("Del", ID_INT)), false);
    client.register("del-value",
        new Schema.Parser().parse(record("Del", ID_INT + "," + NAME_DEFAULTED)), false);

    // When version 2 is deleted, then the subject, softly then permanently
    int version = client.deleteVersion("del-value", 2, false);
    assertThat(client.listVersions("del-value")).containsExactly(1);
    assertThat(client.deleteSubject("del-value", false)).containsExactly(1);
    assertThat(client.deleteSubject("del-value", true)).containsExactly(1, 2);

    // Then the subject is gone
    assertThat(version).isEqualTo(2);
    assertThat(client.listSubjects()).isEmpty();
  }

  @Test
  void shouldServeSubjectsWhoseNamesNeedEncoding() {
    // Given a subject name with a space, a colon and a slash, which the client percent-encodes
    String subject = "team a:orders/v1-value";
    Schema schema = new Schema.Parser().parse(record("Enc", ID_INT));

    // When it is registered and read back
    int id = client().register(subject, schema, false);

    // Then the registry decoded the name
    assertThat(client().getLatest(subject).id()).isEqualTo(id);
    assertThat(client().listSubjects()).containsExactly(subject);
  }
}
