package dev.flywheel.bench;

import java.io.File;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;

/**
 * Measures the wall time of {@code flywheel up} from process start until the broker answers a
 * metadata request and the schema registry answers {@code GET /subjects}, as a user would see it.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.flywheel.bench.UpTimeHarness [runs] [flywheel.jar]
 * </pre>
 *
 * <p>Each run starts a fresh JVM with {@code up --temporary} on free ports, polls both endpoints
 * every 20 ms, then stops the process with SIGTERM (the CLI's Ctrl-C path). Prints each run and
 * the median.
 */
public final class UpTimeHarness {

  private UpTimeHarness() {}

  public static void main(String[] args) throws Exception {
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    Path jar = Path.of(args.length > 1 ? args[1] : "platform/target/flywheel.jar");
    if (!jar.toFile().isFile()) {
      throw new IllegalArgumentException(jar + " does not exist: build it with ./flywheel --version");
    }
    List<Long> millis = new ArrayList<>();
    for (int i = 0; i < runs; i++) {
      long ms = oneRun(jar);
      millis.add(ms);
      System.out.printf("run %d: broker and registry answered after %d ms%n", i + 1, ms);
    }
    Collections.sort(millis);
    System.out.printf("median of %d runs: %d ms (min %d, max %d); %d cores, max heap %d MiB%n",
        runs, millis.get(runs / 2), millis.get(0), millis.get(runs - 1),
        Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20);
  }

  private static long oneRun(Path jar) throws Exception {
    int kafkaPort = freePort();
    int registryPort = freePort();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    long start = System.nanoTime();
    Process process = new ProcessBuilder(java, "-jar", jar.toString(), "up", "--temporary",
        "--kafka-port", String.valueOf(kafkaPort), "--registry-port", String.valueOf(registryPort))
        .redirectErrorStream(true)
        .redirectOutput(new File("/dev/null"))
        .start();
    try {
      String bootstrap = "127.0.0.1:" + kafkaPort;
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(200)).build();
      HttpRequest subjects = HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + registryPort + "/subjects"))
          .timeout(Duration.ofSeconds(1)).GET().build();
      boolean brokerUp = false;
      boolean registryUp = false;
      long deadline = start + TimeUnit.SECONDS.toNanos(120);
      try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
          AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 50,
          AdminClientConfig.RECONNECT_BACKOFF_MS_CONFIG, 20))) {
        while (!(brokerUp && registryUp)) {
          if (System.nanoTime() > deadline || !process.isAlive()) {
            throw new IllegalStateException("flywheel up did not come up (alive="
                + process.isAlive() + ")");
          }
          if (!brokerUp) {
            try {
              admin.describeCluster(new DescribeClusterOptions().timeoutMs(500)).nodes()
                  .get(1, TimeUnit.SECONDS);
              brokerUp = true;
            } catch (Exception notYet) {
              // not listening yet
            }
          }
          if (!registryUp) {
            try {
              registryUp = http.send(subjects, HttpResponse.BodyHandlers.discarding())
                  .statusCode() == 200;
            } catch (Exception notYet) {
              // not listening yet
            }
          }
          if (!(brokerUp && registryUp)) {
            Thread.sleep(20);
          }
        }
      }
      return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    } finally {
      process.destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }

  private static int freePort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
