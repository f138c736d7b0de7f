package dev.flywheel.platform.demo;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
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
 * that did not happen is named) or the stack could not start.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = {
        "Run the fraud-detection example end to end in one JVM: the embedded Kafka and schema",
        "registry, every service, synthetic card payments with late labels through HTTP ingest;",
        "train and promote v1, shift the traffic, and watch drift detection retrain, promote and",
        "serve v2 by itself."})
public final class DemoCommand implements Callable<Integer> {

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
      out.println("flywheel demo: starting Kafka, the schema registry and every service...");
      out.flush();
      demo.start();
    } catch (RuntimeException e) {
      err.println("flywheel demo: could not start: " + e.getMessage()
          + (httpPort != 0 ? " (is port " + httpPort + " in use? pass --http-port 0)" : ""));
      err.flush();
      return 1;
    }
    CountDownLatch stop = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      stop.countDown();
      demo.close();
    }, "flywheel-demo-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      Demo.Result result = demo.run();
      DemoSummary.print(result, out);
      if (!result.closed()) {
        err.println("flywheel demo: the loop did not close within " + format(duration)
            + ": no " + result.missingStage() + ". Give it more time (--duration), or a lower"
            + " --rate on a busy machine.");
        err.flush();
      }
      if (keep) {
        out.println();
        out.println("Still running (--keep); Ctrl-C stops everything.");
        out.printf("  Kafka bootstrap servers  %s%n", demo.bootstrapServers());
        out.printf("  Schema registry          %s%n", demo.schemaRegistryUrl());
        out.printf("  HTTP                     %s  (/health, /metrics, /models, /predict)%n",
            demo.httpUrl());
        out.println("Kafka UI: KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS=" + demo.bootstrapServers()
            + " KAFKA_CLUSTERS_0_SCHEMAREGISTRY=" + demo.schemaRegistryUrl());
        out.flush();
        stop.await();
      }
      return result.closed() ? 0 : 1;
    } finally {
      demo.close();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook closes the demo
      }
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
          return Duration.parse(v.toUpperCase(Locale.ROOT));
        }
        if (v.endsWith("ms")) {
          return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
        }
        if (v.endsWith("s")) {
          return Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1)));
        }
        if (v.endsWith("m")) {
          return Duration.ofMinutes(Long.parseLong(v.substring(0, v.length() - 1)));
        }
        return Duration.ofSeconds(Long.parseLong(v));
      } catch (NumberFormatException | DateTimeParseException e) {
        throw new CommandLine.TypeConversionException("'" + value + "' is not a duration; write"
            + " e.g. 3m, 180s or PT3M");
      }
    }
  }
}
