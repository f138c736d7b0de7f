package dev.flywheel.platform.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.flywheel.devstack.Devstack;
import dev.flywheel.events.Transaction;
import dev.flywheel.platform.runtime.FlywheelRuntime;
import dev.flywheel.platform.runtime.PlatformConfig;
import dev.flywheel.platform.runtime.ServiceCatalog;
import dev.flywheel.topics.Topics;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * The fraud-detection loop end to end in one JVM: the embedded broker and registry, every service
 * of {@code demo/flywheel.yaml} in a {@link FlywheelRuntime}, {@link DemoTraffic} through HTTP
 * ingest, and a {@link LoopObserver} that records each stage.
 *
 * <ol>
 *   <li>normal traffic and late labels until {@link #BOOTSTRAP_LABELS} labels arrived;
 *   <li>a manual training request ("demo bootstrap"): the policy promotes v1, serving serves it;
 *   <li>once v1 has served a few drift windows, the traffic shifts (inflated amounts, another
 *       merchant mix);
 *   <li>the drift detector alerts, training-trigger retrains, the policy promotes v2, serving swaps.
 * </ol>
 *
 * <pre>{@code
 * try (Demo demo = Demo.builder().rate(200).budget(Duration.ofMinutes(3)).out(out).build()
 *     .start()) {
 *   Demo.Result result = demo.run();
 *   System.out.println(result.closed() ? "loop closed" : "missing: " + result.missingStage());
 * }
 * }</pre>
 */
public final class Demo implements AutoCloseable {

  /** The demo's model. */
  public static final String MODEL = "fraud-detector";
  /** The demo's source. */
  public static final String SOURCE = "transactions";
  /** The demo's configuration, on the class path. */
  public static final String CONFIG_RESOURCE = "/demo/flywheel.yaml";
  /** Labels that must have arrived before v1 is requested. */
  public static final long BOOTSTRAP_LABELS = 3000;
  /** The reason of the first training request. */
  public static final String BOOTSTRAP_REASON = "demo bootstrap";
  /** Drift reports against v1 before the traffic shifts. */
  public static final long STEADY_REPORTS = 3;

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
      .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER));
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration REFRESH = Duration.ofMillis(500);

  private final double rate;
  private final Duration budget;
  private final long seed;
  private final int cards;
  private final int httpPort;
  private final int kafkaPort;
  private final int registryPort;
  private final PrintWriter out;
  private final boolean ansi;
  private final Path workDir;
  private Devstack devstack;
  private FlywheelRuntime runtime;
  private Topics topics;
  private LoopObserver observer;
  private TrafficPump pump;
  private DemoTraffic traffic;
  private String httpUrl;
  private volatile String phase = "starting";
  private long startedMs;
  private long readyMs;
  private long trafficStartMs;
  private long bootstrapRequestMs;
  private long shiftMs;
  private boolean closed;

  private Demo(Builder b) {
    this.rate = b.rate;
    this.budget = b.budget;
    this.seed = b.seed;
    this.cards = b.cards;
    this.httpPort = b.httpPort;
    this.kafkaPort = b.kafkaPort;
    this.registryPort = b.registryPort;
    this.out = b.out;
    this.ansi = b.ansi;
    try {
      this.workDir = Files.createTempDirectory("flywheel-demo");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the demo's folder: " + e.getMessage(), e);
    }
  }

  /** A builder with the demo's defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Starts the devstack and every service, then the observer and the traffic.
   *
   * @throws IllegalStateException naming the part that could not start
   */
  public synchronized Demo start() {
    if (closed) {
      // closed while waiting to start (Ctrl-C as it began): start nothing
      throw new IllegalStateException("the demo was closed before it started");
    }
    startedMs = System.currentTimeMillis();
    try {
      devstack = Devstack.builder().kafkaPort(kafkaPort).registryPort(registryPort).build();
      devstack.start();
      Path yaml = writeConfig();
      String text = Files.readString(yaml);
      PlatformConfig config = PlatformConfig.parse(text, Map.of())
          .withCluster(devstack.bootstrapServers(), devstack.schemaRegistryUrl());
      config = new PlatformConfig(config.kafka(), new PlatformConfig.Http(httpPort),
          workDir.resolve("state"));
      ServiceCatalog catalog = ServiceCatalog.builder().yaml(text).configDir(workDir)
          .config(config).stateDir(workDir.resolve("state")).build();
      topics = catalog.topics();
      FlywheelRuntime.Builder rb = FlywheelRuntime.builder().host("127.0.0.1");
      catalog.addAll(rb);
      runtime = rb.build().start();
      httpUrl = "http://127.0.0.1:" + runtime.httpPort();
      readyMs = System.currentTimeMillis();
      traffic = new DemoTraffic(seed, cards);
      DemoClock clock = DemoClock.startingNow(Duration.ofHours(3), 60);
      pump = new TrafficPump(traffic, clock, httpUrl, SOURCE, rate);
      observer = new LoopObserver(kafka(), topics, MODEL, pump::takeSentAt, startedMs);
      observer.start();
      // a busy machine computes features slower than the traffic comes: hold payments back
      // rather than let the loop fall minutes behind
      pump.throttle(observer::featuresSeen, (long) Math.max(200, rate * 3));
      observer.mark(String.format(java.util.Locale.ROOT,
          "stack and %d services up in %.1f s; phase 1: %.0f payments/s from %d cards",
          runtime.services().size(), (readyMs - startedMs) / 1000.0, rate, cards));
      pump.start();
      trafficStartMs = System.currentTimeMillis();
      phase = "phase 1: normal traffic, waiting for " + BOOTSTRAP_LABELS + " labels";
      return this;
    } catch (IOException e) {
      close();
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  private Map<String, Object> kafka() {
    Map<String, Object> kafka = new HashMap<>();
    kafka.put("bootstrap.servers", devstack.bootstrapServers());
    return kafka;
  }

  private Path writeConfig() throws IOException {
    String text;
    try (InputStream in = Demo.class.getResourceAsStream(CONFIG_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(CONFIG_RESOURCE + " is missing from the class path");
      }
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    // the demo keeps its models and datasets in its own folder, not in the working directory
    ObjectNode root = (ObjectNode) YAML.readTree(text);
    ObjectNode training = root.with("trainingTrigger");
    training.put("artifactDir", workDir.resolve("artifacts").toString());
    training.put("workDir", workDir.resolve("training").toString());
    Path yaml = workDir.resolve("flywheel.yaml");
    Files.writeString(yaml, YAML.writeValueAsString(root));
    Files.writeString(workDir.resolve("transaction.avsc"),
        Transaction.getClassSchema().toString(true));
    return yaml;
  }

  /**
   * Drives the loop until it closes (v2, trained because of a drift alert, serves) or the budget
   * is spent, refreshing the view every half second.
   */
  public Result run() throws InterruptedException {
    DemoView view = new DemoView(out, ansi, () -> phase);
    long deadline = startedMs + budget.toMillis();
    List<Check> checks = checks();
    LoopObserver.Snapshot s = observer.snapshot();
    while (System.currentTimeMillis() < deadline) {
      s = observer.snapshot();
      advance(s);
      view.refresh(s, pump.paymentsSent(), pump.labelsSent(),
          System.currentTimeMillis() - startedMs);
      if (closedLoop(s).isPresent()) {
        break;
      }
      Thread.sleep(REFRESH.toMillis());
    }
    s = observer.snapshot();
    view.refresh(s, pump.paymentsSent(), pump.labelsSent(),
        System.currentTimeMillis() - startedMs);
    view.finish(s);
    Optional<Integer> v2 = closedLoop(s);
    String missing = null;
    if (v2.isEmpty()) {
      for (Check c : checks) {
        if (!c.done().test(s)) {
          missing = c.stage();
          break;
        }
      }
      if (missing == null) {
        missing = "a retrained version serving";
      }
    }
    phase = v2.isPresent() ? "loop closed: v" + v2.get() + " serving" : "loop not closed";
    return new Result(v2.isPresent(), missing, v2.orElse(0), s, startedMs, readyMs,
        trafficStartMs, bootstrapRequestMs, shiftMs, System.currentTimeMillis(),
        pump.paymentsSent(), pump.labelsSent(), pump.failedBatches(), pump.lastError(),
        pump.heldBackMs());
  }

  private void advance(LoopObserver.Snapshot s) {
    if (bootstrapRequestMs == 0 && pump.labelsSent() >= BOOTSTRAP_LABELS && s.features() > 0) {
      requestTraining();
      bootstrapRequestMs = System.currentTimeMillis();
      phase = "phase 1: training v1";
    }
    if (bootstrapRequestMs != 0 && shiftMs == 0 && s.serving(1)) {
      long reportsOnV1 = s.latestReport() == null ? 0 : s.reports();
      phase = "phase 1: v1 serving, watching drift";
      if (reportsOnV1 >= STEADY_REPORTS) {
        traffic.shift();
        shiftMs = System.currentTimeMillis();
        observer.mark("phase 2: traffic shifts (amounts x1.7, online marketplaces and"
            + " subscriptions, more card-not-present)");
        phase = "phase 2: shifted traffic, waiting for the loop";
      }
    }
    if (shiftMs != 0 && !s.alerts().isEmpty()) {
      phase = "phase 2: drift alert, retraining";
    }
  }

  private void requestTraining() {
    try {
      String body = JSON.writeValueAsString(Map.of("reason", BOOTSTRAP_REASON,
          "actor", "flywheel-demo"));
      HttpResponse<String> response = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create(httpUrl + "/models/" + MODEL + "/train"))
              .header("Content-Type", "application/json")
              .timeout(Duration.ofSeconds(30))
              .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
          HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 202) {
        observer.mark("training request refused: " + response.statusCode() + " "
            + response.body());
        return;
      }
      observer.mark(String.format(java.util.Locale.ROOT,
          "%d labels in: training v1 requested (\"%s\")", pump.labelsSent(), BOOTSTRAP_REASON));
    } catch (IOException e) {
      observer.mark("training request failed: " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The first version trained on a drift alert after the shift that serves, if any. */
  private Optional<Integer> closedLoop(LoopObserver.Snapshot s) {
    if (shiftMs == 0) {
      return Optional.empty();
    }
    return s.promotedAtMs().keySet().stream()
        .filter(v -> v >= 2 && s.serving(v))
        .filter(v -> s.runOf(v).filter(LoopObserver::causedByDrift)
            .map(run -> s.runStartedAtMs().getOrDefault(run.getRunId(), 0L) >= shiftMs)
            .orElse(false))
        .min(Comparator.naturalOrder());
  }

  private List<Check> checks() {
    List<Check> checks = new ArrayList<>();
    checks.add(new Check("payments ingested", s -> pump.paymentsSent() > 0));
    checks.add(new Check("feature vectors on " + topics.features().name(),
        s -> s.features() > 0));
    checks.add(new Check(BOOTSTRAP_LABELS + " labels ingested",
        s -> pump.labelsSent() >= BOOTSTRAP_LABELS));
    checks.add(new Check("training v1 completed on " + topics.trainingRuns().name(),
        s -> !s.completedRuns().isEmpty()));
    checks.add(new Check("v1 promoted on " + topics.modelPromoted().name(),
        s -> s.promotedAtMs().containsKey(1)));
    checks.add(new Check("v1 predictions on " + topics.predictions().name(), s -> s.serving(1)));
    checks.add(new Check("traffic shift (needs " + STEADY_REPORTS + " drift reports on "
        + topics.driftReports().name() + ")", s -> shiftMs != 0));
    checks.add(new Check("drift alert on " + topics.driftAlerts().name(),
        s -> !s.alerts().isEmpty()));
    checks.add(new Check("retraining on the alert completed on " + topics.trainingRuns().name(),
        LoopObserver.Snapshot::retrainedOnDrift));
    checks.add(new Check("v2 promoted on " + topics.modelPromoted().name(),
        s -> s.latestPromoted() >= 2));
    checks.add(new Check("v2 predictions on " + topics.predictions().name(),
        s -> s.predictionsByVersion().keySet().stream().anyMatch(v -> v >= 2)));
    return checks;
  }

  /** The embedded broker's bootstrap servers. */
  public String bootstrapServers() {
    return devstack.bootstrapServers();
  }

  /** The embedded schema registry. */
  public String schemaRegistryUrl() {
    return devstack.schemaRegistryUrl();
  }

  /** The runtime's HTTP address. */
  public String httpUrl() {
    return httpUrl;
  }

  /** The topic catalogue. */
  public Topics topics() {
    return topics;
  }

  /** Where the demo keeps its configuration, state and models. */
  public Path workDir() {
    return workDir;
  }

  /** Stops the traffic, the observer, the services and the stack, and deletes the demo's files. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (pump != null) {
      pump.close();
    }
    if (observer != null) {
      observer.close();
    }
    if (runtime != null) {
      runtime.close();
    }
    if (devstack != null) {
      devstack.close();
    }
    deleteQuietly(workDir);
  }

  private static void deleteQuietly(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException ignored) {
          // a temporary folder; what is left is the OS's to clean
        }
      });
    } catch (IOException ignored) {
      // nothing to delete
    }
  }

  private record Check(String stage, Predicate<LoopObserver.Snapshot> done) {}

  /**
   * How the demo went.
   *
   * @param closed whether a version retrained on a drift alert served within the budget
   * @param missingStage the first stage that did not happen, or null when the loop closed
   * @param retrainedVersion the version that closed the loop, or 0
   * @param snapshot everything the observer saw
   */
  public record Result(boolean closed, String missingStage, int retrainedVersion,
      LoopObserver.Snapshot snapshot, long startedMs, long readyMs, long trafficStartMs,
      long bootstrapRequestMs, long shiftMs, long endMs, long paymentsSent, long labelsSent,
      long failedBatches, String lastError, long heldBackMs) {}

  /** Builds a {@link Demo}. */
  public static final class Builder {
    private double rate = 200;
    private Duration budget = Duration.ofMinutes(3);
    private long seed = 42;
    private int cards = 2000;
    private int httpPort = 8080;
    private int kafkaPort = 0;
    private int registryPort = 0;
    private PrintWriter out = new PrintWriter(System.out, true);
    private boolean ansi;

    private Builder() {}

    /** New payments per second; default 200. */
    public Builder rate(double rate) {
      if (!(rate > 0)) {
        throw new IllegalArgumentException("--rate must be positive, got " + rate);
      }
      this.rate = rate;
      return this;
    }

    /** The time the loop has to close in, from start; default 3 minutes. */
    public Builder budget(Duration budget) {
      this.budget = Objects.requireNonNull(budget, "budget");
      return this;
    }

    /** The traffic's random seed; default 42. */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** How many cards pay; default 2000. */
    public Builder cards(int cards) {
      this.cards = cards;
      return this;
    }

    /** The HTTP port; 0 picks a free one; default 8080. */
    public Builder httpPort(int httpPort) {
      this.httpPort = httpPort;
      return this;
    }

    /** Kafka's port; default 0, a free one. */
    public Builder kafkaPort(int kafkaPort) {
      this.kafkaPort = kafkaPort;
      return this;
    }

    /** The schema registry's port; default 0, a free one. */
    public Builder registryPort(int registryPort) {
      this.registryPort = registryPort;
      return this;
    }

    /** Where the live view and the summary go; default standard output. */
    public Builder out(PrintWriter out) {
      this.out = Objects.requireNonNull(out, "out");
      return this;
    }

    /** Whether to redraw a panel in place (a terminal) or print a line per stage. */
    public Builder ansi(boolean ansi) {
      this.ansi = ansi;
      return this;
    }

    public Demo build() {
      return new Demo(this);
    }
  }
}
