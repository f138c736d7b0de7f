package dev.flywheel.platform;

import dev.flywheel.ingest.file.FileFormat;
import dev.flywheel.ingest.file.FileProducer;
import dev.flywheel.ingest.file.FileProducerSummary;
import dev.flywheel.ingest.file.InvalidLine;
import dev.flywheel.ingest.file.ProgressListener;
import dev.flywheel.ingest.source.InvalidSourceException;
import dev.flywheel.ingest.source.LabelSource;
import dev.flywheel.ingest.source.SourceCatalog;
import dev.flywheel.ingest.source.SourceDefinition;
import dev.flywheel.platform.cli.CommandClients;
import dev.flywheel.registry.SchemaRegistryException;
import dev.flywheel.serde.AvroSerdeConfig;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.ClusterOptions;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code flywheel produce <source> --file F}: produces a JSON Lines or CSV file to a source's data
 * topic with {@link FileProducer}, showing a progress bar (bytes of the file, records/s, ETA), then
 * lists the invalid lines (which went to the source's dead-letter topic) and a summary.
 *
 * <p>{@code flywheel produce labels --file F} produces {@link dev.flywheel.events.Label} events
 * to the labels topic instead ({@link FileProducer.Builder#labels()}), as {@code POST /labels}
 * does; their dead letters go to the labels topic's dead-letter topic, which it creates if
 * missing. The labels topic itself must exist ({@code flywheel up} and the ingest service create
 * it), which also shows that {@code --prefix} is right.
 *
 * <p>Exit status: 0 when every line was produced (or invalid ones were allowed with {@code
 * --allow-invalid}); {@value #EXIT_INVALID} when a line was invalid; {@value #EXIT_STOPPED} when
 * Ctrl-C stopped it (after flushing what was accepted and printing the summary); 1 when it could
 * not run (unknown source, unreachable broker or registry, unreadable or malformed file) or a
 * send failed.
 */
@Command(name = "produce", mixinStandardHelpOptions = true,
    description = {
        "Produce a JSON Lines or CSV file to a source's topic or the labels topic.",
        "Each line of a .jsonl/.ndjson or .csv file is validated against the source's latest"
            + " schema; invalid lines go to its dead-letter topic and are listed.",
        "'flywheel produce labels --file labels.csv' produces Label events (event_id,"
            + " event_time, value, optional target, entity_id, labelled_event_time, source) to"
            + " the labels topic, as POST /labels does; invalid lines go to its dead-letter"
            + " topic."})
public final class ProduceCommand implements Callable<Integer> {

  /** Exit status when a line was invalid and {@code --allow-invalid} was not given. */
  public static final int EXIT_INVALID = 3;

  /** Exit status when Ctrl-C stopped the run (128 + SIGINT, as shells report it). */
  public static final int EXIT_STOPPED = 130;

  private static final Logger log = LoggerFactory.getLogger(ProduceCommand.class);
  private static final long SHUTDOWN_TIMEOUT_SECONDS = 60;

  @Spec private CommandSpec spec;

  @Parameters(index = "0", paramLabel = "<source>",
      description = "The source to produce to, e.g. card-tx (added with 'flywheel sources add'),"
          + " or labels for Label events.")
  private String sourceName;

  @Option(names = "--file", required = true, paramLabel = "<file>",
      description = "The file: .jsonl or .ndjson (one JSON object per line) or .csv (header row).")
  private Path file;

  @Option(names = "--allow-invalid",
      description = "Exit with status 0 even when lines were invalid (they still go to the"
          + " dead-letter topic).")
  private boolean allowInvalid;

  @Mixin private ClusterOptions cluster;

  @Option(names = "--show-invalid", paramLabel = "<n>",
      description = "How many invalid lines to list (default: ${DEFAULT-VALUE}).")
  private int showInvalid = 20;

  @Option(names = "--no-progress",
      description = "Do not draw the progress bar (it is only drawn on a terminal anyway).")
  private boolean noProgress;

  private final CountDownLatch finished = new CountDownLatch(1);
  private volatile FileProducer running;
  private volatile boolean stopRequested;
  private volatile int exitCode = 1;

  /** Used by picocli; configure it by parsing arguments through a {@code CommandLine}. */
  public ProduceCommand() {}

  /**
   * Produces the file and prints the invalid lines and the summary; Ctrl-C stops reading, flushes
   * and prints the summary before the JVM ends.
   *
   * @return the exit status described on the class
   */
  @Override
  public Integer call() {
    // Ctrl-C only asks the run to stop, waits for its summary, then ends the JVM with the
    // command's status (a JVM ended by a signal would otherwise report 130 without the summary)
    Thread hook = new Thread(() -> {
      stop();
      try {
        if (!finished.await(SHUTDOWN_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
          log.warn("the file producer did not flush within {} s; exiting anyway",
              SHUTDOWN_TIMEOUT_SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      System.out.flush();
      System.err.flush();
      Runtime.getRuntime().halt(exitCode);
    }, "flywheel-produce-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      exitCode = run();
    } finally {
      out().flush();
      err().flush();
      finished.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running; it ends the JVM with exitCode
      }
    }
    return exitCode;
  }

  /** Stops a running produce as Ctrl-C does: stop reading, flush, summarize. Any thread. */
  public void stop() {
    stopRequested = true;
    FileProducer producer = running;
    if (producer != null) {
      producer.stop();
    }
  }

  private int run() {
    if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
      return fail("cannot read file '" + file + "': it does not exist or is not a readable file");
    }
    try {
      FileFormat.of(file);
    } catch (IllegalArgumentException e) {
      return fail(e.getMessage());
    }
    boolean labels = LabelSource.NAME.equals(sourceName);
    AvroSerdes serdes;
    Topics topics;
    try {
      Map<String, Object> registry = cluster.schemaRegistry();
      // sources are registered by 'flywheel sources add'; producing never registers a source's
      // schema. The Label schema is Flywheel's own: whoever writes labels first registers it, as
      // the ingest service does.
      registry.put(AvroSerdeConfig.AUTO_REGISTER_SCHEMAS, labels);
      serdes = AvroSerdes.fromConfig(registry);
      topics = cluster.topics(serdes);
    } catch (RuntimeException e) {
      return fail(e.getMessage());
    }
    try (Admin admin = Admin.create(CommandClients.admin(cluster))) {
      if (labels) {
        return produceLabels(admin, topics);
      }
      SourceCatalog catalog = new SourceCatalog(topics, serdes.client(), admin);
      Optional<SourceDefinition> source;
      try {
        source = catalog.find(sourceName);
      } catch (SchemaRegistryException | InvalidSourceException e) {
        return fail("cannot look up source '" + sourceName + "' in the schema registry at "
            + cluster.schemaRegistryUrl() + ": " + e.getMessage());
      }
      if (source.isEmpty()) {
        return fail("unknown source '" + sourceName + "': the registry at "
            + cluster.schemaRegistryUrl()
            + " has no source schema under " + catalog.subject(sourceName)
            + "; add it with 'flywheel sources add " + sourceName
            + " --schema <file.avsc> --key <field> --time <field>'"
            + (cluster.prefix().isEmpty() ? "" : " (with --prefix " + cluster.prefix() + ")"));
      }
      String topic = catalog.topic(sourceName).name();
      Optional<String> missing = missingTopic(admin, topic);
      if (missing.isPresent()) {
        return fail(missing.get());
      }
      return produce(topics, source.get());
    } catch (KafkaException e) {
      return fail("cannot reach Kafka at " + cluster.bootstrapServers() + ": " + e.getMessage());
    }
  }

  /**
   * The cluster's client properties (security, timeouts) for the file producer, without {@code
   * acks} and {@code enable.idempotence}: a cluster-wide {@code FLYWHEEL_KAFKA_ACKS=1} must not
   * weaken the producer's once-per-record delivery.
   */
  static Map<String, Object> securityAndTuning(Map<String, Object> kafka) {
    Map<String, Object> config = new HashMap<>(kafka);
    config.remove(ProducerConfig.ACKS_CONFIG);
    config.remove(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG);
    return config;
  }

  private Optional<String> missingTopic(Admin admin, String topic) {
    try {
      if (admin.listTopics().names().get(CommandClients.API_TIMEOUT_MS, TimeUnit.MILLISECONDS)
          .contains(topic)) {
        return Optional.empty();
      }
      if (LabelSource.NAME.equals(sourceName)) {
        return Optional.of("the labels topic " + topic + " does not exist on "
            + cluster.bootstrapServers() + "; 'flywheel up' and the ingest service create it:"
            + " start one of them first"
            + (cluster.prefix().isEmpty()
                ? ", or pass --prefix if the platform runs with a topic prefix"
                : ", or check --prefix " + cluster.prefix()));
      }
      return Optional.of("topic " + topic + " of source '" + sourceName + "' does not exist on "
          + cluster.bootstrapServers()
          + "; add the source again with 'flywheel sources add' to create it");
    } catch (ExecutionException | TimeoutException e) {
      return Optional.of("cannot reach Kafka at " + cluster.bootstrapServers() + " to check topic "
          + topic + ": " + (e.getCause() == null ? e.getMessage() : e.getCause().getMessage()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.of("interrupted while checking topic " + topic);
    }
  }

  /**
   * {@code produce labels}: the labels topic must exist (it is in the catalogue {@code flywheel
   * up} creates, and the ingest service creates it); its dead-letter topic is created if missing,
   * as the ingest service does.
   */
  private int produceLabels(Admin admin, Topics topics) {
    Topic<?, ?> labelsTopic = topics.labels();
    Optional<String> missing = missingTopic(admin, labelsTopic.name());
    if (missing.isPresent()) {
      return fail(missing.get());
    }
    try {
      new TopicBootstrap(admin).ensure(List.of(topics.dlq(labelsTopic)));
    } catch (KafkaException e) {
      return fail("cannot create " + topics.dlq(labelsTopic).name() + " on "
          + cluster.bootstrapServers() + ": " + e.getMessage());
    }
    return produce(topics, null);
  }

  /** Produces the file to {@code source}'s topic, or, when it is null, as labels. */
  private int produce(Topics topics, SourceDefinition source) {
    FileProducerSummary summary;
    boolean showProgress = !noProgress && System.console() != null;
    try (ProgressDisplay progress = ProgressDisplay.start(showProgress, sourceName, file)) {
      FileProducer.Builder builder = FileProducer.builder()
          .bootstrapServers(cluster.bootstrapServers())
          .producerConfig(securityAndTuning(cluster.kafka()))
          .topics(topics)
          .maxListedInvalid(Math.max(0, showInvalid))
          .progress(progress);
      FileProducer producer = (source == null ? builder.labels() : builder.source(source))
          .build();
      running = producer;
      if (stopRequested) {
        producer.stop();
      }
      summary = producer.produce(file);
    } catch (IOException e) {
      return fail("cannot read " + file + ": " + e.getMessage());
    } catch (IllegalArgumentException e) {
      return fail(e.getMessage());
    } catch (KafkaException e) {
      return fail("producing " + file + " failed: " + e.getMessage());
    } finally {
      running = null;
    }
    return report(topics, summary);
  }

  private int report(Topics topics, FileProducerSummary summary) {
    PrintWriter out = out();
    if (summary.invalid() > 0) {
      out.printf(Locale.ROOT, "%,d invalid %s, sent to %s:%n", summary.invalid(),
          summary.invalid() == 1 ? "line" : "lines",
          topics.dlq(summary.topic()).name());
      for (InvalidLine line : summary.invalidLines()) {
        out.println("  " + line);
      }
      long unlisted = summary.invalid() - summary.invalidLines().size();
      if (unlisted > 0) {
        out.printf(Locale.ROOT, "  ... and %,d more (--show-invalid <n> lists more)%n", unlisted);
      }
    }
    out.println(summary.describe());
    if (summary.failure() != null) {
      err().println("flywheel produce: a record was refused, so producing stopped: "
          + summary.failure());
      return 1;
    }
    if (summary.stopped()) {
      return EXIT_STOPPED;
    }
    if (summary.invalid() > 0 && !allowInvalid) {
      String dlq = topics.dlq(summary.topic()).name();
      err().println("flywheel produce: " + summary.invalid() + " invalid "
          + (summary.invalid() == 1 ? "line" : "lines") + " (listed above; see them all with"
          + " 'flywheel watch " + dlq + " --from-beginning --no-follow'). The valid lines were"
          + " produced, so fix the invalid ones in " + file + " and produce just those lines"
          + " again (from a file of their own: producing all of " + file.getFileName()
          + " again would repeat the valid ones), or pass --allow-invalid to accept this");
      return EXIT_INVALID;
    }
    return 0;
  }

  private int fail(String message) {
    err().println("flywheel produce: " + message);
    return 1;
  }

  private PrintWriter out() {
    return spec != null ? spec.commandLine().getOut() : new PrintWriter(System.out, true);
  }

  private PrintWriter err() {
    return spec != null ? spec.commandLine().getErr() : new PrintWriter(System.err, true);
  }

  /** The progress bar: bytes of the file (hence the ETA) and records per second. */
  private static final class ProgressDisplay implements ProgressListener, AutoCloseable {

    private final ProgressBar bar;

    private ProgressDisplay(ProgressBar bar) {
      this.bar = bar;
    }

    static ProgressDisplay start(boolean show, String source, Path file) throws IOException {
      if (!show) {
        return new ProgressDisplay(null);
      }
      return new ProgressDisplay(new ProgressBarBuilder()
          .setTaskName("produce " + source)
          .setInitialMax(Files.size(file))
          .setUnit(" MiB", 1024 * 1024)
          .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK)
          .setUpdateIntervalMillis(250)
          .build());
    }

    @Override
    public void onProgress(ProgressListener.Progress progress) {
      if (bar == null) {
        return;
      }
      bar.stepTo(Math.min(progress.bytesRead(), progress.fileBytes()));
      bar.setExtraMessage(String.format(Locale.ROOT, "%,d rec, %,.0f rec/s, %,d invalid",
          progress.read(), progress.recordsPerSecond(), progress.invalid()));
    }

    @Override
    public void close() {
      if (bar != null) {
        bar.close();
      }
    }
  }
}
