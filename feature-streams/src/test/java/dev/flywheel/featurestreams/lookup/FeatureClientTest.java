package dev.flywheel.featurestreams.lookup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.javalin.Javalin;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The client against an HTTP server that answers as the lookup routes do. */
class FeatureClientTest {

  private Javalin server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop();
    }
  }

  private String serve(java.util.function.Consumer<io.javalin.config.RoutesConfig> routes) {
    server = Javalin.create(c -> {
      c.startup.showJavalinBanner = false;
      c.startup.showOldJavalinVersionWarning = false;
      c.jetty.host = "127.0.0.1";
      c.jetty.port = 0;
      routes.accept(c.routes);
    }).start();
    return "http://127.0.0.1:" + server.port();
  }

  private static String answer(String entity) {
    return FeatureValuesJson.write(new FeatureValues("g", entity, true,
        Instant.ofEpochMilli(1_000), "e-" + entity, Map.of("count", 1.0), Map.of(), "x:1"))
        .toString();
  }

  @Test
  void shouldEncodeTheEntityAsOnePathSegment() {
    // Given a server echoing the entity it received
    AtomicReference<String> received = new AtomicReference<>();
    String url = serve(r -> r.get(FeatureLookupHttpApi.GET_PATH, ctx -> {
      received.set(ctx.pathParam("entity"));
      ctx.contentType("application/json").result(answer(ctx.pathParam("entity")));
    }));

    // When an entity with a space, a slash and a plus is asked for
    FeatureValues values = FeatureClient.builder().url(url).build().get("g", "a b/c+d");

    // Then the server saw it whole and the answer is parsed
    assertThat(received.get()).isEqualTo("a b/c+d");
    assertThat(values.entity()).isEqualTo("a b/c+d");
    assertThat(values.asOf()).isEqualTo(Instant.ofEpochMilli(1_000));
  }

  @Test
  void shouldRetryA503WithinItsBudgetThenAnswer() {
    // Given a server that answers 503 twice, then 200
    AtomicInteger calls = new AtomicInteger();
    String url = serve(r -> r.get(FeatureLookupHttpApi.GET_PATH, ctx -> {
      if (calls.incrementAndGet() <= 2) {
        ctx.status(503).header("Retry-After", "0").result("{\"error\": \"REBALANCING\"}");
      } else {
        ctx.result(answer("e"));
      }
    }));

    // When a client with a retry budget asks
    FeatureValues values = FeatureClient.builder().url(url)
        .retryUnavailableFor(Duration.ofSeconds(5)).build().get("g", "e");

    // Then it answers after the third call
    assertThat(values.found()).isTrue();
    assertThat(calls.get()).isEqualTo(3);
  }

  @Test
  void shouldThrowUnavailableWithRetryAfterWithoutABudget() {
    // Given a server that answers 503 with Retry-After: 3
    String url = serve(r -> r.get(FeatureLookupHttpApi.GET_PATH, ctx -> ctx.status(503)
        .header("Retry-After", "3").result("{\"error\": \"feature-streams is REBALANCING\"}")));

    // When the default client asks / Then it throws at once, with the server's reason and delay
    assertThatThrownBy(() -> FeatureClient.builder().url(url).build().get("g", "e"))
        .isInstanceOfSatisfying(LookupUnavailableException.class, e -> {
          assertThat(e.getMessage()).contains("REBALANCING");
          assertThat(e.retryAfter()).isEqualTo(Duration.ofSeconds(3));
        });
  }

  @Test
  void shouldThrowUnknownGroupNamingKnownGroupsOn404() {
    // Given a server that knows only card_activity
    String url = serve(r -> r.get(FeatureLookupHttpApi.GET_PATH, ctx -> ctx.status(404)
        .result("{\"error\": \"unknown feature group 'x'\", \"knownGroups\": [\"card_activity\"]}")));

    // When another group is asked for / Then the exception names the known ones
    assertThatThrownBy(() -> FeatureClient.builder().url(url).build().get("x", "e"))
        .isInstanceOfSatisfying(UnknownGroupException.class,
            e -> assertThat(e.knownGroups()).containsExactly("card_activity"));
  }

  @Test
  void shouldSendBatchIdsAndReturnResultsInOrder() {
    // Given a server answering each id of the batch body
    String url = serve(r -> r.post(FeatureLookupHttpApi.BATCH_PATH, ctx -> {
      List<String> ids = FeatureLookupHttpApi.parseBatch(ctx.bodyAsBytes());
      StringBuilder results = new StringBuilder("{\"group\": \"g\", \"results\": [");
      for (int i = 0; i < ids.size(); i++) {
        results.append(i == 0 ? "" : ",").append(answer(ids.get(i)));
      }
      ctx.result(results.append("]}").toString());
    }));

    // When a batch is asked for / Then the results follow the request order
    assertThat(FeatureClient.builder().url(url).build().batch("g", List.of("b", "a", "b")))
        .extracting(FeatureValues::entity).containsExactly("b", "a", "b");
  }

  @Test
  void shouldRefuseAUrlThatIsNotHttp() {
    assertThatThrownBy(() -> FeatureClient.builder().url("127.0.0.1:8080").build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("http://host:port");
  }
}
