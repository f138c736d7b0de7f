package dev.flywheel.client;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The builder's schema registry settings: the client reaches a registry that requires
 * credentials, and refuses settings it does not read. Without a broker: fetching a source's schema
 * is the client's first registry call, and needs no Kafka.
 */
class FlywheelClientRegistrySettingsTest {

  private static final String SUBJECT = "flywheel.data.transactions-value";
  private static final Schema TRANSACTION = SchemaBuilder.record("Transaction")
      .namespace("com.acme").prop(SourceSender.KEY_PROPERTY, "card_id").fields()
      .requiredString("card_id").requiredDouble("amount").endRecord();

  private GuardedRegistry registry;

  @AfterEach
  void stopRegistry() {
    if (registry != null) {
      registry.close();
    }
  }

  @Test
  void shouldFetchASourceSchemaFromARegistryThatRequiresBasicCredentials() throws IOException {
    // Given a registry that answers only to basic credentials, and a client given them
    registry = GuardedRegistry.start(basic("svc-fraud", "s3cret:with:colons"));
    try (FlywheelClient client = builder(registry).schemaRegistry(Map.of(
        "basic.auth.credentials.source", "USER_INFO",
        "basic.auth.user.info", "svc-fraud:s3cret:with:colons")).build()) {

      // When the client takes a source's sender
      SourceSender transactions = client.source("transactions");

      // Then it fetched the source's schema with the credentials
      assertThat(transactions.schema()).isEqualTo(TRANSACTION);
      assertThat(registry.authorizations()).isNotEmpty()
          .allMatch(basic("svc-fraud", "s3cret:with:colons")::equals);
    }
  }

  @Test
  void shouldFetchASourceSchemaFromARegistryThatRequiresABearerToken() throws IOException {
    // Given a registry that answers only to a bearer token, and a client given it
    registry = GuardedRegistry.start("Bearer token-42");
    try (FlywheelClient client = builder(registry).schemaRegistry(Map.of(
        "bearer.auth.credentials.source", "STATIC_TOKEN",
        "bearer.auth.token", "token-42")).build()) {

      // When the client takes a source's sender
      SourceSender transactions = client.source("transactions");

      // Then it fetched the source's schema with the token
      assertThat(transactions.schema()).isEqualTo(TRANSACTION);
    }
  }

  @Test
  void shouldBeRefusedByARegistryThatRequiresCredentialsWhenGivenNone() throws IOException {
    // Given a registry that answers only to basic credentials, and a client without them
    registry = GuardedRegistry.start(basic("svc-fraud", "s3cret"));
    try (FlywheelClient client = builder(registry).build()) {

      // When the client takes a source's sender
      // Then it fails, with the registry's refusal
      assertThatThrownBy(() -> client.source("transactions"))
          .isInstanceOf(FlywheelClientException.class)
          .hasMessageContaining("401");
      assertThat(registry.authorizations()).containsOnlyNulls();
    }
  }

  @Test
  void shouldRefuseASchemaRegistrySettingTheRegistryClientDoesNotReadNamingIt() {
    // Given a misspelt credentials key
    FlywheelClient.Builder builder = FlywheelClient.builder().bootstrapServers("127.0.0.1:1")
        .schemaRegistryUrl("http://127.0.0.1:1")
        .schemaRegistry(Map.of("basic.auth.userinfo", "svc-fraud:s3cret"));

    // When it builds, then it refuses, naming the key and the right spelling, not the value
    assertThatThrownBy(builder::build).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("basic.auth.userinfo")
        .hasMessageContaining("basic.auth.user.info")
        .hasMessageNotContaining("s3cret");
  }

  @Test
  void shouldRefuseASerdeSettingAmongTheSchemaRegistrySettings() {
    // Given a serde setting among the registry settings
    FlywheelClient.Builder builder = FlywheelClient.builder().bootstrapServers("127.0.0.1:1")
        .schemaRegistryUrl("http://127.0.0.1:1")
        .schemaRegistry(Map.of("auto.register.schemas", "false"));

    // When it builds, then it refuses, saying the serde settings are the client's own
    assertThatThrownBy(builder::build).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("auto.register.schemas")
        .hasMessageContaining("serde settings are its own");
  }

