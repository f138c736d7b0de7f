package dev.flywheel.servingsink.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.events.ModelFormat;
import dev.flywheel.events.Prediction;
import dev.flywheel.servingsink.ServingMetrics;
import dev.flywheel.servingsink.TestModels;
import dev.flywheel.servingsink.model.ModelSpec;
import dev.flywheel.servingsink.model.ServedModel;
import dev.flywheel.servingsink.model.ServedModels;
import dev.flywheel.servingsink.model.TestServedModels;
import io.javalin.Javalin;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code POST /predict} with a challenger served beside the champion. */
class ShadowScoringTest {

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @TempDir Path artifacts;

  @Test
  void shouldShadowScoreOnlyRowsThatHoldEveryInputOfTheChallenger() throws Exception {
    // Given the champion on the test group's four inputs, and a challenger that also needs
    // 'velocity_1h', which the request does not give
    List<String> challengerInputs = new ArrayList<>(TestModels.FEATURES);
    challengerInputs.add("velocity_1h");
    ServedModels served = new ServedModels();
    served.install(model("champion", TestModels.FEATURES));
    served.install(model("challenger", challengerInputs));
    List<Prediction> written = new CopyOnWriteArrayList<>();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    PredictHttpApi api = new PredictHttpApi(served, Optional.empty(), written::add,
        new ServingMetrics(meters));
    Javalin app = Javalin.create(c -> {
      c.startup.showJavalinBanner = false;
      api.routes(c.routes);
    }).start(0);
    try {
      // When a request gives the champion's inputs only
      HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + app.port() + "/predict/fraud"))
          .POST(HttpRequest.BodyPublishers.ofString("{\"features\": {\"amount\": 1.0,"
              + " \"count_10m\": 2.0, \"mean_7d\": 3.0, \"velocity\": 0.5}}"))
          .header("Content-Type", "application/json").build(),
          HttpResponse.BodyHandlers.ofString());

      // Then the champion answers, and the challenger writes no shadow prediction scored with a
      // missing input; it is counted instead
      assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
          meters.find("flywheel.serving.unscored").tag("reason", "shadow_inputs_missing")
              .counter()).isNotNull().satisfies(c -> assertThat(c.count()).isOne()));
      assertThat(written).extracting(Prediction::getAlias).containsExactly("champion");
    } finally {
      app.stop();
      api.close();
    }
  }

  @Test
  void shouldAnswerWithTheChampionWhileTheChallengerIsStillScoring() throws Exception {
    // Given a champion and a challenger on the same inputs, the challenger stuck in scoring
    CountDownLatch challengerMayFinish = new CountDownLatch(1);
    ServedModels served = new ServedModels();
    served.install(model("champion", TestModels.FEATURES));
    served.install(blocking(challengerMayFinish));
    List<Prediction> written = new CopyOnWriteArrayList<>();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    PredictHttpApi api = new PredictHttpApi(served, Optional.empty(), written::add,
        new ServingMetrics(meters));
    Javalin app = start(api);
    try {
      // When a request is posted
      HttpResponse<String> answer = post(app);

      // Then the champion's answer arrives before the challenger has scored
      assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
      assertThat(answer.body()).contains("\"alias\":\"champion\"");
      assertThat(written).extracting(Prediction::getAlias).containsExactly("champion");

      // and once the challenger finishes, its shadow prediction is written too
      challengerMayFinish.countDown();
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(written)
          .extracting(Prediction::getAlias).containsExactly("champion", "challenger"));
    } finally {
      challengerMayFinish.countDown();
      app.stop();
      api.close();
    }
  }

  @Test
  void shouldCountRequestsNotShadowScoredWhileTheChallengerIsTooFarBehind() throws Exception {
    // Given a challenger stuck in scoring
    CountDownLatch challengerMayFinish = new CountDownLatch(1);
    ServedModels served = new ServedModels();
    served.install(model("champion", TestModels.FEATURES));
    served.install(blocking(challengerMayFinish));
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    PredictHttpApi api = new PredictHttpApi(served, Optional.empty(), p -> { },
        new ServingMetrics(meters));
    Javalin app = start(api);
    try {
      // When one request more than the challenger can hold back is posted (one being scored,
      // the queue full), and one more
      for (int i = 0; i < PredictHttpApi.SHADOW_QUEUE + 2; i++) {
        assertThat(post(app).statusCode()).isEqualTo(200);
      }

      // Then every request is answered, and the shadow scoring of at least the last is skipped
      // and counted
      assertThat(meters.get("flywheel.serving.unscored").tag("reason", "shadow_busy").counter()
          .count()).isGreaterThanOrEqualTo(1);
    } finally {
      challengerMayFinish.countDown();
      app.stop();
      api.close();
    }
  }

  private static Javalin start(PredictHttpApi api) {
    return Javalin.create(c -> {
      c.startup.showJavalinBanner = false;
      api.routes(c.routes);
    }).start(0);
  }

  private static HttpResponse<String> post(Javalin app) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + app.port() + "/predict/fraud"))
        .timeout(Duration.ofSeconds(30))
        .POST(HttpRequest.BodyPublishers.ofString("{\"features\": {\"amount\": 1.0,"
            + " \"count_10m\": 2.0, \"mean_7d\": 3.0, \"velocity\": 0.5}}"))
        .header("Content-Type", "application/json").build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** A challenger on the champion's inputs whose scoring waits for {@code mayFinish}. */
  private ServedModel blocking(CountDownLatch mayFinish) {
    ModelSpec spec = ModelSpec.of(TestModels.promoted("fraud", "challenger", 2,
        TestModels.artifact(TestModels.writeOnnx(artifacts), ModelFormat.ONNX),
        TestModels.signature(TestModels.FEATURES)));
    return TestServedModels.of(spec, (values, rows, columns) -> {
      try {
        mayFinish.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return new double[rows];
    });
  }

  private ServedModel model(String alias, List<String> inputs) {
    ModelSpec spec = ModelSpec.of(TestModels.promoted("fraud", alias, alias.equals("champion")
        ? 1 : 2, TestModels.artifact(TestModels.writeOnnx(artifacts), ModelFormat.ONNX),
        TestModels.signature(inputs)));
    return TestServedModels.of(spec, (values, rows, columns) -> new double[rows]);
  }
}
