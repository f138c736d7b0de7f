package dev.flywheel.bench;

import java.io.File;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Measures the wall time of {@code flywheel up} with every service configured, from process start
 * until {@code GET /health} answers 200 with all six services UP, and then until the first event
 * posted to {@code POST /ingest/payments} is readable in the online lookup ({@code GET
 * /features/card_spend/card-1} with {@code found: true}), as a user would see it.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.flywheel.bench.UpAllServicesHarness [runs] [flywheel.jar]
 * </pre>
 *
 * <p>Each run starts a fresh JVM with {@code up --temporary -c flywheel.yaml} (one source, one
 * feature group, one model with policy, training, triggers and drift, serving) on free ports,
 * polls every 50 ms, then stops the process with SIGTERM (the CLI's Ctrl-C path). Prints each run
 * and the medians.
 */
public final class UpAllServicesHarness {

  private static final String SERVICES = "\"registry\",\"ingest\",\"features\",\"serving\","
      + "\"training\",\"drift\"";
  private static final String EVENT = "{\"event_id\": \"e-1\", \"card_id\": \"card-1\","
      + " \"amount\": 12.5, \"event_time\": 1700000000000}";

  private UpAllServicesHarness() {}

  public static void main(String[] args) throws Exception {
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    Path jar = Path.of(args.length > 1 ? args[1] : "platform/target/flywheel.jar");
    if (!jar.toFile().isFile()) {
      throw new IllegalArgumentException(jar + " does not exist: build it with ./flywheel --version");
    }
    List<Long> healthy = new ArrayList<>();
    List<Long> firstLookup = new ArrayList<>();
    for (int i = 0; i < runs; i++) {
      long[] ms = oneRun(jar);
      healthy.add(ms[0]);
      firstLookup.add(ms[1]);
      System.out.printf("run %d: all six services UP after %d ms; first event in the lookup %d ms"
          + " after the POST%n", i + 1, ms[0], ms[1]);
    }
    Collections.sort(healthy);
    Collections.sort(firstLookup);
    System.out.printf("median of %d runs: %d ms to /health UP (min %d, max %d); %d ms from POST to"
        + " lookup (min %d, max %d); %d cores, max heap %d MiB%n", runs, healthy.get(runs / 2),
        healthy.get(0), healthy.get(runs - 1), firstLookup.get(runs / 2), firstLookup.get(0),
        firstLookup.get(runs - 1), Runtime.getRuntime().availableProcessors(),
        Runtime.getRuntime().maxMemory() >> 20);
  }

  private static long[] oneRun(Path jar) throws Exception {
    Path dir = Files.createTempDirectory("flywheel-up-all");
    try {
      Path yaml = dir.resolve("flywheel.yaml");
      Files.writeString(yaml, config(dir));
      int httpPort = freePort();
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      long start = System.nanoTime();
      Process process = new ProcessBuilder(java, "-jar", jar.toAbsolutePath().toString(), "up",
          "--temporary", "--kafka-port", String.valueOf(freePort()), "--registry-port",
          String.valueOf(freePort()), "--http-port", String.valueOf(httpPort), "-c",
          yaml.toString())
          .directory(dir.toFile())
          .redirectErrorStream(true)
          .redirectOutput(new File(dir.resolve("up.log").toString()))
          .start();
      try {
        String base = "http://127.0.0.1:" + httpPort;
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(200)).build();
        long deadline = start + TimeUnit.SECONDS.toNanos(300);
        while (!allUp(http, base)) {
          check(process, deadline, dir);
          Thread.sleep(50);
        }
        long healthyMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        long posted = System.nanoTime();
        HttpResponse<String> accepted = http.send(HttpRequest.newBuilder(
                URI.create(base + "/ingest/payments"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(EVENT)).build(),
            HttpResponse.BodyHandlers.ofString());
        if (accepted.statusCode() != 202) {
          throw new IllegalStateException("POST /ingest/payments answered "
              + accepted.statusCode() + ": " + accepted.body());
        }
        while (!found(http, base)) {
          check(process, deadline, dir);
          Thread.sleep(50);
        }
        return new long[] {healthyMs, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - posted)};
      } finally {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
          process.destroyForcibly();
        }
      }
    } finally {
      Dirs.deleteQuietly(dir);
    }
  }

  private static void check(Process process, long deadline, Path dir) throws Exception {
    if (System.nanoTime() > deadline || !process.isAlive()) {
      throw new IllegalStateException("flywheel up did not come up (alive=" + process.isAlive()
          + "); its output:\n" + Files.readString(dir.resolve("up.log")));
    }
  }

  private static boolean allUp(HttpClient http, String base) {
    try {
      HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(base + "/health"))
          .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
      String body = health.body().replace(" ", "");
      return health.statusCode() == 200 && List.of(SERVICES.split(",")).stream()
          .allMatch(s -> body.contains(s + ":{\"status\":\"UP\"}"));
    } catch (Exception notYet) {
      return false;
    }
  }

  private static boolean found(HttpClient http, String base) {
    try {
      HttpResponse<String> lookup = http.send(HttpRequest.newBuilder(
              URI.create(base + "/features/card_spend/card-1"))
          .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
      return lookup.statusCode() == 200 && lookup.body().replace(" ", "").contains("\"found\":true");
    } catch (Exception notYet) {
      return false;
    }
  }

  private static String config(Path dir) {
    return """
        stateDir: %s
        ingest:
          producers: 1
        trainingTrigger:
          artifactDir: %s
          workDir: %s
        sources:
          - name: payments
            schema:
              type: record
              name: Payment
              namespace: dev.flywheel.bench
              fields:
                - {name: event_id, type: string}
                - {name: card_id, type: string}
                - {name: amount, type: double}
                - {name: event_time, type: {type: long, logicalType: timestamp-millis}}
            key: card_id
            time: event_time
        featureGroups:
          - name: card_spend
            source: payments
            entityKey: card_id
            eventTime: event_time
            eventId: event_id
            features:
              - {name: tx_count_1h, agg: count, window: 1h}
              - {name: amount_sum_1h, agg: sum, field: amount, window: 1h}
        models:
          - name: fraud
            featureGroup: card_spend
            target: is_fraud
            task: binary_classification
            policy:
              gates: ["auc >= 0.7"]
              autoPromote: [champion]
            training:
              trainer: xgboost
              params: {num_round: 10}
              executor: {kind: local}
            triggers:
              drift: true
            drift:
              window: {count: 100}
        servingSink:
          startFrom: earliest
        """.formatted(dir.resolve("state"), dir.resolve("artifacts"), dir.resolve("training"));
  }

  private static int freePort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
