package dev.flywheel.serde;

import static dev.flywheel.serde.TestSchemas.USER_INCOMPATIBLE;
import static dev.flywheel.serde.TestSchemas.USER_V1;
import static dev.flywheel.serde.TestSchemas.USER_V2;
import static dev.flywheel.serde.TestSchemas.avroBinary;
import static dev.flywheel.serde.TestSchemas.userV1;
import static dev.flywheel.serde.TestSchemas.userV2;
import static dev.flywheel.serde.TestSchemas.wire;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.registry.CompatibilityLevel;
import dev.flywheel.registry.InMemorySchemaRegistryClient;
import dev.flywheel.registry.SchemaRegistryException;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class SerializerRegistrationTest {

  private final OffsetIdRegistry registry = new OffsetIdRegistry(0);

  @Test
  void shouldAskTheRegistryOncePerTopicAndSchema() {
    // Given a serializer with auto-registration
    AvroSerializer<GenericRecord> serializer = new AvroSerializer<>(registry);

    // When many records of one schema go to one topic, and then to a second topic
    for (int i = 0; i < 100; i++) {
      serializer.serialize("users", userV1("u" + i, i));
    }
    int afterFirstTopic = registry.calls.get();
    serializer.serialize("admins", userV1("a", 1));
    serializer.serialize("users", userV1("b", 2));

    // Then the registry was called once per (topic, schema) pair
    assertThat(afterFirstTopic).isEqualTo(1);
    assertThat(registry.calls.get()).isEqualTo(2);
  }

  @Test
  void shouldFailClearlyWhenAutoRegisterIsOffAndTheSchemaIsNotRegistered() {
    // Given auto.register.schemas=false and nothing registered
    AvroSerializer<GenericRecord> serializer = new AvroSerializer<>(registry,
        Map.of(AvroSerdeConfig.AUTO_REGISTER_SCHEMAS, "false"), false);

    // When a record is serialized, Then the error names the schema, the subject and the fix
    assertThatThrownBy(() -> serializer.serialize("users", userV1("u", 1)))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("cannot serialize value of topic 'users': schema dev.flywheel.test.User "
            + "is not registered under subject 'users-value' and auto.register.schemas is false")
        .hasMessageContaining("register it first")
        .hasCauseInstanceOf(SchemaRegistryException.class);
    assertThat(registry.listSubjects()).isEmpty();
  }

  @Test
  void shouldUseTheRegisteredIdWhenAutoRegisterIsOff() {
    // Given V1 registered by someone else (as id 1) and auto-registration off
    int id = registry.register("users-value", USER_V1);
    AvroSerializer<GenericRecord> serializer = new AvroSerializer<>(registry,
        Map.of(AvroSerdeConfig.AUTO_REGISTER_SCHEMAS, false), false);

    // When a V1 record is serialized
    byte[] bytes = serializer.serialize("users", userV1("u", 1));

    // Then it carries that id and nothing new was registered
    assertThat(bytes).isEqualTo(wire(id, avroBinary(USER_V1, userV1("u", 1))));
    assertThat(registry.listVersions("users-value")).containsExactly(1);
  }

  @Test
  void shouldRefuseToRegisterAnIncompatibleSchema() {
    // Given V1 registered under BACKWARD compatibility
    registry.register("users-value", USER_V1);
    AvroSerializer<GenericRecord> serializer = new AvroSerializer<>(registry);
    GenericRecord incompatible = new org.apache.avro.generic.GenericRecordBuilder(USER_INCOMPATIBLE)
        .set("id", "u").set("age", "old").build();

    // When a record of an incompatible schema is serialized, Then the 409 is reported
    assertThatThrownBy(() -> serializer.serialize("users", incompatible))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("registering schema dev.flywheel.test.User under subject 'users-value' failed")
        .hasMessageContaining("incompatible")
        .satisfies(e -> assertThat(((SchemaRegistryException) e.getCause()).httpStatus())
            .isEqualTo(409));
  }

  @Test
  void shouldWriteWithTheLatestVersionWhenConfigured() {
    // Given V1 and then V2 registered, and a serializer with use.latest.version, no auto-register
    registry.register("users-value", USER_V1);
    int v2 = registry.register("users-value", USER_V2);
    AvroSerializer<GenericRecord> serializer = new AvroSerializer<>(registry, Map.of(
        AvroSerdeConfig.AUTO_REGISTER_SCHEMAS, false,
        AvroSerdeConfig.USE_LATEST_VERSION, true), false);

    // When a V1 record is serialized
    byte[] bytes = serializer.serialize("users", userV1("u", 7));

    // Then it is written with V2's id and shape, V2's defaults filling the fields V1 lacks
    assertThat(bytes).isEqualTo(wire(v2, avroBinary(USER_V2, userV2("u", 7, null, "basic"))));
    GenericRecord back = new AvroDeserializer<GenericRecord>(registry).deserialize("users", bytes);
    assertThat(back).isEqualTo(userV2("u", 7, null, "basic"));
  }

  @Test
  void shouldRefuseTheLatestVersionWhenItCannotReadTheDatumsSchema() {
    // Given the latest version is incompatible with the datum's schema
    registry.setCompatibility(null, CompatibilityLevel.NONE);
    registry.register("users-value", USER_INCOMPATIBLE);
    AvroSerializer<GenericRecord> serializer = new AvroSerializer<>(registry, Map.of(
        AvroSerdeConfig.AUTO_REGISTER_SCHEMAS, false,
        AvroSerdeConfig.USE_LATEST_VERSION, true), false);

    // When a V1 record is serialized, Then the error names the version and the way out
    assertThatThrownBy(() -> serializer.serialize("users", userV1("u", 1)))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("the latest version 1 of subject 'users-value' (id 1) cannot read "
            + "data of the datum's schema dev.flywheel.test.User")
        .hasMessageContaining("latest.compatibility.strict=false");
  }

  @Test
  void shouldReportAMissingSubjectWithUseLatestVersion() {
    // Given use.latest.version and an empty registry
    AvroSerializer<GenericRecord> serializer = new AvroSerializer<>(registry, Map.of(
        AvroSerdeConfig.AUTO_REGISTER_SCHEMAS, false,
        AvroSerdeConfig.USE_LATEST_VERSION, true), false);

    // When a record is serialized, Then the error says the subject has no version
    assertThatThrownBy(() -> serializer.serialize("users", userV1("u", 1)))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("use.latest.version is true but the latest version of subject "
            + "'users-value' cannot be fetched (is any schema registered under it?)");
  }

  @Test
  void shouldAskForTheLatestVersionAgainAfterTheCacheTtl() {
    // Given use.latest.version with a TTL of 0 seconds (always stale) and V1 registered
    registry.register("users-value", USER_V1);
    AvroSerializer<GenericRecord> serializer = new AvroSerializer<>(registry, Map.of(
        AvroSerdeConfig.AUTO_REGISTER_SCHEMAS, false,
        AvroSerdeConfig.USE_LATEST_VERSION, true,
        AvroSerdeConfig.LATEST_CACHE_TTL_SEC, 0), false);
    serializer.serialize("users", userV1("u", 1));

    // When V2 is registered and another record is serialized
    int v2 = registry.register("users-value", USER_V2);
    byte[] bytes = serializer.serialize("users", userV1("u", 1));

    // Then it is written with V2
    assertThat(bytes).startsWith(wire(v2, new byte[0]));
  }

  @Test
  void shouldWriteWithAFixedSchemaIdWhenConfigured() {
    // Given V2 registered elsewhere and use.schema.id pointing at it
    int v2 = registry.register("other", USER_V2);
    AvroSerializer<GenericRecord> serializer = new AvroSerializer<>(registry, Map.of(
        AvroSerdeConfig.AUTO_REGISTER_SCHEMAS, "false",
        AvroSerdeConfig.USE_SCHEMA_ID, String.valueOf(v2)), false);

    // When a V1 record is serialized, Then it is written with that id and schema
    assertThat(serializer.serialize("users", userV1("u", 2)))
        .isEqualTo(wire(v2, avroBinary(USER_V2, userV2("u", 2, null, "basic"))));
  }

  @Test
  void shouldRegisterUnderTheKeySubjectForKeys() {
    // Given a key serializer on a mock:// registry named in config, as a Kafka config would
    InMemorySchemaRegistryClient.dropScope("keys-test");
    AvroSerializer<GenericRecord> serializer = new AvroSerializer<>();
    serializer.configure(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, "mock://keys-test"), true);

    // When a record key is serialized
    serializer.serialize("users", userV1("u", 1));

    // Then the schema is under <topic>-key in that scope's registry
    assertThat(InMemorySchemaRegistryClient.forScope("keys-test").listSubjects())
        .containsExactly("users-key");
    InMemorySchemaRegistryClient.dropScope("keys-test");
  }

  @Test
  void shouldNotBeUsableBeforeBeingConfigured() {
    // Given a serializer made by Kafka's no-argument constructor, not configured
    AvroSerializer<GenericRecord> serializer = new AvroSerializer<>();

    // When it is used, Then it says how to configure it
    assertThatThrownBy(() -> serializer.serialize("users", userV1("u", 1)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("not configured");
  }
}
