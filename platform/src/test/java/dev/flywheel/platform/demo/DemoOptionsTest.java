package dev.flywheel.platform.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code flywheel demo} refuses wrong values as usage errors, before it starts anything. */
class DemoOptionsTest {

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @Test
  void shouldRefuseANegativeRateAsUsageErrorWithoutStartingAnything() {
    // When the demo is asked for a negative rate
    int exit = demo("--rate", "-5", "--http-port", "0");

    // Then it is a usage error that says what to write, not a start failure blaming a port
    assertThat(exit).isEqualTo(2);
    assertThat(err.toString()).contains("--rate must be a positive number")
        .contains("--rate 200").doesNotContain("in use");
    assertThat(out.toString()).doesNotContain("starting");
  }

  @Test
  void shouldRefuseANegativeDurationAsUsageErrorWithoutStartingAnything() {
    // When the demo is given a negative time budget
    int exit = demo("--duration=-3m", "--http-port", "0");

    // Then it is a usage error that says what to write, found before the stack starts
    assertThat(exit).isEqualTo(2);
    assertThat(err.toString()).contains("'-3m' is not a positive duration")
        .contains("e.g. 3m");
    assertThat(out.toString()).doesNotContain("starting");
  }

  private int demo(String... args) {
    return new CommandLine(new DemoCommand()).setOut(new PrintWriter(out, true))
        .setErr(new PrintWriter(err, true)).execute(args);
  }
}
