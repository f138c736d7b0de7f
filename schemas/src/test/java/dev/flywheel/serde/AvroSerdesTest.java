package dev.flywheel.serde;

import static dev.flywheel.serde.TestSchemas.userV1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.events.FeatureVector;
import dev.flywheel.registry.InMemorySchemaRegistryClient;
import dev.flywheel.topics.AvroSerdeFactory;
import java.time.Duration;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;

class AvroSerdesTest {

  private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();

  @Test
  void shouldMakeReadySpecificSerdesForKeysAndValues() {
    // Given the factory the topic catalogue uses
    AvroSerdeFactory factory = new AvroSerdes(registry, Map.of());

    // When a value serde and a key serde of FeatureVector are made and used without configure()
    Serde<FeatureVector> values = factory.specific(FeatureVector.class, false);
    Serde<FeatureVector> keys = factory.specific(FeatureVector.class, true);
    FeatureVector vector = WireFormatTest.featureVector();
    FeatureVector back = values.deserializer().deserialize("flywheel.features",
        values.serializer().serialize("flywheel.features", vector));
    keys.serializer().serialize("flywheel.features", vector);

    // Then they round-trip, registering under the value and key subjects
    assertThat(back).isEqualTo(vector);
    assertThat(registry.listSubjects())
        .containsExactly("flywheel.features-key", "flywheel.features-value");
  }

  @Test
  void shouldMakeReadyGenericSerdesWithTheFactorysSettings() {
    // Given a factory whose settings turn auto-registration off, and V1 registered
    registry.register("users-value", TestSchemas.USER_V1);
    AvroSerdes factory = new AvroSerdes(registry,
        Map.of(AvroSerdeConfig.AUTO_REGISTER_SCHEMAS, "false"));

    // When a generic serde round-trips a record
    Serde<GenericRecord> serde = factory.generic(false);
    GenericRecord back = serde.deserializer().deserialize("users",
        serde.serializer().serialize("users", userV1("u", 1)));

    // Then it comes back and nothing new was registered
    assertThat(back).isEqualTo(userV1("u", 1));
    assertThat(registry.listVersions("users-value")).containsExactly(1);
    assertThat(factory.client()).isSameAs(registry);
  }

  @Test
  void shouldBuildItsClientFromTheConfig() {
    // Given a config with a mock:// URL, When the factory is built from it
    InMemorySchemaRegistryClient.dropScope("serdes-test");
    AvroSerdes factory = AvroSerdes.fromConfig(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL,
        "mock://serdes-test"));

    // Then its client is that scope's registry
    assertThat(factory.client()).isSameAs(InMemorySchemaRegistryClient.forScope("serdes-test"));
    InMemorySchemaRegistryClient.dropScope("serdes-test");
  }

  @Test
  void shouldRefuseAnInvalidSettingUpFront() {
    // Given a bad boolean, When the factory is built, Then ConfigException names the key
    assertThatThrownBy(() -> new AvroSerdes(registry,
        Map.of(AvroSerdeConfig.AUTO_REGISTER_SCHEMAS, "sometimes")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("auto.register.schemas");
  }

  @Test
  void shouldReadConfluentDefaultsAndValues() {
    // Given an empty config and a full one
    AvroSerdeConfig defaults = AvroSerdeConfig.defaults();
    AvroSerdeConfig set = AvroSerdeConfig.of(Map.of(
        AvroSerdeConfig.AUTO_REGISTER_SCHEMAS, "false",
        AvroSerdeConfig.USE_LATEST_VERSION, "true",
        AvroSerdeConfig.LATEST_COMPATIBILITY_STRICT, "false",
        AvroSerdeConfig.LATEST_CACHE_TTL_SEC, "30",
        AvroSerdeConfig.USE_SCHEMA_ID, 5,
        AvroSerdeConfig.NORMALIZE_SCHEMAS, true,
        AvroSerdeConfig.SPECIFIC_AVRO_READER, "TRUE"));

    // Then the defaults are Confluent's, and the values are read
    assertThat(defaults.autoRegisterSchemas()).isTrue();
    assertThat(defaults.useLatestVersion()).isFalse();
    assertThat(defaults.latestCompatibilityStrict()).isTrue();
    assertThat(defaults.latestCacheTtl()).isEmpty();
    assertThat(defaults.useSchemaId()).isEqualTo(-1);
    assertThat(defaults.specificAvroReader()).isFalse();
    assertThat(defaults.readerSchema()).isEmpty();
    assertThat(set.autoRegisterSchemas()).isFalse();
    assertThat(set.useLatestVersion()).isTrue();
    assertThat(set.latestCompatibilityStrict()).isFalse();
    assertThat(set.latestCacheTtl()).contains(Duration.ofSeconds(30));
    assertThat(set.useSchemaId()).isEqualTo(5);
    assertThat(set.normalizeSchemas()).isTrue();
    assertThat(set.specificAvroReader()).isTrue();
  }

  @Test
  void shouldRefuseConfluentSettingsItDoesNotImplementRatherThanIgnoreThem() {
    // Given Confluent serde settings Flywheel does not implement, each set to a non-default value
    Map<String, Object> unsupported = Map.of(
        "schema.reflection", "true",
        "avro.reflection.allow.null", true,
        "use.latest.with.metadata", "application.version=2",
        "specific.avro.value.type", "dev.flywheel.events.Label",
        "rule.executors", "encrypt",
        "context.name.strategy", "com.acme.TenantContextStrategy");

    // When a serializer is configured with any of them, Then it is refused, naming the key
    unsupported.forEach((key, value) ->
        assertThatThrownBy(() -> new AvroSerializer<>(new InMemorySchemaRegistryClient(),
            Map.of(key, value), false))
            .isInstanceOf(ConfigException.class)
            .hasMessageContaining(key)
            .hasMessageContaining("not supported"));
  }

  @Test
  void shouldAcceptThoseSettingsAtTheirDefaults() {
    // Given the same keys at Confluent's defaults, When a config is read, Then it is accepted
    assertThat(AvroSerdeConfig.of(Map.of(
        "schema.reflection", "false",
        "avro.reflection.allow.null", false,
        "use.latest.with.metadata", "",
        "context.name.strategy",
        "io.confluent.kafka.serializers.context.NullContextNameStrategy")).autoRegisterSchemas())
        .isTrue();
  }
}
