package dev.flywheel.platform.demo;

import dev.flywheel.platform.UntilStopped;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code flywheel demo}: the fraud-detection loop end to end in one JVM (see {@link Demo}), with
 * a live view and a summary of what was measured.
 *
 * <p>Exit status: 0 when the loop closed within {@code --duration}; 1 when it did not (the stage
 * that did not happen is named) or the stack could not start; 2 when an option is wrong (a
 * {@code --rate} or {@code --duration} that is not positive), before anything starts. With {@code
 * --keep} the same status once Ctrl-C (or SIGTERM) stops the stack after the loop; Ctrl-C during
 * the loop ends it with 130.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = {
        "Run the fraud-detection example end to end and watch the loop close.",
        "Starts the embedded Kafka broker, the schema registry and every service in one JVM,"
            + " sends synthetic card payments with late labels through HTTP ingest, trains and"
            + " promotes v1, shifts the traffic, and watches drift detection retrain, promote and"
            + " serve v2 by itself. With --keep it keeps running until Ctrl-C, which exits with"
            + " status 0 once the loop closed."})
public final class DemoCommand implements Callable<Integer> {

  private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(60);

  @Spec private CommandSpec spec;

  @Option(names = "--rate", paramLabel = "<payments/s>",
      description = "New card payments per second (default: ${DEFAULT-VALUE}).")
  private double rate = 200;

  @Option(names = "--duration", paramLabel = "<time>", converter = DurationConverter.class,
      description = "The time the loop has to close in, e.g. 3m, 180s or PT3M"
          + " (default: 3m).")
  private Duration duration = Duration.ofMinutes(3);

  @Option(names = "--seed", description = "Seed of the synthetic traffic (default:"
      + " ${DEFAULT-VALUE}).")
  private long seed = 42;

  @Option(names = "--keep", description = "Leave everything running (traffic included) after"
      + " the loop closed, print the addresses, and stop on Ctrl-C.")
  private boolean keep;

  @Option(names = "--http-port", paramLabel = "<port>",
      description = "The port of the services' HTTP API; 0 picks a free one (default:"
          + " ${DEFAULT-VALUE}).")
  private int httpPort = 8080;

  @Option(names = "--kafka-port", paramLabel = "<port>",
      description = "Kafka's port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
  private int kafkaPort = 0;

  @Option(names = "--registry-port", paramLabel = "<port>",
      description = "The schema registry's port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
  private int registryPort = 0;

  /** Used by picocli. */
  public DemoCommand() {}

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    // wrong values are usage errors (2), found before anything starts
    if (!(rate > 0) || Double.isInfinite(rate)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "flywheel demo: --rate must be"
          + " a positive number of payments per second, got " + rate + "; write e.g. --rate 200");
    }
    boolean terminal = System.console() != null;
    if (terminal) {
      // the panel is redrawn in place: only warnings may write between two frames
      org.slf4j.Logger flywheel = org.slf4j.LoggerFactory.getLogger("dev.flywheel");
      if (flywheel instanceof ch.qos.logback.classic.Logger logback) {
        logback.setLevel(ch.qos.logback.classic.Level.WARN);
      }
    }
    Demo demo;
    try {
      demo = Demo.builder().rate(rate).budget(duration).seed(seed).httpPort(httpPort)
          .kafkaPort(kafkaPort).registryPort(registryPort).out(out).ansi(terminal).build();
    } catch (RuntimeException e) {
      err.println("flywheel demo: could not start: " + e.getMessage());
      err.flush();
      return 1;
    }
    // in place before the start: Ctrl-C while the stack starts (seconds) closes what started and
    // deletes the demo's folder (close() waits for start() to return), and the JVM ends with 130
    Thread hook = new Thread(demo::close, "flywheel-demo-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      out.println("flywheel demo: starting Kafka, the schema registry and every service...");
      out.flush();
      demo.start();
    } catch (RuntimeException e) {
      // start() closed what it had started
      demo.close();
      removeHook(hook);
      err.println("flywheel demo: could not start: " + e.getMessage()
          + (httpPort != 0 && portInUse(e) ? " (is port " + httpPort + " in use? pass"
              + " --http-port 0)" : ""));
      err.flush();
      return 1;
    }
    try {
      Demo.Result result = demo.run();
      DemoSummary.print(result, out);
      if (!result.closed()) {
        err.println("flywheel demo: the loop did not close within " + format(duration)
            + ": no " + result.missingStage() + ". Give it more time (--duration), or a lower"
            + " --rate on a busy machine.");
        err.flush();
      }
      int status = result.closed() ? 0 : 1;
      if (keep) {
        return keepUntilStopped(new UntilStopped(SHUTDOWN_TIMEOUT), status, demo, () -> {
          removeHook(hook);
          out.println();
          out.println("Still running (--keep); Ctrl-C stops everything.");
          out.printf("  Kafka bootstrap servers  %s%n", demo.bootstrapServers());
          out.printf("  Schema registry          %s%n", demo.schemaRegistryUrl());
          out.printf("  HTTP                     %s  (/health, /metrics, /models, /predict)%n",
              demo.httpUrl());
          out.println("Kafka UI: KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS=" + demo.bootstrapServers()
              + " KAFKA_CLUSTERS_0_SCHEMAREGISTRY=" + demo.schemaRegistryUrl());
          out.flush();
        });
      }
      return status;
    } finally {
      demo.close();
      removeHook(hook);
    }
  }

