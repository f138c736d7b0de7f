package dev.flywheel.platform;

import dev.flywheel.platform.runtime.FlywheelRuntime;
import dev.flywheel.platform.runtime.HttpSecurity;
import dev.flywheel.platform.runtime.PlatformConfig;
import dev.flywheel.platform.runtime.ServiceCatalog;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code flywheel run <service>}: runs one of Flywheel's services against an existing cluster, with
 * its HTTP API, {@code /health} and {@code /metrics} on its own port, until Ctrl-C — for
 * deployments that run each service on its own (more instances of one service share its
 * partitions). The cluster comes from {@code kafka.bootstrapServers} and {@code
 * kafka.schemaRegistryUrl} of the config or from {@code FLYWHEEL_BOOTSTRAP_SERVERS} and {@code
 * FLYWHEEL_SCHEMA_REGISTRY_URL}; no embedded broker is started.
 *
 * <p>Programs and tests can run it without blocking: {@link #start()} returns the running
 * runtime; closing it stops the service.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
    description = {
        "Run one service against an existing cluster, until Ctrl-C.",
        "Runs registry, ingest, features, serving, training or drift against the cluster of"
            + " --config, with its HTTP API, /health and /metrics on its own port (on every"
            + " interface unless --http-host says otherwise), until Ctrl-C, which stops it and"
            + " exits with status 0."})
public final class RunCommand implements Callable<Integer> {

  private static final Logger log = LoggerFactory.getLogger(RunCommand.class);
  /**
   * The address HTTP binds to unless {@code --http-host} says otherwise: every interface, as a
   * container's port mapping or a Kubernetes Service needs.
   */
  public static final String DEFAULT_HTTP_HOST = "0.0.0.0";
  private static final long SHUTDOWN_TIMEOUT_SECONDS = 60;

  @Spec private CommandSpec spec;

  @Parameters(index = "0", paramLabel = "<service>",
      description = "registry, ingest, features, serving, training or drift.")
  private String service;

  @Option(names = {"-c", "--config"}, paramLabel = "<flywheel.yaml>",
      description = "The cluster (kafka.bootstrapServers, kafka.schemaRegistryUrl) and the"
          + " service's sections (default: flywheel.yaml in the working directory).")
  private Path configFile;

  @Option(names = "--http-port", paramLabel = "<port>",
      description = "The service's HTTP port; 0 picks a free one (default: http.port of the"
          + " config, else 8080).")
  private Integer httpPort;

  @Option(names = "--http-host", paramLabel = "<address>",
      description = "The address the HTTP API binds to: 0.0.0.0 every interface, as containers"
          + " need, 127.0.0.1 this machine only (default: ${DEFAULT-VALUE}).")
  private String httpHost = DEFAULT_HTTP_HOST;

  @Option(names = "--advertised-host", paramLabel = "<host>",
      description = "The host other instances reach this one at, for routed feature lookups"
          + " (default: FLYWHEEL_ADVERTISED_HOST, else 127.0.0.1).")
  private String advertisedHost;

  @Option(names = "--state-dir", paramLabel = "<dir>",
      description = "Where the service keeps its state, under <dir>/<service> (default: stateDir"
          + " of the config, else .flywheel/state).")
  private Path stateDir;

  private final UntilStopped until =
      new UntilStopped(Duration.ofSeconds(SHUTDOWN_TIMEOUT_SECONDS));

  /** Used by picocli; configure it by parsing arguments through a {@code CommandLine}. */
  public RunCommand() {}

  /**
   * Starts the service, then waits until Ctrl-C (or another signal that ends the JVM) or {@link
   * #stop()}, and stops it.
   *
   * @return 0 after a clean stop, 1 when it could not start (the reason is printed)
   * @throws CommandLine.ParameterException (exit 2) when there is no such service
   */
  @Override
  public Integer call() throws InterruptedException {
    if (spec != null && !ServiceCatalog.START_ORDER.contains(service)) {
      // a typo, not a failure to start: usage (2), so a supervisor does not retry it
      throw new CommandLine.ParameterException(spec.commandLine(),
          "flywheel run: there is no service '" + service + "'; the services are "
              + String.join(", ", ServiceCatalog.START_ORDER));
    }
    return until.run("flywheel run " + service, this::runUntilStopped);
  }

  private int runUntilStopped() throws InterruptedException {
    FlywheelRuntime runtime;
    try {
      runtime = start();
    } catch (IllegalArgumentException | IllegalStateException e) {
      log.debug("flywheel run could not start", e);
      err().println("flywheel run " + service + ": " + e.getMessage());
      err().flush();
      return 1;
    }
    try (runtime) {
      until.awaitStop();
      out().println("stopping " + service);
      out().flush();
    }
    return 0;
  }

  /** Makes {@link #call()} stop the service and return 0, as Ctrl-C does. Safe from any thread. */
  public void stop() {
    until.stop();
  }

  /**
   * Starts the service and its HTTP server, prints where it listens and returns at once.
   *
   * @return the running service; closing it stops it
   * @throws IllegalArgumentException when the service is unknown or not configured, or the config
   *     is wrong, saying what to fix
   * @throws IllegalStateException when the config names no cluster, or the service cannot start
   */
  public FlywheelRuntime start() {
    Map<String, String> env = System.getenv();
    FlywheelYaml yaml = FlywheelYaml.load(configFile, env);
    PlatformConfig config = yaml.config();
    if (config.kafka().isEmbedded()) {
      throw new IllegalStateException("flywheel run joins an existing cluster: set"
          + " kafka.bootstrapServers and kafka.schemaRegistryUrl in flywheel.yaml (or"
          + " FLYWHEEL_BOOTSTRAP_SERVERS and FLYWHEEL_SCHEMA_REGISTRY_URL); 'flywheel up' runs the"
          + " embedded one with every service");
    }
    if (httpPort != null) {
      config = config.withHttpPort(httpPort);
    }
    String host = advertisedHost != null ? advertisedHost
        : env.getOrDefault("FLYWHEEL_ADVERTISED_HOST", "127.0.0.1");
    ServiceCatalog catalog = ServiceCatalog.builder()
        .yaml(yaml.text())
        .configName(yaml.name())
        .configDir(yaml.dir())
        .config(config)
        .stateDir(stateDir != null ? stateDir : config.stateDir())
        .advertisedHost(host)
        .build();
    FlywheelRuntime.Builder builder = FlywheelRuntime.builder().host(httpHost)
        .security(HttpSecurity.parse(yaml.text(), env, yaml.dir()));
    catalog.add(builder, service);
    FlywheelRuntime runtime;
    try {
      runtime = builder.build().start();
    } catch (RuntimeException e) {
      throw new IllegalStateException(service + " could not start: " + e.getMessage(), e);
    }
    PrintWriter out = out();
    out.printf("Flywheel %s on %s (schema registry %s)%n", service,
        config.kafka().bootstrapServers(), config.kafka().schemaRegistryUrl());
    out.printf("  HTTP                     %s  (/health, /metrics)%n",
        FlywheelRuntime.httpAddress(runtime.httpHost(), runtime.httpPort()));
    UpCommand.printServices(out, runtime, List.of());
    out.println("running; press Ctrl-C to stop");
    out.flush();
    return runtime;
  }

  private PrintWriter out() {
    return spec != null ? spec.commandLine().getOut() : new PrintWriter(System.out, true);
  }

  private PrintWriter err() {
    return spec != null ? spec.commandLine().getErr() : new PrintWriter(System.err, true);
  }
}
