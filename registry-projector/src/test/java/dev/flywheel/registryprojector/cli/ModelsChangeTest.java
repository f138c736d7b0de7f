package dev.flywheel.registryprojector.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code flywheel models promote|approve|rollback|archive}: a change is sent only when the registry
 * can report its decision, and once sent, a failure to learn the decision says so and does not
 * look like a failure to send.
 */
class ModelsChangeTest {

  private HttpServer registry;
  private final List<String> sent = new CopyOnWriteArrayList<>();
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @AfterEach
  void stopRegistry() {
    if (registry != null) {
      registry.stop(0);
    }
  }

  @Test
  void shouldRefuseAUrlWithoutSchemeAsBadUsageBeforeSendingTheCommand() {
    // When a promotion is asked of a registry address without http://
    int exit = models("promote", "fraud", "2", "--url", "localhost:8083");

    // Then it is a usage error saying what to write, without a stack trace, and nothing was sent
    assertThat(exit).isEqualTo(2);
    assertThat(err.toString()).contains("--url http://localhost:8083")
        .doesNotContain("Exception").doesNotContain("\tat ");
    assertThat(sent).isEmpty();
  }

  @Test
  void shouldNotSendTheCommandWhenNoRegistryAnswersAtTheUrl() throws Exception {
    // Given an address where nothing listens
    int port;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }

    // When a rollback is asked of it
    int exit = models("rollback", "fraud", "--url", "http://127.0.0.1:" + port);

    // Then it fails before sending, says so and names the failure, not "null"
    assertThat(exit).isEqualTo(1);
    assertThat(err.toString()).contains("cannot reach the registry at http://127.0.0.1:" + port)
        .contains("the command was not sent").doesNotContain(": null");
    assertThat(sent).isEmpty();
  }

  @Test
  void shouldSayTheSentCommandsDecisionIsUnknownWhenTheRegistryStopsAnswering() throws Exception {
    // Given a registry that lists its models but fails every history request
    registry = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    registry.createContext("/models", exchange -> {
      boolean history = exchange.getRequestURI().getPath().endsWith("/history");
      byte[] body = (history ? "{\"error\":\"internal error\"}" : "[]")
          .getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(history ? 500 : 200, body.length);
      try (OutputStream o = exchange.getResponseBody()) {
        o.write(body);
      }
    });
    registry.start();

    // When a rollback is asked of it
    int exit = models("rollback", "fraud", "--timeout", "1",
        "--url", "http://127.0.0.1:" + registry.getAddress().getPort());

    // Then the command was sent once, and the exit status and the message say its decision is
    // unknown and where to look, rather than a failure a user would answer by sending it again
    assertThat(sent).hasSize(1);
    assertThat(exit).isEqualTo(ModelsCommand.EXIT_DECISION_UNKNOWN).isNotEqualTo(1);
    assertThat(err.toString())
        .contains("command " + sent.get(0) + " was sent; its decision is unknown: see"
            + " 'flywheel models history fraud'")
        .contains("internal error");
  }

  private int models(String... args) {
    CommandLine.IFactory factory = new CommandLine.IFactory() {
      @Override
      public <K> K create(Class<K> cls) throws Exception {
        K command = CommandLine.defaultFactory().create(cls);
        if (command instanceof ModelsCommand.Base base) {
          base.clients = RecordingClient::new;
        }
        return command;
      }
    };
    return new CommandLine(new ModelsCommand(), factory).setOut(new PrintWriter(out, true))
        .setErr(new PrintWriter(err, true)).execute(args);
  }

  /** The registry client with Kafka replaced: it records the commands it sends. */
  private final class RecordingClient extends RegistryClient {
    RecordingClient(ConnectionOptions options) {
      super(options);
    }

    @Override
    String send(String model, String actorName, List<String> roles, String reason, Object body) {
      String id = "command-" + (sent.size() + 1);
      sent.add(id);
      return id;
    }
  }
}
