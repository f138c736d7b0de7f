package dev.flywheel.driftdetector;

import dev.flywheel.driftdetector.config.DriftDetectorConfig;
import dev.flywheel.driftdetector.metrics.DriftMetrics;
import dev.flywheel.driftdetector.topology.DriftTopology;
import dev.flywheel.driftdetector.window.WindowBudget;
import dev.flywheel.streams.ReplaceFailedThreads;
import dev.flywheel.streams.StreamsProps;
import dev.flywheel.topics.AvroSerdeFactory;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The drift-detector service: {@link DriftTopology} on Kafka Streams with exactly-once
 * ({@link StreamsProps}). It has no HTTP routes of its own; its gauges go to the given
 * {@link MeterRegistry}, which the platform scrapes on {@code /metrics}.
 *
 * <pre>{@code
 * try (DriftDetectorService service = DriftDetectorService.builder()
 *     .config(DriftDetectorConfig.load(Path.of("flywheel.yaml")))
 *     .kafka(Map.of("bootstrap.servers", "127.0.0.1:9092"))
 *     .schemaRegistryUrl("http://127.0.0.1:8081")
 *     .topics(topics)                 // the catalogue, on dev.flywheel.serde.AvroSerdes
 *     .serdes(serdes)                 // the same AvroSerdes
 *     .stateDir(Path.of(".flywheel/state"))
 *     .meterRegistry(meters)
 *     .build()
 *     .start()) {
 *   // runs until closed
 * }
 * }</pre>
 *
 * <p>{@link #start()} creates the topics it reads and writes when missing (and their dead-letter
 * topics) and starts Streams; {@link #close()} stops Streams (committing the open transaction) and
 * is idempotent. A crash without close loses nothing: the open windows are restored from the
 * {@code drift-windows} changelog as of the last committed transaction, and the records after it
 * are processed again, so every prediction is counted exactly once.
 */
public final class DriftDetectorService implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(DriftDetectorService.class);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);
  private static final long STATE_CACHE_BYTES = 10L * 1024 * 1024;

  private final DriftDetectorConfig config;
  private final Map<String, Object> kafka;
  private final String schemaRegistryUrl;
  private final Topics topics;
  private final AvroSerdeFactory serdes;
  private final Path stateDir;
  private final MeterRegistry meters;
  private KafkaStreams streams;
  private ReplaceFailedThreads failedThreads;
  private boolean started;
  private boolean closed;

  private DriftDetectorService(Builder b) {
    this.config = b.config;
    this.kafka = Map.copyOf(b.kafka);
    this.schemaRegistryUrl = b.schemaRegistryUrl;
    this.topics = b.topics;
    this.serdes = b.serdes;
    this.stateDir = b.stateDir;
    this.meters = b.meters;
  }

  /** A builder; config, kafka (with bootstrap.servers), topics and serdes are required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Creates missing topics and starts the topology.
   *
   * @throws IllegalStateException when started twice or after close
   * @throws dev.flywheel.driftdetector.config.InvalidConfigException when a model's TIME windows
   *     keep so many windows open at once that they could not fit a record of the windows store's
   *     changelog even without features ({@link WindowBudget#requireFits})
   */
  public synchronized DriftDetectorService start() {
    if (started || closed) {
      throw new IllegalStateException("the drift-detector service can start once");
    }
    started = true;
    try {
      WindowBudget.requireFits(config, StreamsProps.maxRequestSize(kafka));
      ensureTopics();
      Topology topology = DriftTopology.build(config, topics, serdes, new DriftMetrics(meters));
      LOG.debug("drift-detector topology:\n{}", topology.describe());
      streams = new KafkaStreams(topology, streamsProps());
      failedThreads =
          new ReplaceFailedThreads("drift-detector").untilRegistryAnswers(serdes, streams);
      streams.setUncaughtExceptionHandler(failedThreads);
      streams.start();
      LOG.info("drift-detector started; policies for {}, defaults for other models",
          config.policies().keySet());
      return this;
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** Whether Streams is running (or rebalancing) without stream threads failing in a row. */
  public boolean healthy() {
    return healthProblem().isEmpty();
  }

  /**
   * Why the service is not healthy (for {@code /health}) — not started, closed, Streams neither
   * running nor rebalancing, or its stream threads failing again and again ({@link
   * ReplaceFailedThreads#healthProblem()}) — or empty when it is.
   */
  public synchronized Optional<String> healthProblem() {
    if (closed) {
      return Optional.of("drift-detector is closed");
    }
    if (streams == null) {
      return Optional.of("drift-detector is not started");
    }
    KafkaStreams.State state = streams.state();
    if (state != KafkaStreams.State.RUNNING && state != KafkaStreams.State.REBALANCING) {
      return Optional.of("drift-detector streams are " + state);
    }
    return failedThreads.healthProblem();
  }

  /** The Streams instance. @throws IllegalStateException before start */
  public synchronized KafkaStreams streams() {
    if (streams == null) {
      throw new IllegalStateException("the drift-detector service has not started");
    }
    return streams;
  }

  /** Stops Streams; idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (streams != null) {
      streams.close(CLOSE_TIMEOUT);
    }
  }

  private void ensureTopics() {
    List<Topic<?, ?>> needed = new ArrayList<>(List.of(topics.predictions(), topics.labels(),
        topics.modelPromoted(), topics.driftReports(), topics.driftAlerts()));
    for (Topic<?, ?> t : List.copyOf(needed)) {
      needed.add(topics.dlq(t));
    }
    try (Admin admin = Admin.create(new HashMap<>(kafka))) {
      TopicBootstrap.Result result = new TopicBootstrap(admin).ensure(needed);
      if (!result.consistent()) {
        LOG.warn("drift topics differ from the catalogue: {}", result.describe());
      }
    }
  }

  private Properties streamsProps() {
    Map<String, Object> overrides = new HashMap<>();
    // A model's window state is rewritten by every prediction; the record cache folds those
    // writes into one changelog record per model and commit. Reports and alerts are forwarded
    // by the processor, not through a cached store, so they are not delayed by it.
    overrides.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, STATE_CACHE_BYTES);
    overrides.putAll(kafka);
    overrides.remove(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG);
    StreamsProps.Builder b = StreamsProps.builder(config.applicationId())
        .bootstrapServers((String) kafka.get(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG))
        .schemaRegistryUrl(schemaRegistryUrl)
        .replicationFactor(topics.givenReplicationFactor()) // as the catalogue's topics
        .overrides(overrides);
    if (stateDir != null) {
      b.stateDir(stateDir);
    }
    return b.build();
  }

  /** Builds a {@link DriftDetectorService}. */
  public static final class Builder {
    private DriftDetectorConfig config;
    private final Map<String, Object> kafka = new LinkedHashMap<>();
    private String schemaRegistryUrl;
    private Topics topics;
    private AvroSerdeFactory serdes;
    private Path stateDir;
    private MeterRegistry meters = new SimpleMeterRegistry();

    private Builder() {}

    /** The drift settings of {@code flywheel.yaml}; required. */
    public Builder config(DriftDetectorConfig config) {
      this.config = Objects.requireNonNull(config, "config");
      return this;
    }

    /** Kafka client properties, {@code bootstrap.servers} required; any other passes through. */
    public Builder kafka(Map<String, ?> kafka) {
      this.kafka.putAll(Objects.requireNonNull(kafka, "kafka"));
      return this;
    }

    /** The schema registry the Avro serdes use; optional when they are configured directly. */
    public Builder schemaRegistryUrl(String url) {
      this.schemaRegistryUrl = url;
      return this;
    }

    /** The topic catalogue; required. */
    public Builder topics(Topics topics) {
      this.topics = Objects.requireNonNull(topics, "topics");
      return this;
    }

    /** The Avro serdes of the catalogue (for the baselines store); required. */
    public Builder serdes(AvroSerdeFactory serdes) {
      this.serdes = Objects.requireNonNull(serdes, "serdes");
      return this;
    }

    /** Where RocksDB state is kept; Kafka Streams' default when not set. */
    public Builder stateDir(Path stateDir) {
      this.stateDir = stateDir;
      return this;
    }

    /** Where gauges and counters go; a private registry when not set. */
    public Builder meterRegistry(MeterRegistry meters) {
      this.meters = Objects.requireNonNull(meters, "meters");
      return this;
    }

    /** @throws IllegalStateException naming the missing setting */
    public DriftDetectorService build() {
      if (config == null) {
        throw new IllegalStateException("config is required: DriftDetectorConfig.load(path)");
      }
      if (!kafka.containsKey(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG)) {
        throw new IllegalStateException("kafka needs bootstrap.servers, e.g. 127.0.0.1:9092");
      }
      if (topics == null) {
        throw new IllegalStateException("topics is required: the Topics catalogue");
      }
      if (serdes == null) {
        throw new IllegalStateException("serdes is required: the catalogue's AvroSerdes");
      }
      return new DriftDetectorService(this);
    }
  }
}
