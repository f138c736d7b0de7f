package dev.flywheel.featurestreams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.flywheel.topics.ServiceEnvironment;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The service the standalone mains ({@link FeatureStreamsMain}, and {@code FeatureLookupMain},
 * which builds the same) start from the environment: the schema registry settings and the topic
 * catalogue's settings of {@link ServiceEnvironment} reach it, as for every other Flywheel
 * service run on its own.
 */
class FeatureStreamsMainTest {

  /** The {@code Authorization} header of each request the registry received ("none" if none). */
  private final List<String> authorizations = new CopyOnWriteArrayList<>();
  private HttpServer registry;

  @BeforeEach
  void startRegistry() throws IOException {
    // a registry that refuses every request as unauthorised, recording what it was sent
    registry = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    registry.createContext("/", exchange -> {
      String authorization = exchange.getRequestHeaders().getFirst("Authorization");
      authorizations.add(authorization == null ? "none" : authorization);
      byte[] body = "{\"error_code\":401,\"message\":\"Unauthorized\"}"
          .getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", "application/vnd.schemaregistry.v1+json");
      exchange.sendResponseHeaders(401, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    registry.start();
  }

  @AfterEach
  void stopRegistry() {
    registry.stop(0);
  }

  @Test
  void shouldAskTheSchemaRegistryWithTheCredentialsOfTheEnvironment() {
    // Given an environment giving the registry's basic-auth credentials as
    // FLYWHEEL_SCHEMA_REGISTRY_<NAME> variables
    ServiceEnvironment env = new ServiceEnvironment(Map.of(
        ServiceEnvironment.SCHEMA_REGISTRY_URL,
        "http://127.0.0.1:" + registry.getAddress().getPort(),
        "FLYWHEEL_SCHEMA_REGISTRY_BASIC_AUTH_CREDENTIALS_SOURCE", "USER_INFO",
        "FLYWHEEL_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO", "flywheel:s3cret",
        ServiceEnvironment.BOOTSTRAP_SERVERS, "127.0.0.1:1"), new Properties());
    FeatureStreamsService service = FeatureStreamsMain.serviceBuilder(
        FeatureStreamsConfig.cardActivity(), env).build();

    // When it starts (it reads its groups' source schemas first), and the registry refuses it
    assertThatThrownBy(service::start).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("credentials");
    service.close();

    // Then every request carried those credentials
    String expected = "Basic " + Base64.getEncoder().encodeToString(
        "flywheel:s3cret".getBytes(StandardCharsets.UTF_8));
    assertThat(authorizations).isNotEmpty().allSatisfy(a -> assertThat(a).isEqualTo(expected));
  }

  @Test
  void shouldReplicateInternalTopicsAsTheEnvironmentSays() {
    // Given an environment asking for topics replicated 3 times
    ServiceEnvironment env = new ServiceEnvironment(Map.of(
        ServiceEnvironment.REPLICATION_FACTOR, "3"), new Properties());

    // When the main builds its service
    FeatureStreamsService service = FeatureStreamsMain.serviceBuilder(
        FeatureStreamsConfig.cardActivity(), env).build();

    // Then the changelog and repartition topics Kafka Streams creates get that factor too
    assertThat(new StreamsConfig(service.streamsProperties())
        .getInt(StreamsConfig.REPLICATION_FACTOR_CONFIG)).isEqualTo(3);
  }
}
