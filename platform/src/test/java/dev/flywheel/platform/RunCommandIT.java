package dev.flywheel.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.platform.runtime.FlywheelRuntime;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code flywheel run features} against the shared test broker. */
@WithDevstack
class RunCommandIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(2)).build();

  @TempDir Path workDir;

  @Test
  void shouldRunOnlyTheFeatureEngineWithItsLookupHealthAndMetricsOnItsOwnPort(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given a source added with 'flywheel sources add' and a flywheel.yaml of every service
    PaymentsSource.add(workDir, devstack, names);
    Path yaml = workDir.resolve("flywheel.yaml");
    Files.writeString(yaml, UpAllServicesIT.everyService(devstack, names, workDir));

    // When 'flywheel run features' starts on a free port
    StringWriter out = new StringWriter();
    RunCommand run = new RunCommand();
    new CommandLine(run).setOut(new PrintWriter(out, true))
        .parseArgs("features", "-c", yaml.toString(), "--http-port", "0");
    try (FlywheelRuntime runtime = run.start()) {
      String base = "http://127.0.0.1:" + runtime.httpPort();

      // Then /health lists the feature engine alone, and it comes up
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
          .until(() -> get(base + "/health").statusCode() == 200);
      JsonNode services = JSON.readTree(get(base + "/health").body()).path("services");
      assertThat(services.size()).as(services.toString()).isEqualTo(1);
      assertThat(services.path("features").path("status").asText()).isEqualTo("UP");
      assertThat(out.toString()).contains("Flywheel features on " + devstack.bootstrapServers())
          .containsPattern("features +\\S+ +GET /features/\\{group}/\\{entity}");
      // its lookup answers from this instance's store (the group's defaults for a new entity)
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250))
          .until(() -> get(base + "/features/card_spend/card-7").statusCode() == 200);
      JsonNode unknown = JSON.readTree(get(base + "/features/card_spend/card-7").body());
      assertThat(unknown.path("found").asBoolean(true)).isFalse();
      assertThat(unknown.path("features").path("tx_count_1h").asDouble()).isZero();
      // no other service's routes are served, and its meters are on /metrics
      assertThat(get(base + "/models").statusCode()).isEqualTo(404);
      assertThat(get(base + "/metrics").body()).contains("jvm_memory_used_bytes");
    }
  }

  private static HttpResponse<String> get(String url) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
        .GET().build(), HttpResponse.BodyHandlers.ofString());
  }
}
