package dev.flywheel.trainingtrigger;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code flywheel train} without a flywheel.yaml: the running platform's route checks the model.
 */
class TrainCommandCheckTest {

  @TempDir Path dir;

  private HttpServer platform;
  private final AtomicReference<String> sent = new AtomicReference<>();
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeEach
  void startPlatform() throws Exception {
    // a training route that declares only fraud, as TrainingHttpApi answers
    platform = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    platform.createContext("/models/", exchange -> {
      sent.set(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
      if (exchange.getRequestURI().getPath().equals("/models/gateway/train")) {
        // an ingress in front of the platform, whose upstream timed out
        byte[] html = "<html><body>502 Bad Gateway</body></html>".getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(502, html.length);
        try (OutputStream o = exchange.getResponseBody()) {
          o.write(html);
        }
        return;
      }
      boolean fraud = exchange.getRequestURI().getPath().equals("/models/fraud/train");
      byte[] body = (fraud ? "{\"requestId\":\"r-1\",\"model\":\"fraud\"}"
          : "{\"error\":\"no model 'nosuch' is declared under models: in flywheel.yaml;"
              + " declared: [fraud]\"}").getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(fraud ? 202 : 404, body.length);
      try (OutputStream o = exchange.getResponseBody()) {
        o.write(body);
      }
    });
    platform.start();
  }

  @AfterEach
  void stopPlatform() {
    platform.stop(0);
  }

  @Test
  void shouldRefuseAnUndeclaredModelWithTwoListingTheDeclaredOnes() {
    // When 'flywheel train nosuch' runs where there is no flywheel.yaml
    int status = train("nosuch");

    // Then the platform's refusal is shown and the command exits with 2
    assertThat(status).isEqualTo(2);
    assertThat(err.toString()).contains("no model 'nosuch'").contains("declared: [fraud]");
    assertThat(out.toString()).doesNotContain("requested training");
  }

  @Test
  void shouldRequestADeclaredModelThroughThePlatform() {
    // When 'flywheel train fraud --reason r' runs where there is no flywheel.yaml
    int status = train("fraud", "--reason", "new features", "-p", "max_depth=8");

    // Then the platform took the request, with the reason and the parameters
    assertThat(status).isZero();
    assertThat(out.toString()).contains("requested training of fraud (request r-1");
    assertThat(sent.get()).contains("\"reason\":\"new features\"").contains("\"max_depth\":\"8\"");
  }

  @Test
  void shouldNotWriteTheRequestAgainWhenAGatewayAnswersForThePlatform() {
    // When 'flywheel train gateway' gets a 502 from an ingress (the platform may have written the
    // request before its answer was lost)
    int status = train("gateway", "--reason", "r");

    // Then it is not written to Kafka as well: the command says to check before asking again
    assertThat(status).isEqualTo(1);
    assertThat(err.toString()).contains("answered 502").contains("may have been written")
        .contains("flywheel models history gateway");
    assertThat(out.toString()).doesNotContain("requested training");
  }

  private int train(String... args) {
    String[] all = new String[args.length + 4];
    System.arraycopy(args, 0, all, 0, args.length);
    all[args.length] = "-c";
    all[args.length + 1] = dir.resolve("flywheel.yaml").toString();
    all[args.length + 2] = "--url";
    all[args.length + 3] = "http://127.0.0.1:" + platform.getAddress().getPort();
    return new CommandLine(new TrainCommand()).setOut(new PrintWriter(out, true))
        .setErr(new PrintWriter(err, true)).execute(all);
  }
}
