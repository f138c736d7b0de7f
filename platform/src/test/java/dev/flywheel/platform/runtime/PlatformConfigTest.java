package dev.flywheel.platform.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PlatformConfigTest {

  @Test
  void shouldRunEverythingEmbeddedWhenTheFileSaysNothing() {
    // When a flywheel.yaml has only other services' sections
    PlatformConfig config = PlatformConfig.parse("sources: []\nfeatureGroups: []\n", Map.of());

    // Then Kafka and the registry are embedded, HTTP is on 8080, state under .flywheel
    assertThat(config.kafka().isEmbedded()).isTrue();
    assertThat(config.kafka().partitions()).isEqualTo(3);
    assertThat(config.http().port()).isEqualTo(8080);
    assertThat(config.stateDir()).isEqualTo(Path.of(".flywheel", "state"));
  }

  @Test
  void shouldReadAnExternalClusterAndLetTheEnvironmentOverrideIt() {
    // Given a file naming a cluster with SASL, and an environment naming another broker
    String yaml = """
        kafka:
          bootstrapServers: broker-1:9092
          schemaRegistryUrl: http://registry:8081
          topicPrefix: acme
          partitions: 6
          replicationFactor: 3
          properties:
            security.protocol: SASL_SSL
        http:
          port: 9000
        """;

    // When it is read with FLYWHEEL_BOOTSTRAP_SERVERS and FLYWHEEL_HTTP_PORT set
    PlatformConfig config = PlatformConfig.parse(yaml,
        Map.of("FLYWHEEL_BOOTSTRAP_SERVERS", "broker-2:9093", "FLYWHEEL_HTTP_PORT", "9100"));

    // Then the environment wins, and the rest comes from the file
    assertThat(config.kafka().bootstrapServers()).isEqualTo("broker-2:9093");
    assertThat(config.kafka().schemaRegistryUrl()).isEqualTo("http://registry:8081");
    assertThat(config.kafka().topicPrefix()).isEqualTo("acme");
    assertThat(config.kafka().replicationFactor()).isEqualTo((short) 3);
    assertThat(config.kafka().properties()).containsEntry("security.protocol", "SASL_SSL");
    assertThat(config.http().port()).isEqualTo(9100);
    assertThat(config.kafka().toString()).doesNotContain("SASL_SSL");
  }

  @Test
  void shouldTakeKafkaClientPropertiesFromTheEnvironmentOverTheFile() {
    // Given a file with SASL settings and a placeholder secret
    String yaml = """
        kafka:
          bootstrapServers: broker-1:9092
          schemaRegistryUrl: http://registry:8081
          properties:
            security.protocol: SASL_SSL
            sasl.jaas.config: placeholder
        """;

    // When it is read with the secret and one more property in FLYWHEEL_KAFKA_* variables
    PlatformConfig config = PlatformConfig.parse(yaml, Map.of(
        "FLYWHEEL_KAFKA_SASL_JAAS_CONFIG", "ScramLoginModule required password=\"s3cret\";",
        "FLYWHEEL_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512",
        "FLYWHEEL_KAFKA_CLIENT_RACK", " "));

    // Then the variables win over the file, blank ones are ignored, and no value is printed
    assertThat(config.kafka().properties())
        .containsEntry("sasl.jaas.config", "ScramLoginModule required password=\"s3cret\";")
        .containsEntry("sasl.mechanism", "SCRAM-SHA-512")
        .containsEntry("security.protocol", "SASL_SSL")
        .doesNotContainKey("client.rack");
    assertThat(config.kafka().bootstrapServers()).isEqualTo("broker-1:9092");
    assertThat(config.toString()).doesNotContain("s3cret");
  }

  @Test
  void shouldTakeSchemaRegistrySettingsFromTheEnvironment() {
    // Given an external cluster whose registry needs basic auth
    String yaml = """
        kafka:
          bootstrapServers: broker-1:9092
          schemaRegistryUrl: http://registry:8081
        """;

    // When it is read with the credentials in FLYWHEEL_SCHEMA_REGISTRY_* variables, as the
    // services take them
    PlatformConfig config = PlatformConfig.parse(yaml, Map.of(
        "FLYWHEEL_SCHEMA_REGISTRY_URL", "http://registry-2:8081",
        "FLYWHEEL_SCHEMA_REGISTRY_BASIC_AUTH_CREDENTIALS_SOURCE", "USER_INFO",
        "FLYWHEEL_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO", "key:s3cret"));

    // Then the settings reach the properties the serdes are built from, the address stays the
    // registry's URL, and no value is printed
    assertThat(config.kafka().properties())
        .containsEntry("basic.auth.credentials.source", "USER_INFO")
        .containsEntry("basic.auth.user.info", "key:s3cret")
        .doesNotContainKey("schema.registry.url");
    assertThat(config.kafka().schemaRegistryUrl()).isEqualTo("http://registry-2:8081");
    assertThat(config.toString()).doesNotContain("s3cret");
  }

  @Test
  void shouldRefuseAnExternalBrokerWithoutARegistry() {
    assertThatThrownBy(() -> PlatformConfig.parse("kafka:\n  bootstrapServers: b:9092\n",
        Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("kafka.schemaRegistryUrl is not");
  }

  @Test
  void shouldNameAMisspeltSetting() {
    assertThatThrownBy(() -> PlatformConfig.parse("kafka:\n  bootstrapServer: b:9092\n",
        Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bootstrapServer");
  }

  @Test
  void shouldTakeTheReplicationFactorFromTheEnvironmentOverTheFile() {
    // Given a file that replicates by 1, as a single-broker cluster needs
    String yaml = """
        kafka:
          bootstrapServers: broker-1:9092
          schemaRegistryUrl: http://registry:8081
          replicationFactor: 1
        """;

    // When it is read with FLYWHEEL_REPLICATION_FACTOR set, as on a production cluster
    PlatformConfig config = PlatformConfig.parse(yaml,
        Map.of("FLYWHEEL_REPLICATION_FACTOR", " 3 "));

    // Then the environment's factor wins, and the rest comes from the file
    assertThat(config.kafka().replicationFactor()).isEqualTo((short) 3);
    assertThat(config.kafka().bootstrapServers()).isEqualTo("broker-1:9092");
    assertThat(PlatformConfig.parse(yaml, Map.of()).kafka().replicationFactor())
        .isEqualTo((short) 1);
  }

  @Test
  void shouldSayWhatIsWrongWithABadReplicationFactor() {
    for (String bad : new String[] {"0", "-1", "three", "1.5", "40000"}) {
      assertThatThrownBy(() -> PlatformConfig.parse("",
          Map.of("FLYWHEEL_REPLICATION_FACTOR", bad)))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("FLYWHEEL_REPLICATION_FACTOR must be a whole number >= 1")
          .hasMessageContaining("got '" + bad + "'");
    }
  }

  @Test
  void shouldSayWhatIsWrongWithABadPort() {
    assertThatThrownBy(() -> PlatformConfig.parse("", Map.of("FLYWHEEL_HTTP_PORT", "http")))
        .hasMessageContaining("FLYWHEEL_HTTP_PORT must be a port number, got 'http'");
    assertThatThrownBy(() -> PlatformConfig.parse("http:\n  port: 70000\n", Map.of()))
        .hasMessageContaining("http.port must be 0..65535, got 70000");
  }
}
