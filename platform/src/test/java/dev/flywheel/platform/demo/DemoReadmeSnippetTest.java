package dev.flywheel.platform.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.devstack.junit.ReadmeSnippet;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The README's {@code flywheel demo} snippet compiles here, and the README shows it as it is. */
class DemoReadmeSnippetTest {

  @SuppressWarnings("unused")
  static void snippet() throws Exception {
    // README:BEGIN
    try (Demo demo = Demo.builder()
        .rate(200)                                // new payments per second
        .budget(Duration.ofMinutes(3))            // the loop must close within this
        .seed(42)                                 // the same traffic every time
        .httpPort(0)                              // a free port for the services' HTTP API
        .out(new PrintWriter(System.out, true))   // a line per stage (ansi(true): a live panel)
        .build()
        .start()) {                               // devstack, every service, traffic
      Demo.Result result = demo.run();            // until v2 serves or the budget is spent
      System.out.println(result.closed() ? "closed by v" + result.retrainedVersion()
          : "no " + result.missingStage());
    }
    // README:END
  }

  @Test
  void shouldShowTheCompiledSnippetInTheReadme() throws Exception {
    String snippet = ReadmeSnippet.of(Path.of("src/test/java/dev/flywheel/platform/demo/"
        + "DemoReadmeSnippetTest.java"));
    assertThat(Files.readString(Path.of("README.md"))).contains(snippet);
  }
}
