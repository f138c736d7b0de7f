package dev.flywheel.platform.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.serde.AvroSerdeConfig;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import io.javalin.config.RoutesConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

@WithDevstack
class HttpSecurityIT {

  private static final String INGEST_TOKEN = "ingest-token-0123456789abcdef";
  private static final String TRAIN_TOKEN = "train-token-0123456789abcdef";

  private final HttpClient http = HttpClient.newHttpClient();

  /** Records every request that reached a handler. */
  private static final class RecordingService implements PlatformService {
    final List<String> reached = new CopyOnWriteArrayList<>();

    @Override
    public String name() {
      return "recording";
    }

    @Override
    public void start() {}

    @Override
    public void routes(RoutesConfig routes) {
      routes.post("/ingest/{source}", ctx -> {
        reached.add("POST /ingest/" + ctx.pathParam("source"));
        ctx.status(202).result("accepted");
      });
      routes.post("/models/{model}/train", ctx -> {
        reached.add("POST /models/" + ctx.pathParam("model") + "/train");
        ctx.status(202).result("requested");
      });
      routes.get("/models/{model}", ctx -> {
        reached.add("GET /models/" + ctx.pathParam("model"));
        ctx.result("{}");
      });
    }

    @Override
    public void close() {}
  }

  @Test
  void shouldCheckBearerTokensOnTheSharedServer(Devstack devstack, UniqueNames names)
      throws Exception {
    // Given a runtime whose flywheel.yaml gives one token ingest and another train
    HttpSecurity security = HttpSecurity.parse("""
        security:
          tokens:
            - {name: pipeline, env: T_INGEST, roles: [ingest]}
            - {name: scheduler, env: T_TRAIN, roles: [train]}
        """, Map.of("T_INGEST", INGEST_TOKEN, "T_TRAIN", TRAIN_TOKEN), Path.of("."));
    Topics topics = Topics.builder(AvroSerdes.fromConfig(Map.of(
        AvroSerdeConfig.SCHEMA_REGISTRY_URL, devstack.schemaRegistryUrl())))
        .prefix(names.prefix()).build();
    RecordingService service = new RecordingService();
    try (FlywheelRuntime runtime = FlywheelRuntime.builder()
        .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers()))
        .topics(topics).host("127.0.0.1").httpPort(0)
        .security(security)
        .service(meters -> service)
        .build().start()) {
      String base = "http://127.0.0.1:" + runtime.httpPort();

      // When ingest is posted without a token, with an unknown one, and with the train token
      HttpResponse<String> none = post(base + "/ingest/orders", null);
      HttpResponse<String> unknown = post(base + "/ingest/orders", "Bearer nope-nope-nope-nope");
      HttpResponse<String> wrongRole = post(base + "/ingest/orders", "Bearer " + TRAIN_TOKEN);

      // Then 401, 401 and 403, each saying what to send, and no handler ran
      assertThat(none.statusCode()).isEqualTo(401);
      assertThat(none.headers().firstValue("WWW-Authenticate")).hasValue(
          "Bearer realm=\"flywheel\"");
      assertThat(none.body()).contains("Authorization: Bearer <token>", "role 'ingest'");
      assertThat(unknown.statusCode()).isEqualTo(401);
      assertThat(unknown.body()).contains("not one of the configured tokens");
      assertThat(wrongRole.statusCode()).isEqualTo(403);
      assertThat(wrongRole.body()).contains("needs role 'ingest'", "token 'scheduler'");
      assertThat(service.reached).isEmpty();

      // When each token calls the route of its role, and a read comes without a token
      HttpResponse<String> ingested = post(base + "/ingest/orders", "Bearer " + INGEST_TOKEN);
      HttpResponse<String> trained = post(base + "/models/fraud/train", "Bearer " + TRAIN_TOKEN);
      HttpResponse<String> read = http.send(HttpRequest.newBuilder(
          URI.create(base + "/models/fraud")).GET().build(), HttpResponse.BodyHandlers.ofString());
      HttpResponse<String> health = http.send(HttpRequest.newBuilder(
          URI.create(base + "/health")).GET().build(), HttpResponse.BodyHandlers.ofString());

      // Then they reach their handlers
      assertThat(ingested.statusCode()).isEqualTo(202);
      assertThat(trained.statusCode()).isEqualTo(202);
      assertThat(read.statusCode()).isEqualTo(200);
      assertThat(health.statusCode()).isEqualTo(200);
      assertThat(service.reached).containsExactly("POST /ingest/orders",
          "POST /models/fraud/train", "GET /models/fraud");
    }
  }

  private HttpResponse<String> post(String url, String authorization) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url))
        .POST(HttpRequest.BodyPublishers.ofString("{}"));
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }
}
