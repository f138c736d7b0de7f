package dev.flywheel.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SchemaRegistryClientConfigTest {

  @Test
  void shouldGiveTheScopesInMemoryRegistryForAMockUrl() {
    // Given a mock:// URL, When a client is made, Then it is that scope's shared registry
    InMemorySchemaRegistryClient.dropScope("config-test");
    assertThat(SchemaRegistryClient.fromConfig(Map.of("schema.registry.url", "mock://config-test")))
        .isSameAs(InMemorySchemaRegistryClient.forScope("config-test"));
    InMemorySchemaRegistryClient.dropScope("config-test");
  }

  @Test
  void shouldReadCommaSeparatedUrlsAndUrlLists() {
    // Given URLs as one comma-separated string and as a list
    RestSchemaRegistryClient fromString = (RestSchemaRegistryClient) SchemaRegistryClient.fromConfig(
        Map.of("schema.registry.url", "http://a:8081, http://b:8081/"));
    RestSchemaRegistryClient fromList = (RestSchemaRegistryClient) SchemaRegistryClient.fromConfig(
        Map.of("schema.registry.url", List.of("https://c:443/registry")));

    // When the clients are made, Then both carry every URL, normalized
    assertThat(fromString.baseUrls()).containsExactly("http://a:8081", "http://b:8081");
    assertThat(fromList.baseUrls()).containsExactly("https://c:443/registry");
  }

  @Test
  void shouldRefuseMissingOrContradictorySettings() {
    // Given configs that cannot make a client, When they are used, Then ConfigException says why
    assertThatThrownBy(() -> SchemaRegistryClient.fromConfig(Map.of()))
        .isInstanceOf(ConfigException.class).hasMessageContaining("schema.registry.url");
    assertThatThrownBy(() -> SchemaRegistryClient.fromConfig(Map.of("schema.registry.url",
        "mock://a,http://b:1")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("mock:// URL must be the only URL");
    assertThatThrownBy(() -> SchemaRegistryClient.fromConfig(Map.of("schema.registry.url", "http://h:1",
        "basic.auth.credentials.source", "USER_INFO")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("basic.auth.user.info");
    assertThatThrownBy(() -> SchemaRegistryClient.fromConfig(Map.of("schema.registry.url", "http://h:1",
        "basic.auth.credentials.source", "SASL_INHERIT")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("URL and USER_INFO");
    assertThatThrownBy(() -> SchemaRegistryClient.fromConfig(Map.of("schema.registry.url", "http://h:1",
        "basic.auth.credentials.source", "USER_INFO", "basic.auth.user.info", "u:p",
        "bearer.auth.token", "t")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("not both");
    assertThatThrownBy(() -> SchemaRegistryClient.fromConfig(Map.of("schema.registry.url", "http://h:1",
        "bearer.auth.credentials.source", "STATIC_TOKEN")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("bearer.auth.token");
    assertThatThrownBy(() -> SchemaRegistryClient.fromConfig(Map.of("schema.registry.url", "http://h:1",
        "max.retries", "many")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("max.retries");
    assertThatThrownBy(() -> SchemaRegistryClient.fromConfig(Map.of("schema.registry.url", "http://h:1",
        "max.retries", -2)))
        .isInstanceOf(ConfigException.class).hasMessageContaining("maxRetries");
  }

  @Test
  void shouldRefuseTurningHostNameChecksOffRatherThanIgnoreIt() {
    // Given a config that turns host-name verification off the Confluent way (an empty algorithm)
    Map<String, String> config = Map.of("schema.registry.url", "https://registry:8081",
        "schema.registry.ssl.endpoint.identification.algorithm", "");

    // When a client is made, Then it is refused, naming the key and what to do
    assertThatThrownBy(() -> SchemaRegistryClient.fromConfig(config))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("schema.registry.ssl.endpoint.identification.algorithm")
        .hasMessageContaining("not supported")
        .hasMessageContaining("always checks");
  }

  @Test
  void shouldAcceptTheDefaultHostNameCheck() {
    // Given the default algorithm spelled out, When a client is made, Then it is made
    assertThat(SchemaRegistryClient.fromConfig(Map.of("schema.registry.url", "https://r:8081",
        "schema.registry.ssl.endpoint.identification.algorithm", "HTTPS")))
        .isInstanceOf(RestSchemaRegistryClient.class);
  }

  @Test
  void shouldRefuseAProxyAndInlinePemCertificatesRatherThanIgnoreThem() {
    // Given configs with a proxy, and with a truststore given as inline PEM
    // When clients are made, Then each is refused, naming its key
    assertThatThrownBy(() -> SchemaRegistryClient.fromConfig(Map.of(
        "schema.registry.url", "http://r:8081", "proxy.host", "proxy", "proxy.port", "3128")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("proxy.host")
        .hasMessageContaining("not supported");
    assertThatThrownBy(() -> SchemaRegistryClient.fromConfig(Map.of(
        "schema.registry.url", "https://r:8081",
        "schema.registry.ssl.truststore.certificates", "-----BEGIN CERTIFICATE-----...")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("schema.registry.ssl.truststore.certificates")
        .hasMessageContaining("truststore.location")
        .hasMessageNotContaining("BEGIN CERTIFICATE");
  }

  @Test
  void shouldTalkTlsWithTheTruststoreOfTheConfig(@TempDir Path dir) throws Exception {
    // Given an HTTPS peer with a self-signed certificate, and a truststore holding that certificate
    Path keystore = dir.resolve("server.p12");
    Path cert = dir.resolve("server.crt");
    Path truststore = dir.resolve("trust.p12");
    keytool("-genkeypair", "-alias", "registry", "-keyalg", "EC", "-groupname", "secp256r1",
        "-dname", "CN=127.0.0.1", "-ext", "SAN=IP:127.0.0.1", "-validity", "2",
        "-keystore", keystore.toString(), "-storetype", "PKCS12", "-storepass", "changeit");
    keytool("-exportcert", "-alias", "registry", "-keystore", keystore.toString(),
        "-storepass", "changeit", "-file", cert.toString());
    keytool("-importcert", "-noprompt", "-alias", "registry", "-file", cert.toString(),
        "-keystore", truststore.toString(), "-storetype", "PKCS12", "-storepass", "trustpw");
    try (ScriptedRegistryPeer peer = ScriptedRegistryPeer.startTls(serverContext(keystore))) {
      peer.otherwise(r -> ScriptedRegistryPeer.json(200, "[\"secure-value\"]"));

      // When a client configured with Confluent's TLS keys lists subjects
      SchemaRegistryClient client = SchemaRegistryClient.fromConfig(Map.of(
          "schema.registry.url", peer.url(),
          "schema.registry.ssl.truststore.location", truststore.toString(),
          "schema.registry.ssl.truststore.password", new Password("trustpw"),
          "schema.registry.ssl.truststore.type", "PKCS12"));
      List<String> subjects = client.listSubjects();

      // Then the TLS handshake succeeds; a client on the JVM default truststore is refused
      assertThat(subjects).containsExactly("secure-value");
      SchemaRegistryClient untrusting = SchemaRegistryClient.builder().url(peer.url())
          .maxRetries(0).connectTimeout(Duration.ofSeconds(5)).build();
      assertThatThrownBy(untrusting::listSubjects)
          .isInstanceOfSatisfying(SchemaRegistryException.class,
              e -> assertThat(e.httpStatus()).isEqualTo(SchemaRegistryException.NO_RESPONSE));
    }
  }

  @Test
  void shouldRefuseAnUnreadableTruststore(@TempDir Path dir) {
    // Given a truststore location that does not exist, When a client is made, Then ConfigException
    assertThatThrownBy(() -> SchemaRegistryClient.fromConfig(Map.of(
        "schema.registry.url", "https://h:1",
        "schema.registry.ssl.truststore.location", dir.resolve("missing.p12").toString())))
        .isInstanceOf(ConfigException.class).hasMessageContaining("cannot build the TLS context");
  }

  private static SSLContext serverContext(Path keystore) throws Exception {
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(keystore)) {
      store.load(in, "changeit".toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(store, "changeit".toCharArray());
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(kmf.getKeyManagers(), null, null);
    return context;
  }

  private static void keytool(String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as("keytool %s: %s", args[0], output).isZero();
  }
}
