package dev.flywheel.platform.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.serde.AvroSerdeConfig;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import io.javalin.config.RoutesConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;

@WithDevstack
class FlywheelRuntimeIT {

  private final HttpClient http = HttpClient.newHttpClient();

  /** A service that counts its requests and is as healthy as the test says. */
  private static final class EchoService implements PlatformService {
    final AtomicReference<String> problem = new AtomicReference<>();
    final Counter echoes;
    boolean started;
    boolean closed;

    EchoService(MeterRegistry meters) {
      echoes = Counter.builder("echo.requests").register(meters);
    }

    @Override
    public String name() {
      return "echo";
    }

    @Override
    public void start() {
      started = true;
    }

    @Override
    public void routes(RoutesConfig routes) {
      routes.get("/echo/{word}", ctx -> {
        echoes.increment();
        ctx.result(ctx.pathParam("word"));
      });
    }

    @Override
    public Optional<String> healthProblem() {
      return Optional.ofNullable(problem.get());
    }

    @Override
    public Map<String, Object> healthDetails() {
      return Map.of("words", Map.of("hello", echoes.count() > 0));
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  @Test
  void shouldServeEveryServiceRoutesHealthAndMetricsOnOnePort(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given a runtime with one service, on a fresh topic prefix
    Topics topics = Topics.builder(AvroSerdes.fromConfig(Map.of(
        AvroSerdeConfig.SCHEMA_REGISTRY_URL, devstack.schemaRegistryUrl())))
        .prefix(names.prefix()).build();
    AtomicReference<EchoService> echo = new AtomicReference<>();
    try (FlywheelRuntime runtime = FlywheelRuntime.builder()
        .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers()))
        .topics(topics).host("127.0.0.1").httpPort(0)
        .service(meters -> {
          echo.set(new EchoService(meters));
          return echo.get();
        })
        .build().start()) {
      String base = "http://127.0.0.1:" + runtime.httpPort();

      // Then the catalogue's topics exist and the service started
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", devstack.bootstrapServers()))) {
        assertThat(admin.listTopics().names().get())
            .contains(topics.predictions().name(), topics.modelPromoted().name());
      }
      assertThat(echo.get().started).isTrue();

      // When its route is called, and health and metrics are asked for
      assertThat(get(base + "/echo/hello").body()).isEqualTo("hello");
      HttpResponse<String> healthy = get(base + "/health");
      HttpResponse<String> metrics = get(base + "/metrics");

      // Then health is UP and the metrics hold the service's counter and the JVM's meters
      assertThat(healthy.statusCode()).isEqualTo(200);
      assertThat(healthy.body()).contains("\"status\":\"UP\"", "\"echo\"");
      // and the service's details are in its entry, without changing its status
      assertThat(healthy.body()).contains(
          "\"echo\":{\"status\":\"UP\",\"words\":{\"hello\":true}}");
      assertThat(metrics.headers().firstValue("Content-Type")).hasValueSatisfying(
          t -> assertThat(t).startsWith("text/plain"));
      assertThat(metrics.body()).contains("echo_requests_total 1.0", "jvm_memory_used_bytes");

      // And when the service becomes unhealthy, health says which one and why, with a 503
      echo.get().problem.set("table public.orders stopped: column amount is NOT NULL");
      HttpResponse<String> unhealthy = get(base + "/health");
      assertThat(unhealthy.statusCode()).isEqualTo(503);
      assertThat(unhealthy.body()).contains("\"status\":\"DOWN\"",
          "table public.orders stopped: column amount is NOT NULL", "\"words\"");
    }
    // And closing the runtime closed the service
    assertThat(echo.get().closed).isTrue();
  }

  private HttpResponse<String> get(String url) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
