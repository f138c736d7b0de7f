package dev.flywheel.servingsink.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.events.ModelFormat;
import dev.flywheel.servingsink.ServingMetrics;
import dev.flywheel.servingsink.TestModels;
import dev.flywheel.servingsink.model.ModelSpec;
import dev.flywheel.servingsink.model.ServedModels;
import dev.flywheel.servingsink.model.TestServedModels;
import io.javalin.Javalin;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code POST /predict} with a body over the HTTP server's limit. */
class PredictBodyLimitTest {

  @TempDir Path artifacts;

  @Test
  void shouldRefuseABodyOverTheServersLimitWith413SayingWhatToChange() throws Exception {
    // Given a champion served by a server that accepts bodies of up to 1,000 bytes
    ServedModels served = new ServedModels();
    served.install(TestServedModels.of(ModelSpec.of(TestModels.promoted("fraud", "champion", 1,
        TestModels.artifact(TestModels.writeOnnx(artifacts), ModelFormat.ONNX),
        TestModels.signature(TestModels.FEATURES))), (values, rows, columns) -> new double[rows]));
    PredictHttpApi api = new PredictHttpApi(served, Optional.empty(), prediction -> { },
        new ServingMetrics(new SimpleMeterRegistry()));
    Javalin app = Javalin.create(c -> {
      c.startup.showJavalinBanner = false;
      c.http.maxRequestSize = 1_000;
      api.routes(c.routes);
    }).start(0);
    try {
      // When a batch of 100 instances, about 9,000 bytes, is posted
      String instance = "{\"features\": {\"amount\": 1.0, \"count_10m\": 2.0, \"mean_7d\": 3.0,"
          + " \"velocity\": 0.5}}";
      String body = "{\"instances\": [" + String.join(",", java.util.Collections.nCopies(100,
          instance)) + "]}";
      HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + app.port() + "/predict/fraud"))
          .POST(HttpRequest.BodyPublishers.ofString(body))
          .header("Content-Type", "application/json").build(),
          HttpResponse.BodyHandlers.ofString());

      // Then 413, not 500 "failed to score", gives the body's size and what to change
      assertThat(answer.statusCode()).as(answer.body()).isEqualTo(413);
      assertThat(answer.body()).contains("(" + body.length() + " bytes)")
          .contains("larger than this server accepts").contains("fewer instances");
    } finally {
      app.stop();
    }
  }
}
