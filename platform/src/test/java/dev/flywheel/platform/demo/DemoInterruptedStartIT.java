package dev.flywheel.platform.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.platform.FlywheelCli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code flywheel demo} stopped while its stack starts leaves no folder behind. */
class DemoInterruptedStartIT {

  @TempDir Path tmp;

  @Test
  void shouldDeleteTheDemosFolderWhenStoppedWhileTheStackStarts() throws Exception {
    // Given 'flywheel demo' starting in its own JVM, its temporary files under tmp
    Path output = tmp.resolve("demo.log");
    Path tmpDir = Files.createDirectory(tmp.resolve("java-tmp"));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process process = new ProcessBuilder(java, "-Djava.io.tmpdir=" + tmpDir,
        "-cp", System.getProperty("java.class.path"), FlywheelCli.class.getName(),
        "demo", "--http-port", "0")
        .redirectErrorStream(true)
        .redirectOutput(output.toFile())
        .start();
    try {
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
          .until(() -> !process.isAlive() || Files.readString(output).contains("starting Kafka"));
      assertThat(demoFolders(tmpDir)).as(Files.readString(output)).hasSize(1);

      // When it is stopped (SIGTERM) before the stack is up
      process.destroy();
      String atSignal = Files.readString(output);

      // Then it was still starting, and once it has ended its folder is gone
      assertThat(atSignal).doesNotContain("services up");
      assertThat(process.waitFor(90, TimeUnit.SECONDS)).as(Files.readString(output)).isTrue();
      assertThat(demoFolders(tmpDir)).as(Files.readString(output)).isEmpty();
    } finally {
      process.destroyForcibly();
    }
  }

  private static List<Path> demoFolders(Path dir) throws Exception {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.getFileName().toString().startsWith("flywheel-demo")).toList();
    }
  }
}
