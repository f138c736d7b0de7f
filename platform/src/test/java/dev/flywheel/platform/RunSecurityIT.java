package dev.flywheel.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code flywheel run ingest} with a {@code security:} section: tokens guard the mutating routes. */
@WithDevstack
class RunSecurityIT {

  private static final String PIPELINE_TOKEN = "pipeline-0123456789abcdef0123456789";
  private static final String EVENT = "{\"event_id\": \"e-1\", \"card_id\": \"c-1\","
      + " \"amount\": 12.5, \"event_time\": 1700000000000}";

  private final HttpClient http = HttpClient.newHttpClient();

  @TempDir Path workDir;

  @Test
  void shouldRefuseIngestWithoutTheTokenOfItsRole(Devstack devstack, UniqueNames names)
      throws Exception {
    // Given flywheel.yaml with one source and a pipeline token (ingest only) read from a file
    Files.writeString(workDir.resolve("pipeline.token"), PIPELINE_TOKEN + "\n");
    Path yaml = workDir.resolve("flywheel.yaml");
    Files.writeString(yaml, config(devstack, names, "file: pipeline.token"));
    RunCommand run = new RunCommand();
    new CommandLine(run).setOut(new PrintWriter(new StringWriter(), true))
        .parseArgs("ingest", "-c", yaml.toString(), "--http-port", "0",
            "--state-dir", workDir.resolve("state").toString());

    // When 'flywheel run ingest' runs
    try (FlywheelRuntime runtime = run.start()) {
      String base = "http://127.0.0.1:" + runtime.httpPort();

      // Then an event without a token is refused with 401, saying what to send
      HttpResponse<String> none = post(base + "/ingest/cards", null);
      assertThat(none.statusCode()).isEqualTo(401);
      assertThat(none.body()).contains("Authorization: Bearer <token>");
      // and adding a source with the pipeline token is refused with 403 (it needs admin)
      HttpResponse<String> sources = post(base + "/sources", PIPELINE_TOKEN);
      assertThat(sources.statusCode()).isEqualTo(403);
      assertThat(sources.body()).contains("needs role 'admin'", "token 'pipeline'");
      // and the event with the pipeline token is accepted
      HttpResponse<String> accepted = post(base + "/ingest/cards", PIPELINE_TOKEN);
      assertThat(accepted.statusCode()).as(accepted.body()).isBetween(200, 299);
      // and health stays open
      assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(),
          HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void shouldNotStartWhenATokenVariableIsMissing(Devstack devstack, UniqueNames names)
      throws Exception {
    // Given a token from an environment variable this JVM does not have
    Path yaml = workDir.resolve("flywheel.yaml");
    Files.writeString(yaml, config(devstack, names, "env: FLYWHEEL_TOKEN_NOBODY_SETS"));
    RunCommand run = new RunCommand();
    new CommandLine(run).parseArgs("ingest", "-c", yaml.toString(), "--http-port", "0",
        "--state-dir", workDir.resolve("state").toString());

    // Then it refuses to start, naming the variable to set
    assertThatThrownBy(run::start)
        .hasMessageContaining("FLYWHEEL_TOKEN_NOBODY_SETS, which is not set");
  }

  private static String config(Devstack devstack, UniqueNames names, String tokenSource) {
    return """
        kafka:
          bootstrapServers: %s
          schemaRegistryUrl: %s
          topicPrefix: %s
        security:
          tokens:
            - name: pipeline
              %s
              roles: [ingest]
        sources:
          - name: cards
            key: card_id
            time: event_time
            schema:
              type: record
              name: Card
              namespace: dev.flywheel.test
              fields:
                - {name: event_id, type: string}
                - {name: card_id, type: string}
                - {name: amount, type: double}
                - {name: event_time, type: {type: long, logicalType: timestamp-millis}}
        """.formatted(devstack.bootstrapServers(), devstack.schemaRegistryUrl(), names.prefix(),
        tokenSource);
  }

  private HttpResponse<String> post(String url, String token) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(EVENT));
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }
}
