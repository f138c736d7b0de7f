package dev.flywheel.platform;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.platform.runtime.FlywheelRuntime;
import dev.flywheel.platform.runtime.HttpSecurity;
import dev.flywheel.platform.runtime.PlatformConfig;
import dev.flywheel.platform.runtime.PlatformService;
import dev.flywheel.platform.runtime.ServiceCatalog;
import dev.flywheel.serde.AvroSerdeConfig;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.BindException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code flywheel up}: starts the embedded {@link Devstack} (a KRaft broker, the schema registry
 * and, with {@code --postgres}, PostgreSQL with logical WAL) unless {@code kafka.bootstrapServers}
 * names a cluster, creates Flywheel's topics, starts every service {@code flywheel.yaml}
 * configures ({@link ServiceCatalog}) with their HTTP APIs, {@code /health} and {@code /metrics}
 * on one port, prints how to connect and one line per service, and runs until Ctrl-C, which stops
 * everything cleanly and exits with status 0.
 *
 * <p>By default the stack listens on the ports every Kafka tool expects (9092 and 8081) and keeps
 * its data in {@code .flywheel/data} under the working directory, so topics, records and schema
 * ids survive a restart; {@code --temporary} runs a throwaway stack instead.
 *
 * <p>Programs and tests can run it without blocking: configure it through picocli, call {@link
 * #start()} for a {@link Running} handle, and close the handle to stop. {@link #call()} (what the
 * command line runs) is {@code start()}, then waiting for Ctrl-C or {@link #stop()}.
 */
@Command(name = "up", mixinStandardHelpOptions = true,
    description = {
        "Start the embedded stack and every service of flywheel.yaml, until Ctrl-C.",
        "Starts the embedded Kafka broker (KRaft) and schema registry, or connects to the cluster"
            + " that --config names; creates Flywheel's topics; starts every service the config"
            + " declares, with their HTTP API, /health and /metrics on one port (on 127.0.0.1"
            + " unless --http-host says otherwise); and runs until Ctrl-C, which stops everything"
            + " and exits with status 0."})
public final class UpCommand implements Callable<Integer> {

  /** Where data is kept when neither {@code --data-dir} nor {@code --temporary} is given. */
  public static final Path DEFAULT_DATA_DIR = Path.of(".flywheel", "data");

  /** PostgreSQL's port with {@code --postgres}, unless {@code --postgres-port} says otherwise. */
  public static final int DEFAULT_POSTGRES_PORT = 5432;

  private static final Logger log = LoggerFactory.getLogger(UpCommand.class);
  private static final String HOST = "127.0.0.1";
  /** The address HTTP binds to unless {@code --http-host} says otherwise: this machine only. */
  public static final String DEFAULT_HTTP_HOST = "127.0.0.1";
  private static final long SHUTDOWN_TIMEOUT_SECONDS = 60;

  @Spec private CommandSpec spec;

  @Option(names = "--kafka-port", paramLabel = "<port>",
      description = "Kafka's port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
  private int kafkaPort = 9092;

  @Option(names = "--registry-port", paramLabel = "<port>",
      description = "The schema registry's port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
  private int registryPort = 8081;

  @Option(names = "--data-dir", paramLabel = "<dir>",
      description = "Where topics, records, schemas and tables are kept across runs"
          + " (default: .flywheel/data in the working directory).")
  private Path dataDir;

  @Option(names = "--temporary",
      description = "Use fresh temporary folders, deleted on exit, instead of --data-dir.")
  private boolean temporary;

  @Option(names = "--postgres",
      description = "Also start PostgreSQL (wal_level=logical, for change data capture).")
  private boolean postgres;

  @Option(names = {"-c", "--config"}, paramLabel = "<flywheel.yaml>",
      description = "Sources, feature groups, models and the cluster to use (default:"
          + " flywheel.yaml in the working directory, if there is one). With kafka.bootstrapServers"
          + " set, Flywheel connects to that cluster instead of starting the embedded one.")
  private Path configFile;

  @Option(names = "--http-port", paramLabel = "<port>",
      description = "The port every service's HTTP API, /health and /metrics share; 0 picks a"
          + " free one (default: http.port of the config, else 8080).")
  private Integer httpPort;

  @Option(names = "--http-host", paramLabel = "<address>",
      description = "The address the HTTP API binds to: 127.0.0.1 answers this machine only,"
          + " 0.0.0.0 every interface (default: ${DEFAULT-VALUE}, as Kafka and the schema"
          + " registry). Without a security: section anyone who reaches it can ingest and"
          + " trigger training.")
  private String httpHost = DEFAULT_HTTP_HOST;

  @Option(names = "--postgres-port", paramLabel = "<port>",
      description = "PostgreSQL's port with --postgres; 0 picks a free one (default: "
          + "${DEFAULT-VALUE}).")
  private int postgresPort = DEFAULT_POSTGRES_PORT;

  private final UntilStopped until =
      new UntilStopped(Duration.ofSeconds(SHUTDOWN_TIMEOUT_SECONDS));

  /** Used by picocli; configure it by parsing arguments through a {@code CommandLine}. */
  public UpCommand() {}

  /**
   * Runs {@code flywheel up}: {@link #start()}, then waits until Ctrl-C (or another signal that
   * ends the JVM) or {@link #stop()}, and stops the stack.
   *
   * @return 0 after a clean stop, 1 when the stack could not start (the reason is printed)
   */
  @Override
  public Integer call() throws InterruptedException {
    checkOptions();
    return until.run("flywheel up", this::runUntilStopped);
  }

  private int runUntilStopped() throws InterruptedException {
    Running running;
    try {
      running = start();
    } catch (StartupException e) {
      log.debug("flywheel up could not start", e);
      err().println("flywheel up: " + e.getMessage());
      err().flush();
      return 1;
    }
    try (running) {
      until.awaitStop();
      out().println("stopping");
      out().flush();
    }
    return 0;
  }

  /**
   * Makes {@link #call()} stop the stack and return 0, as Ctrl-C does; before the stack is up, it
   * stops as soon as it is. Safe from any thread.
   */
  public void stop() {
    until.stop();
  }

  /**
   * Starts the stack, creates Flywheel's topics, prints how to connect and returns at once.
   *
   * @return the running stack; closing it stops everything
   * @throws StartupException when a port is in use or a component cannot start, saying what to do
   * @throws ParameterException when {@code --temporary} and {@code --data-dir} are both given
   */
  public Running start() {
    checkOptions();
    long begin = System.nanoTime();
    FlywheelYaml yaml = loadConfig();
    PlatformConfig config = yaml.config();
    int port = httpPort != null ? httpPort : config.http().port();
    HttpSecurity security = checkSections(yaml, config, port);
    checkPortFree(httpHost, port, "HTTP", "--http-port");
    Devstack devstack = null;
    Path keptDir = null;
    String bootstrap;
    String registryUrl;
    if (config.kafka().isEmbedded()) {
      checkPortFree(HOST, kafkaPort, "Kafka", "--kafka-port");
      checkPortFree(HOST, registryPort, "schema registry", "--registry-port");
      if (postgres) {
        checkPortFree(HOST, postgresPort, "PostgreSQL", "--postgres-port");
      }
      keptDir = temporary ? null : (dataDir == null ? DEFAULT_DATA_DIR : dataDir)
          .toAbsolutePath().normalize();
      Devstack.Builder builder = Devstack.builder()
          .kafkaPort(kafkaPort)
          .registryPort(registryPort)
          .postgresPort(postgresPort)
          .withPostgres(postgres);
      if (keptDir != null) {
        builder.dataDir(keptDir);
      }
      devstack = builder.build();
      try {
        devstack.start();
      } catch (RuntimeException e) {
        devstack.close();
        throw new StartupException("the devstack could not start: " + rootMessage(e)
            + (keptDir == null ? "" : " (is another 'flywheel up' using " + keptDir + "? stop it,"
            + " or pass --data-dir <dir> or --temporary)"), e);
      }
      bootstrap = devstack.bootstrapServers();
      registryUrl = devstack.schemaRegistryUrl();
    } else {
      bootstrap = config.kafka().bootstrapServers();
      registryUrl = config.kafka().schemaRegistryUrl();
    }
    Running running = new Running(devstack);
    try {
      Path stateDir = config.stateDir();
      if (temporary) {
        running.temporaryState = Files.createTempDirectory("flywheel-up");
        stateDir = running.temporaryState.resolve("state");
      }
      Map<String, Object> kafka = new HashMap<>(config.kafka().properties());
      kafka.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      Map<String, Object> serdeConfig = new HashMap<>(config.kafka().properties());
      serdeConfig.put(AvroSerdeConfig.SCHEMA_REGISTRY_URL, registryUrl);
      Topics.Builder topicsBuilder = Topics.builder(AvroSerdes.fromConfig(serdeConfig))
          .partitions(config.kafka().partitions())
          .replicationFactor(config.kafka().replicationFactor());
      if (config.kafka().topicPrefix() != null) {
        topicsBuilder.prefix(config.kafka().topicPrefix());
      }
      Topics topics = topicsBuilder.build();
      String topicReport = createTopics(kafka, topics);
      FlywheelRuntime.Builder runtime = FlywheelRuntime.builder()
          .kafka(kafka)
          .topics(topics)
          .host(httpHost)
          .httpPort(port)
          .security(security);
      ServiceCatalog catalog;
      try {
        ServiceCatalog.Builder catalogBuilder = ServiceCatalog.builder()
            .yaml(yaml.text())
            .configName(yaml.name())
            .configDir(yaml.dir())
            .config(config.withCluster(bootstrap, registryUrl).withHttpPort(port))
            .stateDir(stateDir);
        if (temporary && devstack != null) {
          // models and datasets of a throwaway stack go with it; a cluster that outlives this run
          // keeps its registry, whose versions point at the artifacts: those stay
          catalogBuilder.scratchDir(running.temporaryState);
        }
        catalog = catalogBuilder.build();
      } catch (IllegalArgumentException e) {
        throw new StartupException(e.getMessage(), e);
      }
      running.skipped = catalog.addAll(runtime);
      running.runtime = runtime.build().start();
      running.readyMs = (System.nanoTime() - begin) / 1_000_000;
      printConnectionHelp(bootstrap, registryUrl, devstack, topics, topicReport, keptDir,
          running);
      return running;
    } catch (StartupException e) {
      running.close();
      throw e;
    } catch (IOException | RuntimeException e) {
      running.close();
      throw new StartupException("Flywheel could not start: " + rootMessage(e), e);
    }
  }

  /**
   * Parses {@code security:} and every service's sections before anything starts, so that a
   * wrong setting stops {@code up} before the stack starts or topics are created on a cluster
   * (the catalogue is built again once the cluster is known; with the embedded stack, its
   * addresses are not known yet and placeholders stand in: nothing connects to them here).
   *
   * @return the HTTP security {@code security:} configures
   * @throws StartupException naming the file, the section and the setting
   */
  private HttpSecurity checkSections(FlywheelYaml yaml, PlatformConfig config, int port) {
    try {
      HttpSecurity security = HttpSecurity.parse(yaml.text(), System.getenv(), yaml.dir());
      PlatformConfig cluster = config.kafka().isEmbedded()
          ? config.withCluster(HOST + ":" + kafkaPort, "http://" + HOST + ":" + registryPort)
          : config;
      ServiceCatalog.builder()
          .yaml(yaml.text())
          .configName(yaml.name())
          .configDir(yaml.dir())
          .config(cluster.withHttpPort(port))
          .build();
      return security;
    } catch (IllegalArgumentException e) {
      throw new StartupException(e.getMessage(), e);
    }
  }

  private FlywheelYaml loadConfig() {
    try {
      return FlywheelYaml.load(configFile, System.getenv());
    } catch (IllegalArgumentException e) {
      throw new StartupException(e.getMessage(), e);
    }
  }

  private void checkOptions() {
    if (temporary && dataDir != null) {
      String message = "--temporary and --data-dir exclude each other: pick one";
      throw spec != null ? new ParameterException(spec.commandLine(), message)
          : new IllegalArgumentException(message);
    }
  }

  private static String createTopics(Map<String, Object> kafka, Topics topics) {
    try (Admin admin = Admin.create(kafka)) {
      TopicBootstrap.Result result = new TopicBootstrap(admin).ensure(topics.all());
      if (!result.consistent()) {
        log.warn("existing topics differ from the catalogue:\n{}", result.describe());
      }
      if (result.alreadyPresent().isEmpty()) {
        return "created " + result.created().size();
      }
      return result.created().isEmpty()
          ? result.alreadyPresent().size() + " already present"
          : "created " + result.created().size() + ", " + result.alreadyPresent().size()
              + " already present";
    }
  }

  private void printConnectionHelp(String bootstrap, String registryUrl, Devstack devstack,
      Topics topics, String topicReport, Path keptDir, Running running) {
    long readyMs = running.readyMs;
    PrintWriter out = out();
    out.println();
    out.println(devstack == null ? "Flywheel on an external cluster" : "Flywheel devstack");
    out.printf("  Kafka bootstrap servers  %s%n", bootstrap);
    out.printf("  Schema registry          %s%n", registryUrl);
    if (devstack != null) {
      devstack.postgres().ifPresent(pg -> out.printf(
          "  PostgreSQL               %s  (user %s, password %s, wal_level=logical)%n",
          pg.jdbcUrl(), pg.user(), pg.password()));
      out.printf("  Data                     %s%n", keptDir == null
          ? "temporary, deleted on exit"
          : keptDir + " (kept across runs)");
    }
    out.printf("  HTTP                     %s  (/health, /metrics)%n",
        FlywheelRuntime.httpAddress(running.runtime.httpHost(), running.runtime.httpPort()));
    printServices(out, running.runtime, running.skipped);
    out.printf("  Topics                   %d Flywheel topics (%s)%n", topics.all().size(),
        topicReport);
    out.println();
    out.println("Try it:");
    out.printf("  kcat -b %s -L%n", bootstrap);
    out.printf("  kcat -b %s -C -t %s -s value=avro -r %s%n", bootstrap,
        topics.predictions().name(), registryUrl);
    out.println();
    out.println("Kafka UI (e.g. docker run --network host -e SERVER_PORT=8090 ..."
        + " ghcr.io/kafbat/kafka-ui):");
    out.println("  KAFKA_CLUSTERS_0_NAME=flywheel");
    out.printf("  KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS=%s%n", bootstrap);
    out.printf("  KAFKA_CLUSTERS_0_SCHEMAREGISTRY=%s%n", registryUrl);
    out.println();
    out.printf("ready in %d ms; press Ctrl-C to stop%n", readyMs);
    out.flush();
  }

  /**
   * One line per service: its name, its health now and the routes it serves on the shared server;
   * then one line per skipped service saying which section of flywheel.yaml would enable it.
   */
  static void printServices(PrintWriter out, FlywheelRuntime runtime, List<String> skipped) {
    out.printf("  Services                 %s%n", runtime.services().isEmpty() ? "none"
        : runtime.services().size() + " running");
    Object health = runtime.health().get("services");
    Map<?, ?> byName = health instanceof Map<?, ?> m ? m : Map.of();
    for (PlatformService service : runtime.services()) {
      Object state = byName.get(service.name()) instanceof Map<?, ?> h ? h.get("status") : "?";
      List<String> routes = runtime.routes(service.name());
      out.printf("    %-9s %-5s %s%n", service.name(), state,
          routes.isEmpty() ? "(no HTTP routes; metrics on /metrics)" : String.join(", ", routes));
    }
    for (String note : skipped) {
      out.printf("    %s%n", note);
    }
  }

  private static void checkPortFree(String host, int port, String component, String option) {
    if (port == 0) {
      return;
    }
    try (ServerSocket probe = new ServerSocket(port, 1, InetAddress.getByName(host))) {
      probe.setReuseAddress(true);
    } catch (BindException e) {
      if (e.getMessage() == null || !e.getMessage().contains("in use")) {
        // e.g. "Cannot assign requested address": the host is not an address of this machine
        throw new StartupException(component + " cannot listen on " + host + ":" + port + ": "
            + e.getMessage() + " (is " + host + " an address of this machine?)", e);
      }
      throw new StartupException(component + "'s port " + port + " on " + host
          + " is already in use (another Kafka, registry, database or 'flywheel up'?): stop it,"
          + " or pass " + option + " <port> (0 picks a free one)", e);
    } catch (IOException e) {
      throw new StartupException(component + " cannot listen on " + host + ":" + port + ": "
          + e, e);
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root == e || root.getMessage() == null
        ? String.valueOf(e.getMessage())
        : e.getMessage() + " (" + root.getMessage() + ")";
  }

  private PrintWriter out() {
    return spec != null ? spec.commandLine().getOut() : new PrintWriter(System.out, true);
  }

  private PrintWriter err() {
    return spec != null ? spec.commandLine().getErr() : new PrintWriter(System.err, true);
  }

  /** A started {@code flywheel up}: the stack, until {@link #close()}. */
  public static final class Running implements AutoCloseable {

    private final Devstack devstack;
    private FlywheelRuntime runtime;
    private List<String> skipped = List.of();
    private Path temporaryState;
    private long readyMs;

    private Running(Devstack devstack) {
      this.devstack = devstack;
    }

    /**
     * The embedded stack: its bootstrap servers, registry URL and components.
     *
     * @throws IllegalStateException when Flywheel runs on an external cluster
     */
    public Devstack devstack() {
      if (devstack == null) {
        throw new IllegalStateException("flywheel up runs on an external cluster");
      }
      return devstack;
    }

    /** The services and their shared HTTP server. */
    public FlywheelRuntime runtime() {
      return runtime;
    }

    /** Milliseconds from {@link UpCommand#start()} until the stack was up and topics created. */
    public long readyMs() {
      return readyMs;
    }

    /** Stops the services, then the stack (deleting it when temporary). Idempotent. */
    @Override
    public void close() {
      if (runtime != null) {
        runtime.close();
      }
      if (devstack != null) {
        devstack.close();
      }
      if (temporaryState != null) {
        deleteRecursively(temporaryState);
        temporaryState = null;
      }
    }

    private static void deleteRecursively(Path root) {
      try (Stream<Path> paths = Files.walk(root)) {
        paths.sorted(Comparator.reverseOrder()).forEach(p -> {
          try {
            Files.deleteIfExists(p);
          } catch (IOException e) {
            log.debug("could not delete {}", p, e);
          }
        });
      } catch (IOException e) {
        log.warn("could not delete the temporary state in {}: {}", root, e.getMessage());
      }
    }
  }

  /** {@code flywheel up} could not start; the message says why and what to do. */
  public static final class StartupException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    StartupException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
