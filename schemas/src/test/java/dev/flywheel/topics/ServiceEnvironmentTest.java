package dev.flywheel.topics;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.registry.RestSchemaRegistryClient;
import dev.flywheel.registry.ScriptedRegistryPeer;
import dev.flywheel.serde.AvroSerdes;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class ServiceEnvironmentTest {

  private static final Map<String, String> ALL_SET = Map.of(
      "FLYWHEEL_BOOTSTRAP_SERVERS", "kafka-1:9093,kafka-2:9093",
      "FLYWHEEL_SCHEMA_REGISTRY_URL", "http://registry:8085",
      "FLYWHEEL_TOPIC_PREFIX", "acme",
      "FLYWHEEL_STATE_DIR", "/var/lib/flywheel");

  @Test
  void shouldUseTheEmbeddedStackDefaultsWhenNothingIsSet() {
    // Given an empty environment and no system properties
    ServiceEnvironment env = new ServiceEnvironment(Map.of(), new Properties());

    // When the settings are read
    // Then each is the embedded stack's default
    assertThat(env.bootstrapServers()).isEqualTo("127.0.0.1:9092");
    assertThat(env.schemaRegistryUrl()).isEqualTo("http://127.0.0.1:8081");
    assertThat(env.topicPrefix()).isEmpty();
    assertThat(env.stateDir()).isEqualTo(Path.of(".flywheel/state"));
    assertThat(env.kafka()).containsOnly(Map.entry("bootstrap.servers", "127.0.0.1:9092"));
    assertThat(env.kafkaOverrides()).isEmpty();
    assertThat(env.topics(new FakeAvroSerdeFactory()).prefix()).isEmpty();
  }

  @Test
  void shouldReadEveryVariable() {
    // Given every variable set
    ServiceEnvironment env = new ServiceEnvironment(ALL_SET, new Properties());

    // When the settings are read
    // Then each comes from its variable
    assertThat(env.bootstrapServers()).isEqualTo("kafka-1:9093,kafka-2:9093");
    assertThat(env.schemaRegistryUrl()).isEqualTo("http://registry:8085");
    assertThat(env.topicPrefix()).isEqualTo("acme");
    assertThat(env.stateDir()).isEqualTo(Path.of("/var/lib/flywheel"));
    assertThat(env.kafka())
        .containsOnly(Map.entry("bootstrap.servers", "kafka-1:9093,kafka-2:9093"));
  }

  @Test
  void shouldFallBackWhenAVariableIsBlank() {
    // Given every variable set to blanks
    ServiceEnvironment env = new ServiceEnvironment(Map.of(
        "FLYWHEEL_BOOTSTRAP_SERVERS", "",
        "FLYWHEEL_SCHEMA_REGISTRY_URL", " ",
        "FLYWHEEL_TOPIC_PREFIX", "\t",
        "FLYWHEEL_STATE_DIR", "  ",
        "FLYWHEEL_SERVING_PORT", ""), new Properties());

    // When the settings are read
    // Then a blank counts as unset
    assertThat(env.bootstrapServers()).isEqualTo("127.0.0.1:9092");
    assertThat(env.schemaRegistryUrl()).isEqualTo("http://127.0.0.1:8081");
    assertThat(env.topicPrefix()).isEmpty();
    assertThat(env.stateDir()).isEqualTo(Path.of(".flywheel/state"));
    assertThat(env.get("FLYWHEEL_SERVING_PORT", "8084")).isEqualTo("8084");
    assertThat(env.find("FLYWHEEL_SERVING_PORT")).isEmpty();
    assertThat(env.find("FLYWHEEL_STATE_DIR")).isEmpty();
  }

  @Test
  void shouldReadAServiceOwnVariable() {
    // Given a variable only one service knows
    ServiceEnvironment env =
        new ServiceEnvironment(Map.of("FLYWHEEL_LOOKUP_PORT", "9090"), new Properties());

    // When it is read with and without a fallback
    // Then its value is returned, and an unset one gives the fallback or nothing
    assertThat(env.get("FLYWHEEL_LOOKUP_PORT", "8080")).isEqualTo("9090");
    assertThat(env.find("FLYWHEEL_LOOKUP_PORT")).contains("9090");
    assertThat(env.get("FLYWHEEL_APPLICATION_SERVER", "127.0.0.1:9090"))
        .isEqualTo("127.0.0.1:9090");
    assertThat(env.find("FLYWHEEL_APPLICATION_SERVER")).isEmpty();
  }

  @Test
  void shouldPrefixEveryTopicName() {
    // Given a topic prefix
    ServiceEnvironment env =
        new ServiceEnvironment(Map.of("FLYWHEEL_TOPIC_PREFIX", "acme"), new Properties());

    // When the catalogue is built
    Topics topics = env.topics(new FakeAvroSerdeFactory());

    // Then its names carry the prefix
    assertThat(topics.prefix()).isEqualTo("acme");
    assertThat(topics.predictions().name()).isEqualTo("acme.flywheel.predictions");
  }

  @Test
  void shouldGiveTheCatalogueTheReplicationFactorOfItsVariable() {
    // Given a service started on its own against a cluster of three brokers
    ServiceEnvironment set =
        new ServiceEnvironment(Map.of("FLYWHEEL_REPLICATION_FACTOR", "3"), new Properties());
    ServiceEnvironment unset = new ServiceEnvironment(Map.of(), new Properties());

    // When the catalogues are built
    // Then the variable's factor is given to it (and so to the processors' internal topics), and
    // without the variable none is
    assertThat(set.topics(new FakeAvroSerdeFactory()).givenReplicationFactor()).contains((short) 3);
    assertThat(unset.topics(new FakeAvroSerdeFactory()).givenReplicationFactor()).isEmpty();
  }

  @Test
  void shouldRefuseAReplicationFactorThatIsNotAWholeNumber() {
    // Given a factor that is not a whole number
    ServiceEnvironment env =
        new ServiceEnvironment(Map.of("FLYWHEEL_REPLICATION_FACTOR", "three"), new Properties());

    // When the catalogue is built
    // Then it is refused, naming the variable and the value
    assertThatThrownBy(() -> env.topics(new FakeAvroSerdeFactory()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("FLYWHEEL_REPLICATION_FACTOR").hasMessageContaining("'three'");
  }

  @Test
  void shouldRefuseAnIllegalTopicPrefix() {
    // Given a prefix ending in the separator the catalogue adds itself
    ServiceEnvironment env =
        new ServiceEnvironment(Map.of("FLYWHEEL_TOPIC_PREFIX", "acme."), new Properties());

    // When the catalogue is built
    // Then it is refused, naming the prefix
    assertThatThrownBy(() -> env.topics(new FakeAvroSerdeFactory()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'acme.'");
  }

  @Test
  void shouldPassFlywheelKafkaPropertiesThroughWithoutThePrefix() {
    // Given flywheel.kafka.* properties among others
    Properties properties = new Properties();
    properties.setProperty("flywheel.kafka.session.timeout.ms", "6000");
    properties.setProperty("flywheel.kafka.security.protocol", "SASL_SSL");
    properties.setProperty("kafka.max.poll.records", "50");
    properties.setProperty("user.dir", "/tmp");
    ServiceEnvironment env = new ServiceEnvironment(ALL_SET, properties);

    // When the Kafka settings are read
    // Then only the flywheel.kafka.* ones pass, prefix removed, next to the bootstrap servers
    assertThat(env.kafkaOverrides()).containsOnly(
        Map.entry("session.timeout.ms", "6000"),
        Map.entry("security.protocol", "SASL_SSL"));
    assertThat(env.kafka()).containsOnly(
        Map.entry("bootstrap.servers", "kafka-1:9093,kafka-2:9093"),
        Map.entry("session.timeout.ms", "6000"),
        Map.entry("security.protocol", "SASL_SSL"));
  }

  @Test
  void shouldLetAFlywheelKafkaPropertyOverrideTheBootstrapServers() {
    // Given bootstrap servers both as a variable and as a flywheel.kafka.* property
    Properties properties = new Properties();
    properties.setProperty("flywheel.kafka.bootstrap.servers", "other:9092");
    ServiceEnvironment env = new ServiceEnvironment(ALL_SET, properties);

    // When the Kafka settings are read
    // Then the property wins
    assertThat(env.kafka()).containsOnly(Map.entry("bootstrap.servers", "other:9092"));
  }

  @Test
  void shouldMapFlywheelKafkaVariablesToClientProperties() {
    // Given FLYWHEEL_KAFKA_* variables, one blank, among others
    ServiceEnvironment env = new ServiceEnvironment(Map.of(
        "FLYWHEEL_KAFKA_SECURITY_PROTOCOL", "SASL_SSL",
        "FLYWHEEL_KAFKA_SASL_JAAS_CONFIG", "ScramLoginModule required;",
        "FLYWHEEL_KAFKA_SESSION_TIMEOUT_MS", "6000",
        "FLYWHEEL_KAFKA_CLIENT_ID", " ",
        "FLYWHEEL_KAFKA_", "no name",
        "FLYWHEEL_BOOTSTRAP_SERVERS", "kafka-1:9093"), new Properties());

    // When the Kafka settings are read
    // Then each non-blank one passes, named lower-case with dots, next to the bootstrap servers
    assertThat(env.kafkaFromEnv()).containsOnly(
        Map.entry("security.protocol", "SASL_SSL"),
        Map.entry("sasl.jaas.config", "ScramLoginModule required;"),
        Map.entry("session.timeout.ms", "6000"));
    assertThat(env.kafkaOverrides()).isEqualTo(env.kafkaFromEnv());
    assertThat(env.kafka()).containsOnly(
        Map.entry("bootstrap.servers", "kafka-1:9093"),
        Map.entry("security.protocol", "SASL_SSL"),
        Map.entry("sasl.jaas.config", "ScramLoginModule required;"),
        Map.entry("session.timeout.ms", "6000"));
  }

  @Test
  void shouldLetAFlywheelKafkaVariableOverrideTheBootstrapServers() {
    // Given bootstrap servers both as FLYWHEEL_BOOTSTRAP_SERVERS and as a FLYWHEEL_KAFKA_ variable
    ServiceEnvironment env = new ServiceEnvironment(Map.of(
        "FLYWHEEL_BOOTSTRAP_SERVERS", "kafka-1:9093",
        "FLYWHEEL_KAFKA_BOOTSTRAP_SERVERS", "kafka-2:9094"), new Properties());

    // When the Kafka settings are read
    // Then the FLYWHEEL_KAFKA_ variable wins
    assertThat(env.kafka()).containsOnly(Map.entry("bootstrap.servers", "kafka-2:9094"));
  }

  @Test
  void shouldLetAFlywheelKafkaPropertyOverrideTheSameVariable() {
    // Given two settings as FLYWHEEL_KAFKA_ variables, one of them also a flywheel.kafka. property
    Properties properties = new Properties();
    properties.setProperty("flywheel.kafka.security.protocol", "SSL");
    properties.setProperty("flywheel.kafka.bootstrap.servers", "kafka-3:9095");
    ServiceEnvironment env = new ServiceEnvironment(Map.of(
        "FLYWHEEL_BOOTSTRAP_SERVERS", "kafka-1:9093",
        "FLYWHEEL_KAFKA_BOOTSTRAP_SERVERS", "kafka-2:9094",
        "FLYWHEEL_KAFKA_SECURITY_PROTOCOL", "SASL_SSL",
        "FLYWHEEL_KAFKA_SESSION_TIMEOUT_MS", "6000"), properties);

    // When the Kafka settings are read
    // Then the properties win over the variables, which still give what the properties do not
    assertThat(env.kafka()).containsOnly(
        Map.entry("bootstrap.servers", "kafka-3:9095"),
        Map.entry("security.protocol", "SSL"),
        Map.entry("session.timeout.ms", "6000"));
    assertThat(env.kafkaOverrides()).containsOnly(
        Map.entry("bootstrap.servers", "kafka-3:9095"),
        Map.entry("security.protocol", "SSL"),
        Map.entry("session.timeout.ms", "6000"));
  }

  @Test
  void shouldRankAnOlderPrefixBetweenTheVariablesAndTheFlywheelKafkaProperties() {
    // Given one setting in each place, and two set in more than one
    Properties properties = new Properties();
    properties.setProperty("kafka.max.poll.records", "50");
    properties.setProperty("kafka.security.protocol", "SASL_PLAINTEXT");
    properties.setProperty("flywheel.kafka.security.protocol", "SSL");
    properties.setProperty("kafka.request.timeout.ms", "20000");
    ServiceEnvironment env = new ServiceEnvironment(Map.of(
        "FLYWHEEL_BOOTSTRAP_SERVERS", "kafka-1:9093",
        "FLYWHEEL_KAFKA_MAX_POLL_RECORDS", "10",
        "FLYWHEEL_KAFKA_SESSION_TIMEOUT_MS", "6000"), properties);

    // When the Kafka settings are read with the older kafka. prefix
    // Then kafka. wins over the variables and loses to flywheel.kafka.
    assertThat(env.kafka("kafka.")).containsOnly(
        Map.entry("bootstrap.servers", "kafka-1:9093"),
        Map.entry("max.poll.records", "50"),
        Map.entry("security.protocol", "SSL"),
        Map.entry("request.timeout.ms", "20000"),
        Map.entry("session.timeout.ms", "6000"));
    // and without it the kafka. properties are not read
    assertThat(env.kafka()).containsOnly(
        Map.entry("bootstrap.servers", "kafka-1:9093"),
        Map.entry("max.poll.records", "10"),
        Map.entry("security.protocol", "SSL"),
        Map.entry("session.timeout.ms", "6000"));
  }

  @Test
  void shouldReadPropertiesWithAnyPrefix() {
    // Given properties under another prefix
    Properties properties = new Properties();
    properties.setProperty("kafka.max.poll.records", "50");
    properties.setProperty("flywheel.kafka.session.timeout.ms", "6000");
    ServiceEnvironment env = new ServiceEnvironment(Map.of(), properties);

    // When they are read by that prefix
    // Then only they come back, prefix removed, in a map the caller may add to
    Map<String, Object> kafka = env.propertiesWithPrefix("kafka.");
    assertThat(kafka).containsOnly(Map.entry("max.poll.records", "50"));
    kafka.put("bootstrap.servers", "127.0.0.1:9092");
    assertThat(env.propertiesWithPrefix("kafka.")).doesNotContainKey("bootstrap.servers");
  }

  @Test
  void shouldBuildSerdesForTheRegistryUrl() {
    // Given a schema registry URL
    ServiceEnvironment env = new ServiceEnvironment(
        Map.of("FLYWHEEL_SCHEMA_REGISTRY_URL", "http://registry:8085"), new Properties());

    // When the serdes are built
    AvroSerdes serdes = env.serdes();

    // Then their registry client talks to that URL
    assertThat(serdes.client()).isInstanceOf(RestSchemaRegistryClient.class);
    assertThat(((RestSchemaRegistryClient) serdes.client()).baseUrls())
        .containsExactly("http://registry:8085");
  }

  @Test
  void shouldMapFlywheelSchemaRegistryVariablesToRegistrySettings() {
    // Given FLYWHEEL_SCHEMA_REGISTRY_* variables, one blank, one without a name, among others
    ServiceEnvironment env = new ServiceEnvironment(Map.of(
        "FLYWHEEL_SCHEMA_REGISTRY_URL", "https://registry:8085",
        "FLYWHEEL_SCHEMA_REGISTRY_BASIC_AUTH_CREDENTIALS_SOURCE", "USER_INFO",
        "FLYWHEEL_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO", "svc-fraud:s3cret",
        "FLYWHEEL_SCHEMA_REGISTRY_SSL_TRUSTSTORE_LOCATION", "/etc/flywheel/registry.p12",
        "FLYWHEEL_SCHEMA_REGISTRY_AUTO_REGISTER_SCHEMAS", "false",
        "FLYWHEEL_SCHEMA_REGISTRY_MAX_RETRIES", " ",
        "FLYWHEEL_SCHEMA_REGISTRY_", "no name",
        "FLYWHEEL_KAFKA_SECURITY_PROTOCOL", "SASL_SSL"), new Properties());

    // When the registry settings are read
    // Then each non-blank one passes under the key the client or serde reads, next to the URL
    assertThat(env.schemaRegistry()).containsOnly(
        Map.entry("schema.registry.url", "https://registry:8085"),
        Map.entry("basic.auth.credentials.source", "USER_INFO"),
        Map.entry("basic.auth.user.info", "svc-fraud:s3cret"),
        Map.entry("schema.registry.ssl.truststore.location", "/etc/flywheel/registry.p12"),
        Map.entry("auto.register.schemas", "false"));
  }

  @Test
  void shouldKeepOnlyTheRegistryUrlWhenNoRegistrySettingIsGiven() {
    // Given only the registry URL, and Kafka properties
    Properties properties = new Properties();
    properties.setProperty("flywheel.kafka.security.protocol", "SSL");
    ServiceEnvironment env = new ServiceEnvironment(ALL_SET, properties);

    // When the registry settings are read
    // Then they are the URL alone
    assertThat(env.schemaRegistry())
        .containsOnly(Map.entry("schema.registry.url", "http://registry:8085"));
  }

  @Test
  void shouldLetAFlywheelSchemaRegistryPropertyOverrideTheSameVariable() {
    // Given registry settings as variables, two of them, the URL included, also as properties
    Properties properties = new Properties();
    properties.setProperty("flywheel.schema.registry.bearer.auth.token", "token-from-property");
    properties.setProperty("flywheel.schema.registry.url", "https://other-registry:8085");
    properties.setProperty("flywheel.schema.registry.ssl.truststore.password", "changeit");
    properties.setProperty("flywheel.kafka.ssl.truststore.password", "kafka-secret");
    ServiceEnvironment env = new ServiceEnvironment(Map.of(
        "FLYWHEEL_SCHEMA_REGISTRY_URL", "https://registry:8085",
        "FLYWHEEL_SCHEMA_REGISTRY_BEARER_AUTH_CREDENTIALS_SOURCE", "STATIC_TOKEN",
        "FLYWHEEL_SCHEMA_REGISTRY_BEARER_AUTH_TOKEN", "token-from-variable"), properties);

    // When the registry settings are read
    // Then the properties win over the variables, which still give what the properties do not
    assertThat(env.schemaRegistry()).containsOnly(
        Map.entry("schema.registry.url", "https://other-registry:8085"),
        Map.entry("bearer.auth.credentials.source", "STATIC_TOKEN"),
        Map.entry("bearer.auth.token", "token-from-property"),
        Map.entry("schema.registry.ssl.truststore.password", "changeit"));
  }

  @Test
  void shouldTakeAFullRegistryKeyAsAPropertyOrVariable() {
    // Given keys spelled in full, schema.registry. included
    Properties properties = new Properties();
    properties.setProperty("flywheel.schema.registry.schema.registry.ssl.keystore.location",
        "/etc/flywheel/client.p12");
    ServiceEnvironment env = new ServiceEnvironment(Map.of(
        "FLYWHEEL_SCHEMA_REGISTRY_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO", "svc:pw"), properties);

    // When the registry settings are read
    // Then they pass under those keys
    assertThat(env.schemaRegistry()).containsOnly(
        Map.entry("schema.registry.url", "http://127.0.0.1:8081"),
        Map.entry("schema.registry.basic.auth.user.info", "svc:pw"),
        Map.entry("schema.registry.ssl.keystore.location", "/etc/flywheel/client.p12"));
  }

  @Test
  void shouldRefuseARegistryVariableThatNamesNoSettingWithoutShowingItsValue() {
    // Given a misspelt credentials variable
    ServiceEnvironment env = new ServiceEnvironment(Map.of(
        "FLYWHEEL_SCHEMA_REGISTRY_BASIC_AUTH_USERINFO", "svc-fraud:s3cret"), new Properties());

    // When the registry settings or the serdes are read
    // Then they are refused, naming the variable and the key, never the value
    assertThatThrownBy(env::schemaRegistry).isInstanceOf(ConfigException.class)
        .hasMessageContaining("FLYWHEEL_SCHEMA_REGISTRY_BASIC_AUTH_USERINFO")
        .hasMessageContaining("basic.auth.userinfo")
        .hasMessageContaining("basic.auth.user.info")
        .hasMessageNotContaining("s3cret");
    assertThatThrownBy(env::serdes).isInstanceOf(ConfigException.class)
        .hasMessageContaining("FLYWHEEL_SCHEMA_REGISTRY_BASIC_AUTH_USERINFO");
  }

  @Test
  void shouldPassOverTheVariablesKubernetesSetsForAServiceNamedLikeTheRegistry() {
    // Given the service links of a Kubernetes Service named flywheel-schema-registry, beside the
    // registry's URL and credentials
    ServiceEnvironment env = new ServiceEnvironment(Map.of(
        "FLYWHEEL_SCHEMA_REGISTRY_URL", "http://flywheel-schema-registry:8081",
        "FLYWHEEL_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO", "svc-fraud:s3cret",
        "FLYWHEEL_SCHEMA_REGISTRY_SERVICE_HOST", "10.0.0.7",
        "FLYWHEEL_SCHEMA_REGISTRY_SERVICE_PORT", "8081",
        "FLYWHEEL_SCHEMA_REGISTRY_SERVICE_PORT_HTTP", "8081",
        "FLYWHEEL_SCHEMA_REGISTRY_PORT", "tcp://10.0.0.7:8081",
        "FLYWHEEL_SCHEMA_REGISTRY_PORT_8081_TCP", "tcp://10.0.0.7:8081",
        "FLYWHEEL_SCHEMA_REGISTRY_PORT_8081_TCP_PROTO", "tcp",
        "FLYWHEEL_SCHEMA_REGISTRY_UI_SERVICE_HOST", "10.0.0.8",
        "FLYWHEEL_SCHEMA_REGISTRY_UI_PORT_8080_TCP", "tcp://10.0.0.8:8080"), new Properties());

    // When the registry settings are read
    // Then the service links are passed over, and the settings kept
    assertThat(env.schemaRegistry()).containsOnlyKeys("schema.registry.url", "basic.auth.user.info");
  }

  @Test
  void shouldRefuseARegistryPropertyThatNamesNoSetting() {
    // Given a system property that is neither a registry client nor a serde setting
    Properties properties = new Properties();
    properties.setProperty("flywheel.schema.registry.security.protocol", "SSL");
    ServiceEnvironment env = new ServiceEnvironment(Map.of(), properties);

    // When the registry settings are read
    // Then they are refused, naming the property
    assertThatThrownBy(env::schemaRegistry).isInstanceOf(ConfigException.class)
        .hasMessageContaining("system property flywheel.schema.registry.security.protocol")
        .hasMessageContaining("schema.registry.security.protocol");
  }

  @Test
  void shouldRefuseTwoRegistryVariablesThatGiveTheSameKey() {
    // Given the same TLS setting as a short and as a full variable name
    ServiceEnvironment env = new ServiceEnvironment(Map.of(
        "FLYWHEEL_SCHEMA_REGISTRY_SSL_PROTOCOL", "TLSv1.3",
        "FLYWHEEL_SCHEMA_REGISTRY_SCHEMA_REGISTRY_SSL_PROTOCOL", "TLSv1.2"), new Properties());

    // When the registry settings are read
    // Then they are refused, naming both
    assertThatThrownBy(env::schemaRegistry).isInstanceOf(ConfigException.class)
        .hasMessageContaining("FLYWHEEL_SCHEMA_REGISTRY_SSL_PROTOCOL")
        .hasMessageContaining("FLYWHEEL_SCHEMA_REGISTRY_SCHEMA_REGISTRY_SSL_PROTOCOL")
        .hasMessageContaining("schema.registry.ssl.protocol");
  }

  @Test
  void shouldBuildSerdesWhoseClientSendsTheBasicCredentialsOfTheVariables() throws Exception {
    // Given a registry and its credentials as variables
    try (ScriptedRegistryPeer registry = ScriptedRegistryPeer.start()
        .otherwise(request -> ScriptedRegistryPeer.json(200, "[]"))) {
      ServiceEnvironment env = new ServiceEnvironment(Map.of(
          "FLYWHEEL_SCHEMA_REGISTRY_URL", registry.url(),
          "FLYWHEEL_SCHEMA_REGISTRY_BASIC_AUTH_CREDENTIALS_SOURCE", "USER_INFO",
          "FLYWHEEL_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO", "svc-fraud:s3cret"), new Properties());

      // When the serdes' client asks the registry
      env.serdes().client().listSubjects();

      // Then it sends them as basic credentials
      assertThat(registry.lastRequest().header("Authorization")).isEqualTo("Basic "
          + Base64.getEncoder().encodeToString("svc-fraud:s3cret".getBytes(UTF_8)));
    }
  }

  @Test
  void shouldBuildSerdesWithTheSerdeSettingsOfTheProperties() {
    // Given a serde setting as a system property
    Properties properties = new Properties();
    properties.setProperty("flywheel.schema.registry.auto.register.schemas", "false");
    ServiceEnvironment env = new ServiceEnvironment(
        Map.of("FLYWHEEL_SCHEMA_REGISTRY_URL", "mock://service-environment-test"), properties);
    GenericRecord record = new GenericRecordBuilder(SchemaBuilder.record("Unregistered")
        .fields().requiredString("id").endRecord()).set("id", "tx-1").build();

    // When a record of a schema nobody registered is serialized
    // Then the serializer looks the schema up instead of registering it, and fails
    assertThatThrownBy(() -> env.serdes().generic(false).serializer()
        .serialize("service-environment-test", record))
        .isInstanceOf(SerializationException.class);
  }

  @Test
  void shouldCloseEveryServiceInOrderOnShutdownAndThenRelease() throws Exception {
    // Given two services registered for shutdown
    List<String> closed = new ArrayList<>();
    List<Thread> hooks = new ArrayList<>();
    ServiceEnvironment.ShutdownLatch stopped = ServiceEnvironment.closeOnShutdown(hooks::add,
        "test-shutdown", () -> closed.add("http"), () -> closed.add("service"));

    // When the JVM runs the hook
    assertThat(hooks).singleElement().extracting(Thread::getName).isEqualTo("test-shutdown");
    assertThat(closed).isEmpty();
    hooks.get(0).start();
    hooks.get(0).join(TimeUnit.SECONDS.toMillis(10));

    // Then both are closed in the order given and the latch is released
    assertThat(closed).containsExactly("http", "service");
    stopped.await();
  }

  @Test
  void shouldCloseTheRestWhenOneServiceFailsToClose() throws Exception {
    // Given a first service whose close fails
    List<String> closed = new ArrayList<>();
    List<Thread> hooks = new ArrayList<>();
    ServiceEnvironment.ShutdownLatch stopped = ServiceEnvironment.closeOnShutdown(hooks::add,
        "test-shutdown", () -> {
          throw new IOException("port already closed");
        }, () -> closed.add("service"));
    List<Throwable> uncaught = new ArrayList<>();
    Thread hook = hooks.get(0);
    hook.setUncaughtExceptionHandler((t, e) -> uncaught.add(e));

    // When the JVM runs the hook
    hook.start();
    hook.join(TimeUnit.SECONDS.toMillis(10));

    // Then the second is still closed, the latch released and the failure reported
    assertThat(closed).containsExactly("service");
    stopped.await();
    assertThat(uncaught).singleElement().satisfies(e -> assertThat(e)
        .isInstanceOf(IllegalStateException.class)
        .hasRootCauseInstanceOf(IOException.class)
        .hasRootCauseMessage("port already closed"));
  }
}