  /**
   * What {@code --keep} does once the loop is over: {@code announce} (the hook that stops the
   * stack on Ctrl-C is in place by then), wait for Ctrl-C, SIGTERM or {@link UntilStopped#stop()},
   * close the demo and end with the loop's {@code status}, not the 130 of a JVM ended by a
   * signal: the loop's outcome does not change because it was stopped afterwards.
   */
  static int keepUntilStopped(UntilStopped until, int status, AutoCloseable demo,
      Runnable announce) throws InterruptedException {
    return until.run("flywheel demo", () -> {
      try (demo) {
        announce.run();
        until.awaitStop();
      } catch (InterruptedException e) {
        throw e;
      } catch (Exception e) {
        throw new IllegalStateException("stopping the demo failed: " + e.getMessage(), e);
      }
      return status;
    });
  }

  /** Whether {@code e} comes from a port that could not be bound. */
  private static boolean portInUse(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof java.net.BindException
          || (t.getMessage() != null && t.getMessage().contains("in use"))) {
        return true;
      }
    }
    return false;
  }

  private static void removeHook(Thread hook) {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // the hook is running and closes the demo
    }
  }

  private static String format(Duration d) {
    return d.toSeconds() + " s";
  }

  /** Parses {@code 3m}, {@code 180s}, {@code 90} (seconds) or ISO-8601 {@code PT3M}. */
  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      String v = value.trim().toLowerCase(Locale.ROOT);
      try {
        if (v.startsWith("pt") || v.startsWith("p")) {
          return positive(value, Duration.parse(v.toUpperCase(Locale.ROOT)));
        }
        if (v.endsWith("ms")) {
          return positive(value,
              Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2))));
        }
        if (v.endsWith("s")) {
          return positive(value,
              Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1))));
        }
        if (v.endsWith("m")) {
          return positive(value,
              Duration.ofMinutes(Long.parseLong(v.substring(0, v.length() - 1))));
        }
        return positive(value, Duration.ofSeconds(Long.parseLong(v)));
      } catch (NumberFormatException | DateTimeParseException e) {
        throw new CommandLine.TypeConversionException("'" + value + "' is not a duration; write"
            + " e.g. 3m, 180s or PT3M");
      }
    }

    private static Duration positive(String value, Duration d) {
      if (d.isNegative() || d.isZero()) {
        throw new CommandLine.TypeConversionException("'" + value + "' is not a positive"
            + " duration: the loop needs time to close; write e.g. 3m, 180s or PT3M");
      }
      return d;
    }
  }
}
