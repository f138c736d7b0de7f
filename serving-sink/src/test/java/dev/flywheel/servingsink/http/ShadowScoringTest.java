package dev.flywheel.servingsink.http;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code POST /predict} with a challenger served beside the champion. */
class ShadowScoringTest {

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
      assertThat(written).extracting(Prediction::getAlias).containsExactly("champion");
      assertThat(meters.get("flywheel.serving.unscored").tag("reason", "shadow_inputs_missing")
          .counter().count()).isOne();
    } finally {
      app.stop();
    }
  }

  private ServedModel model(String alias, List<String> inputs) {
    ModelSpec spec = ModelSpec.of(TestModels.promoted("fraud", alias, alias.equals("champion")
        ? 1 : 2, TestModels.artifact(TestModels.writeOnnx(artifacts), ModelFormat.ONNX),
        TestModels.signature(inputs)));
    return TestServedModels.of(spec, (values, rows, columns) -> new double[rows]);
  }
}
