package dev.flywheel.platform.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.platform.FlywheelCli;
import dev.flywheel.platform.runtime.FlywheelRuntime;
import dev.flywheel.platform.runtime.PlatformService;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code flywheel status} against runtimes whose services are unhealthy, and against none; the
 * healthy case, with real services, is in {@link FlywheelCliIT}.
 */
@WithDevstack
class StatusCommandIT {

  /** A service that reports the problem it is given. */
  private record Failing(String name, String problem) implements PlatformService {
    @Override
    public void start() {}

    @Override
    public Optional<String> healthProblem() {
      return Optional.ofNullable(problem);
    }

    @Override
    public void close() {}
  }

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int status(String url) {
    return new CommandLine(new FlywheelCli()).setOut(new PrintWriter(out, true))
        .setErr(new PrintWriter(err, true)).execute("status", "--url", url);
  }

  @Test
  void shouldExitNonZeroNamingTheUnhealthyServiceAndItsProblem(Devstack devstack,
      UniqueNames names) {
    // Given a runtime with one healthy service and one whose streams thread died
    Topics topics = Topics.builder(AvroSerdes.fromConfig(Map.of("schema.registry.url",
        devstack.schemaRegistryUrl()))).prefix(names.prefix()).build();
    try (FlywheelRuntime runtime = FlywheelRuntime.builder()
        .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers())).topics(topics)
        .host("127.0.0.1").httpPort(0)
        .service(meters -> new Failing("ingest", null))
        .service(meters -> new Failing("features", "stream thread died: RocksDB is full"))
        .build().start()) {

      // When
      int exit = status("http://127.0.0.1:" + runtime.httpPort());

      // Then
      assertThat(exit).isEqualTo(StatusCommand.EXIT_UNHEALTHY);
      assertThat(out.toString()).contains(": DOWN").containsPattern("ingest\\s+UP")
          .containsPattern("features\\s+DOWN\\s+stream thread died: RocksDB is full");
    }
  }

  @Test
  void shouldTellToStartFlywheelUpWhenNoRuntimeAnswers() throws Exception {
    // Given a port nothing listens on
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }

    int exit = status("http://127.0.0.1:" + port);

    assertThat(exit).isEqualTo(StatusCommand.EXIT_UNREACHABLE);
    assertThat(err.toString()).contains("no Flywheel runtime answers at http://127.0.0.1:" + port)
        .contains("start it with flywheel up");
  }
}
