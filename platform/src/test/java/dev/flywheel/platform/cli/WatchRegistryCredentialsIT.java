package dev.flywheel.platform.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.events.Label;
import dev.flywheel.platform.FlywheelCli;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.ServiceEnvironment;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code flywheel watch} against a schema registry that requires basic credentials, given as the
 * services take them: {@code -Dflywheel.schema.registry.<property>}. The registry is devstack's,
 * behind a loopback proxy that answers 401 to any request without the credentials.
 */
@WithDevstack
class WatchRegistryCredentialsIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SOURCE =
      ServiceEnvironment.SCHEMA_REGISTRY_PROPERTY_PREFIX + "basic.auth.credentials.source";
  private static final String USER_INFO =
      ServiceEnvironment.SCHEMA_REGISTRY_PROPERTY_PREFIX + "basic.auth.user.info";

  private HttpServer guard;

  @AfterEach
  void tearDown() {
    System.clearProperty(SOURCE);
    System.clearProperty(USER_INFO);
    if (guard != null) {
      guard.stop(0);
    }
  }

  @Test
  void shouldDecodeRecordsWithARegistryThatRequiresTheCredentialsOfTheSystemProperties(
      Devstack devstack, UniqueNames names) throws Exception {
    // Given a label on a fresh labels topic, and the registry behind a proxy requiring credentials
    Topic<String, Label> labels = Topics.builder(AvroSerdes.fromConfig(Map.of(
        "schema.registry.url", devstack.schemaRegistryUrl()))).prefix(names.prefix()).build()
        .labels();
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", devstack.bootstrapServers()))) {
      new TopicBootstrap(admin).ensure(List.of(labels));
    }
    byte[] label = labels.valueSerde().serializer().serialize(labels.name(), Label.newBuilder()
        .setEventId("e-1").setEventTime(Instant.parse("2026-11-23T10:00:00Z")).setValue(1.0)
        .build());
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
        "bootstrap.servers", devstack.bootstrapServers(), "acks", "all"),
        new ByteArraySerializer(), new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(labels.name(), "e-1".getBytes(UTF_8), label)).get();
    }
    List<String> authorizations = new CopyOnWriteArrayList<>();
    String guarded = startGuard(devstack.schemaRegistryUrl(), "svc-cli:s3cret", authorizations);
    System.setProperty(SOURCE, "USER_INFO");
    System.setProperty(USER_INFO, "svc-cli:s3cret");

    // When the topic is watched through the proxy
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = new CommandLine(new FlywheelCli()).setOut(new PrintWriter(out, true))
        .setErr(new PrintWriter(err, true)).execute("watch", "labels", "--from-beginning",
            "--no-follow", "--prefix", names.prefix(), "--bootstrap-servers",
            devstack.bootstrapServers(), "--schema-registry-url", guarded);

    // Then the label is decoded with the schema fetched with the credentials
    assertThat(exit).as(err.toString()).isZero();
    List<String> lines = out.toString().lines().toList();
    assertThat(lines).hasSize(1);
    JsonNode line = JSON.readTree(lines.get(0));
    assertThat(line.has("value_note")).as(lines.get(0)).isFalse();
    assertThat(line.get("value").get("event_id").asText()).isEqualTo("e-1");
    assertThat(authorizations).isNotEmpty().allMatch(("Basic " + Base64.getEncoder()
        .encodeToString("svc-cli:s3cret".getBytes(UTF_8)))::equals);
  }

  /**
   * Starts a loopback proxy to {@code registryUrl} that forwards only requests carrying {@code
   * userInfo} as basic credentials, answering 401 to the others; returns its URL.
   */
  private String startGuard(String registryUrl, String userInfo, List<String> authorizations)
      throws IOException {
    String expected = "Basic " + Base64.getEncoder().encodeToString(userInfo.getBytes(UTF_8));
    HttpClient http = HttpClient.newHttpClient();
    guard = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    guard.createContext("/", exchange -> {
      String authorization = exchange.getRequestHeaders().getFirst("Authorization");
      authorizations.add(String.valueOf(authorization));
      if (!expected.equals(authorization)) {
        reply(exchange, 401, "application/json",
            "{\"error_code\":401,\"message\":\"Unauthorized\"}".getBytes(UTF_8));
        return;
      }
      try {
        HttpResponse<byte[]> answer = http.send(HttpRequest.newBuilder(
            URI.create(registryUrl + exchange.getRequestURI())).GET().build(),
            HttpResponse.BodyHandlers.ofByteArray());
        reply(exchange, answer.statusCode(), answer.headers().firstValue("Content-Type")
            .orElse("application/json"), answer.body());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        reply(exchange, 503, "text/plain", "interrupted".getBytes(UTF_8));
      }
    });
    guard.start();
    return "http://127.0.0.1:" + guard.getAddress().getPort();
  }

  private static void reply(HttpExchange exchange, int status, String contentType, byte[] body)
      throws IOException {
    exchange.getResponseHeaders().set("Content-Type", contentType);
    exchange.sendResponseHeaders(status, body.length);
    try (OutputStream stream = exchange.getResponseBody()) {
      stream.write(body);
    }
  }
}
