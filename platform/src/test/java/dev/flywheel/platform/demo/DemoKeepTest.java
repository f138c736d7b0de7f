package dev.flywheel.platform.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code flywheel demo --keep}: Ctrl-C after the loop ends the JVM with the loop's status (0 when
 * it closed), not with the 130 of a JVM ended by SIGINT.
 */
class DemoKeepTest {

  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(ints = {0, 1})
  void shouldExitWithTheLoopsStatusWhenCtrlCStopsTheKeptDemo(int loopStatus) throws Exception {
    assumeThat(sigintIgnored()).as("SIGINT is ignored in this JVM (the build was started in the"
        + " background of a shell without job control), and so in the child it starts: Ctrl-C"
        + " cannot reach the demo here").isFalse();
    // Given a kept demo whose loop ended with loopStatus, running in its own JVM
    Path output = dir.resolve("keep-" + loopStatus + ".log");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process process = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        KeepProbe.class.getName(), String.valueOf(loopStatus))
        .redirectErrorStream(true)
        .redirectOutput(output.toFile())
        .start();
    try {
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
          .until(() -> !process.isAlive() || Files.readString(output).contains("Ctrl-C stops"));
      assertThat(process.isAlive()).as(Files.readString(output)).isTrue();

      // When it gets SIGINT, as Ctrl-C sends
      Process kill = new ProcessBuilder("kill", "-INT", String.valueOf(process.pid())).start();
      assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(kill.exitValue()).isZero();

      // Then it closes the stack and exits with the loop's status
      assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(process.exitValue()).as(Files.readString(output)).isEqualTo(loopStatus);
      assertThat(Files.readString(output)).contains("stack closed");
    } finally {
      process.destroyForcibly();
    }
  }

  /**
   * Whether this process ignores SIGINT, which a child inherits and the JVM then leaves alone
   * (Linux: bit 2 of {@code SigIgn} in {@code /proc/self/status}; elsewhere assumed not).
   */
  private static boolean sigintIgnored() throws IOException {
    Path status = Path.of("/proc/self/status");
    if (!Files.isReadable(status)) {
      return false;
    }
    return Files.readAllLines(status).stream().filter(l -> l.startsWith("SigIgn:"))
        .map(l -> new BigInteger(l.substring("SigIgn:".length()).trim(), 16))
        .anyMatch(mask -> mask.testBit(1)); // signal 2 (SIGINT) is bit 1
  }
}
