package dev.flywheel.registryprojector;

import static dev.flywheel.registryprojector.Fixtures.MODEL;
import static dev.flywheel.registryprojector.Fixtures.T0;
import static dev.flywheel.registryprojector.Fixtures.forModel;
import static dev.flywheel.registryprojector.Fixtures.promote;
import static dev.flywheel.registryprojector.Fixtures.register;
import static dev.flywheel.registryprojector.Fixtures.rollback;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flywheel.events.ModelEvent;
import dev.flywheel.events.RegistryCommand;
import dev.flywheel.registryprojector.http.RegistryHttpApi;
import io.javalin.Javalin;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Time travel through the query API: champion moves 1 → 2 → 3 and is rolled back to 2, an hour
 * apart; {@code asOf} between the moves answers the version of that moment, replayed from the
 * audit log the projection wrote.
 */
class TimeTravelTest {

  private static final Instant V1_AT = T0.plus(Duration.ofHours(1));
  private static final Instant V2_AT = T0.plus(Duration.ofHours(2));
  private static final Instant V3_AT = T0.plus(Duration.ofHours(3));
  private static final Instant BACK_AT = T0.plus(Duration.ofHours(4));

  @TempDir Path stateDir;
  private RegistryDriver driver;
  private ModelHistory history;
  private Javalin http;
  private final HttpClient client = HttpClient.newHttpClient();

  @BeforeEach
  void given() {
    // Given three versions, and champion moved three times then rolled back
    driver = new RegistryDriver(RegistryConfig.defaults(), stateDir);
    driver.send(register("a", 0.80), T0);
    driver.send(register("b", 0.81), T0.plusSeconds(60));
    driver.send(register("c", 0.82), T0.plusSeconds(120));
    driver.send(promote("champion", 1), V1_AT);
    driver.send(promote("champion", 2), V2_AT);
    driver.send(promote("champion", 3), V3_AT);
    driver.send(rollback("champion", null), BACK_AT);
    history = new ModelHistory();
    for (ModelEvent e : driver.allEvents) {
      history.add(e);
    }
    RegistryHttpApi api = new RegistryHttpApi(CurrentStates.of(history), history,
        RegistryConfig.defaults(), () -> true);
    http = Javalin.create(c -> {
      c.startup.showJavalinBanner = false;
      c.jetty.port = 0;
      c.jetty.host = "127.0.0.1";
      api.routes(c.routes);
    }).start();
  }

  @AfterEach
  void close() {
    http.stop();
    driver.close();
  }

  @Test
  void shouldAnswerTheChampionOfEachMomentBetweenTheMoves() throws Exception {
    assertThat(champion(V1_AT.plusSeconds(1800))).isEqualTo(1);
    assertThat(champion(V2_AT.plusSeconds(1800))).isEqualTo(2);
    assertThat(champion(V3_AT.plusSeconds(1800))).isEqualTo(3);
    assertThat(champion(BACK_AT.plusSeconds(1800))).isEqualTo(2);
    // the instant of a move already holds the new version
    assertThat(champion(V3_AT)).isEqualTo(3);
    assertThat(champion(V3_AT.minusMillis(1))).isEqualTo(2);
  }

  @Test
  void shouldSayTheAliasDidNotExistBeforeItsFirstMove() throws Exception {
    HttpResponse<String> r = get("/models/" + MODEL + "/aliases/champion?asOf="
        + V1_AT.minusSeconds(1));

    assertThat(r.statusCode()).isEqualTo(404);
    assertThat(body(r).get("error").asText()).isEqualTo(
        "model fraud-detector has no alias 'champion' (it has none)");
  }

  @Test
  void shouldListOnlyTheHistoryUpToAsOf() throws Exception {
    JsonNode events = body(get("/models/" + MODEL + "/history?asOf=" + V2_AT.toEpochMilli()));

    assertThat(events).hasSize(5);
    assertThat(events.get(4).get("command_type").asText()).isEqualTo("PromoteVersion");
    assertThat(events.get(4).get("version").asInt()).isEqualTo(2);
  }

  @Test
  void shouldShowTheModelAsItWasWhenAsOfIsGiven() throws Exception {
    JsonNode before = body(get("/models/" + MODEL + "?asOf=" + T0.plusSeconds(90)));

    assertThat(before.get("versions")).hasSize(2);
    assertThat(before.get("aliases")).isEmpty();
  }

  @Test
  void shouldRefuseAnAsOfThatIsNotATime() throws Exception {
    HttpResponse<String> r = get("/models/" + MODEL + "?asOf=last-tuesday");

    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(body(r).get("error").asText()).isEqualTo("asOf 'last-tuesday' is not a time;"
        + " give an ISO-8601 instant such as 2026-11-17T14:03:00Z, or epoch milliseconds");
  }

  @Test
  void shouldRenderTheModelCardAsItWasAsOfATime() throws Exception {
    JsonNode card = body(get("/models/" + MODEL + "/versions/3/card?asOf="
        + V3_AT.plusSeconds(60)));
    HttpResponse<String> md = get("/models/" + MODEL + "/versions/3/card?format=markdown");

    assertThat(card.get("aliases")).extracting(JsonNode::asText).containsExactly("champion");
    assertThat(card.get("alias_history")).hasSize(1);
    assertThat(card.get("metrics").get("auc").asDouble()).isEqualTo(0.82);
    assertThat(md.statusCode()).isEqualTo(200);
    assertThat(md.headers().firstValue("Content-Type")).hasValueSatisfying(
        t -> assertThat(t).startsWith("text/markdown"));
    assertThat(md.body()).startsWith("# fraud-detector v3\n")
        .contains("## Purpose\n\nScores card payments for fraud")
        .contains("| auc | 0.82 |")
        .contains("| " + V3_AT + " | champion | 2 | 3 | alice@example.com |")
        .contains("| " + BACK_AT + " | champion | 3 | 2 | alice@example.com |");
  }

  @Test
  void shouldListNoModelForARejectedCommandButAnswerItsHistory() throws Exception {
    // Given a promotion of a model that does not exist, rejected
    RegistryCommand promotion = forModel("nosuch", promote("champion", 1));
    driver.send(promotion, BACK_AT.plusSeconds(60)).forEach(history::add);
    // When the registry is listed, now and as of after the rejection
    JsonNode now = body(get("/models"));
    JsonNode then = body(get("/models?asOf=" + BACK_AT.plusSeconds(120)));
    // Then only the real model is listed, nosuch is unknown, and its history has the rejection
    assertThat(now).extracting(m -> m.get("model").asText()).containsExactly(MODEL);
    assertThat(then).extracting(m -> m.get("model").asText()).containsExactly(MODEL);
    assertThat(get("/models/nosuch").statusCode()).isEqualTo(404);
    assertThat(get("/models/nosuch?asOf=" + BACK_AT.plusSeconds(120)).statusCode())
        .isEqualTo(404);
    JsonNode events = body(get("/models/nosuch/history?commandId=" + promotion.getEventId()));
    assertThat(events).singleElement().satisfies(e -> {
      assertThat(e.get("outcome").asText()).isEqualTo("REJECTED");
      assertThat(e.get("reason").asText()).startsWith("version 1 of nosuch does not exist");
    });
  }

  private int champion(Instant asOf) throws Exception {
    HttpResponse<String> r = get("/models/" + MODEL + "/aliases/champion?asOf=" + asOf);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return body(r).get("version").asInt();
  }

  private HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port()
        + path)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode body(HttpResponse<String> r) throws IOException {
    return RegistryJson.MAPPER.readTree(r.body());
  }
}
