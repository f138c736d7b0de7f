package dev.flywheel.servingsink.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.Javalin;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link HttpOnlineFeatures} against a real HTTP server answering as feature-streams' lookup. */
class HttpOnlineFeaturesTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private Javalin lookup;
  private HttpOnlineFeatures features;

  @BeforeEach
  void startLookup() {
    lookup = Javalin.create(c -> {
      c.startup.showJavalinBanner = false;
      c.routes.get("/features/{group}/{entity}", ctx -> {
        switch (ctx.pathParam("group")) {
          case "card_activity" -> ctx.contentType("application/json")
              .result(answer(ctx.pathParam("entity")));
          case "restoring" -> ctx.status(503).contentType("application/json")
              .result("{\"error\":\"partition 2 of store 'feature-online-restoring' is restoring\"}");
          case "throttled" -> ctx.status(429).contentType("application/json")
              .result("{\"error\":\"too many requests\"}");
          case "unprocessable" -> ctx.status(422).contentType("application/json")
              .result("{\"error\":\"entity ids must be card numbers\"}");
          case "malformed" -> ctx.status(400).result("Bad Request");
          default -> ctx.status(404).contentType("application/json")
              .result("{\"error\":\"no feature group '" + ctx.pathParam("group") + "'\"}");
        }
      });
      c.routes.post("/features/{group}/batch", ctx -> {
        StringBuilder results = new StringBuilder("{\"results\":[");
        JsonNode entities = JSON.readTree(ctx.body()).get("entities");
        for (int i = 0; i < entities.size(); i++) {
          results.append(i == 0 ? "" : ",").append(answer(entities.get(i).asText()));
        }
        ctx.contentType("application/json").result(results.append("]}").toString());
      });
    }).start("127.0.0.1", 0);
    features = new HttpOnlineFeatures("http://127.0.0.1:" + lookup.port() + "/",
        Duration.ofSeconds(2));
  }

  @AfterEach
  void stopLookup() {
    features.close();
    lookup.stop();
  }

  /** card-N is known with amount_max = N; anything else answers the defaults. */
  private static String answer(String entity) {
    if (!entity.startsWith("card-")) {
      return "{\"found\":false,\"features\":{\"amount_max\":null,\"tx_count\":0.0},"
          + "\"categoricalFeatures\":{\"last_country\":null}}";
    }
    return "{\"found\":true,\"eventId\":\"tx-" + entity + "\",\"asOfMillis\":1795428930123,"
        + "\"features\":{\"amount_max\":" + entity.substring(5) + ".0,\"tx_count\":3.0},"
        + "\"categoricalFeatures\":{\"last_country\":\"FR\"}}";
  }

  @Test
  void shouldFetchOneEntityWithItsValuesAndAsOf() {
    // When one known entity is fetched
    OnlineFeatures.Row row = features.fetch("card_activity", List.of("card-7")).get(0);

    // Then its values, event and as-of time come back
    assertThat(row.found()).isTrue();
    assertThat(row.eventId()).isEqualTo("tx-card-7");
    assertThat(row.asOfMillis()).isEqualTo(1795428930123L);
    assertThat(row.features()).containsEntry("amount_max", 7.0).containsEntry("tx_count", 3.0);
    assertThat(row.categorical()).containsEntry("last_country", "FR");
  }

  @Test
  void shouldFetchABatchInTheOrderAsked() {
    // When a batch mixes known and unknown entities
    List<OnlineFeatures.Row> rows = features.fetch("card_activity",
        List.of("card-3", "nobody", "card-12"));

    // Then each row answers its entity, unknown ones with the defaults
    assertThat(rows).extracting(OnlineFeatures.Row::entity)
        .containsExactly("card-3", "nobody", "card-12");
    assertThat(rows).extracting(OnlineFeatures.Row::found).containsExactly(true, false, true);
    assertThat(rows.get(2).features()).containsEntry("amount_max", 12.0);
    assertThat(rows.get(1).features()).containsEntry("amount_max", null);
  }

  @Test
  void shouldReadTheGroupsFeatureNamesFromTheDefaults() {
    assertThat(features.featureNames("card_activity")).hasValueSatisfying(names ->
        assertThat(names).containsExactly("amount_max", "tx_count", "last_country"));
    assertThat(features.featureNames("churn")).isEmpty();
  }

  @Test
  void shouldTellAnUnknownGroupFromAStoreThatCannotAnswer() {
    assertThatThrownBy(() -> features.fetch("churn", List.of("card-1")))
        .isInstanceOf(OnlineFeatures.UnknownGroupException.class)
        .hasMessageContaining("no feature group 'churn'");
    assertThatThrownBy(() -> features.fetch("restoring", List.of("card-1")))
        .isInstanceOf(OnlineFeatures.FeaturesUnavailableException.class)
        .hasMessageContaining("503").hasMessageContaining("restoring");
  }

  @Test
  void shouldTellALookupThatRejectsTheRequestFromOneThatCannotAnswerNow() {
    // When the lookup answers 400 or 422: asking again will not change it
    assertThatThrownBy(() -> features.featureNames("unprocessable"))
        .isInstanceOf(OnlineFeatures.LookupRejectedException.class)
        .hasMessageContaining("422").hasMessageContaining("entity ids must be card numbers")
        .hasMessageContaining("servingSink.featureLookupUrl");
    assertThatThrownBy(() -> features.fetch("malformed", List.of("card-1")))
        .isInstanceOf(OnlineFeatures.LookupRejectedException.class)
        .hasMessageContaining("400");
    // When it answers 429 or 503: it may answer if asked again
    assertThatThrownBy(() -> features.featureNames("throttled"))
        .isInstanceOf(OnlineFeatures.FeaturesUnavailableException.class)
        .hasMessageContaining("429");
    assertThatThrownBy(() -> features.featureNames("restoring"))
        .isInstanceOf(OnlineFeatures.FeaturesUnavailableException.class)
        .hasMessageContaining("503");
  }

  @Test
  void shouldReportALookupThatCannotBeReached() throws Exception {
    // Given a port nothing listens on
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    try (HttpOnlineFeatures nowhere = new HttpOnlineFeatures("http://127.0.0.1:" + port,
        Duration.ofSeconds(1))) {
      // Then a fetch says which lookup it could not reach
      assertThatThrownBy(() -> nowhere.fetch("card_activity", List.of("card-1")))
          .isInstanceOf(OnlineFeatures.FeaturesUnavailableException.class)
          .hasMessageContaining("127.0.0.1:" + port).hasMessageContaining("cannot be reached");
    }
  }

  @Test
  void shouldServeManyCallersAtOnceOverThePool() throws Exception {
    // When 32 threads fetch 50 entities each, concurrently
    ExecutorService callers = Executors.newFixedThreadPool(32);
    try {
      List<Future<Boolean>> done = IntStream.range(0, 32).mapToObj(t -> callers.submit(() ->
          IntStream.range(0, 50).allMatch(i -> features.fetch("card_activity",
              List.of("card-" + (t * 50 + i))).get(0).features().get("amount_max")
              == t * 50 + i))).toList();
      // Then every caller got its own entity's answer
      for (Future<Boolean> f : done) {
        assertThat(f.get()).isTrue();
      }
    } finally {
      callers.shutdownNow();
    }
  }
}