  @Test
  void shouldRefuseBasicCredentialsWithoutAPasswordWithoutShowingThem() {
    // Given USER_INFO credentials that are not user:password
    FlywheelClient.Builder builder = FlywheelClient.builder().bootstrapServers("127.0.0.1:1")
        .schemaRegistryUrl("http://127.0.0.1:1").schemaRegistry(Map.of(
            "basic.auth.credentials.source", "USER_INFO",
            "basic.auth.user.info", "only-a-secret-token"));

    // When it builds, then it refuses, naming the key, not the value
    assertThatThrownBy(builder::build).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("basic.auth.user.info")
        .hasMessageNotContaining("only-a-secret-token");
  }

  @Test
  void shouldTakeTheRegistryUrlAmongTheSchemaRegistrySettings() throws IOException {
    // Given the URL only as schema.registry.url among the settings
    registry = GuardedRegistry.start(basic("svc", "pw"));
    try (FlywheelClient client = FlywheelClient.builder().bootstrapServers("127.0.0.1:1")
        .schemaRegistry(Map.of("schema.registry.url", registry.url(),
            "basic.auth.credentials.source", "USER_INFO", "basic.auth.user.info", "svc:pw"))
        .build()) {

      // When the client takes a source's sender
      // Then it fetched the schema from that registry
      assertThat(client.source("transactions").schema()).isEqualTo(TRANSACTION);
    }
  }

  @Test
  void shouldRefuseANullSchemaRegistryValueNamingItsKey() {
    // Given a settings map with a null value
    Map<String, Object> settings = new HashMap<>();
    settings.put("bearer.auth.token", null);

    // When it is given, then it is refused, naming the key
    assertThatThrownBy(() -> FlywheelClient.builder().schemaRegistry(settings))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("bearer.auth.token");
  }

  private static FlywheelClient.Builder builder(GuardedRegistry registry) {
    return FlywheelClient.builder().bootstrapServers("127.0.0.1:1")
        .schemaRegistryUrl(registry.url());
  }

  private static String basic(String user, String password) {
    return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(UTF_8));
  }

  /**
   * A schema registry on a loopback port that answers {@code GET
   * /subjects/flywheel.data.transactions-value/versions/latest} only to requests carrying one
   * {@code Authorization} header, and 401 to any other; records every request's header.
   */
  private static final class GuardedRegistry implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    private final String expectedAuthorization;
    private final List<String> authorizations = new CopyOnWriteArrayList<>();

    private GuardedRegistry(HttpServer server, String expectedAuthorization) {
      this.server = server;
      this.expectedAuthorization = expectedAuthorization;
    }

    static GuardedRegistry start(String expectedAuthorization) throws IOException {
      HttpServer server = HttpServer.create(
          new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
      GuardedRegistry registry = new GuardedRegistry(server, expectedAuthorization);
      server.createContext("/", registry::answer);
      server.start();
      return registry;
    }

    String url() {
      return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** The Authorization header of each request so far, null where there was none. */
    List<String> authorizations() {
      return authorizations;
    }

    private void answer(HttpExchange exchange) throws IOException {
      String authorization = exchange.getRequestHeaders().getFirst("Authorization");
      authorizations.add(authorization);
      String path = exchange.getRequestURI().getPath();
      if (!expectedAuthorization.equals(authorization)) {
        reply(exchange, 401, Map.of("error_code", 401, "message", "Unauthorized"));
      } else if (path.equals("/subjects/" + SUBJECT + "/versions/latest")) {
        reply(exchange, 200, Map.of("subject", SUBJECT, "version", 1, "id", 7,
            "schema", TRANSACTION.toString()));
      } else {
        reply(exchange, 404, Map.of("error_code", 40401, "message", "Subject not found"));
      }
    }

    private static void reply(HttpExchange exchange, int status, Map<String, Object> body)
        throws IOException {
      byte[] bytes = JSON.writeValueAsBytes(body);
      exchange.getResponseHeaders().set("Content-Type", "application/vnd.schemaregistry.v1+json");
      exchange.sendResponseHeaders(status, bytes.length);
      try (var out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }
}
