package dev.flywheel.featurestreams;

import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.streams.ReplaceFailedThreads;
import dev.flywheel.streams.StreamsProps;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the feature engine: checks the feature groups against their sources' schemas, creates the
 * feature log and dead-letter topics when missing, and runs {@link FeatureTopology} on Kafka
 * Streams with exactly-once ({@code exactly_once_v2}), standby replicas, and the JVM-wide bounded
 * RocksDB memory of {@link StreamsProps}.
 *
 * <pre>{@code
 * try (FeatureStreamsService features = FeatureStreamsService.builder()
 *     .config(FeatureStreamsConfig.load(Path.of("flywheel.yaml")))
 *     .bootstrapServers("127.0.0.1:9092")
 *     .schemaRegistryUrl("http://127.0.0.1:8081")
 *     .stateDir(Path.of(".flywheel/state"))
 *     .build()
 *     .start()) {
 *   KafkaStreams streams = features.kafkaStreams(); // for interactive queries of the online store
 * }
 * }</pre>
 *
 * <p>{@link #close()} is idempotent and closes Kafka Streams cleanly (committing, flushing state).
 */
public final class FeatureStreamsService implements AutoCloseable {

  /** Application id unless configured: also the consumer group and internal-topic prefix. */
  public static final String DEFAULT_APPLICATION_ID = "flywheel-feature-streams";

  private static final Logger LOG = LoggerFactory.getLogger(FeatureStreamsService.class);

  /** The broker's limit of a record batch, the default of every topic's max.message.bytes. */
  private static final String BROKER_MESSAGE_MAX_BYTES = "message.max.bytes";

  private final Builder b;
  private AvroSerdes serdes;
  private Topics topics;
  private List<FeatureGroupPlan> plans = List.of();
  /** The {@code max.message.bytes} of each topic written per event, as read at start. */
  private Map<String, Integer> recordLimits = Map.of();
  private KafkaStreams streams;
  private ReplaceFailedThreads failedThreads;
  private boolean closed;

  private FeatureStreamsService(Builder b) {
    this.b = b;
  }

  /** Starts a builder; config, bootstrap servers and the schema registry (or serdes) are required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Checks the groups, creates missing topics, reads the {@code max.message.bytes} of the topics
   * written per event (which bound the records together with {@code max.request.size}, see {@link
   * RecordLimits}), and starts Kafka Streams (returns while it joins the group; see {@link
   * #awaitRunning(Duration)}).
   *
   * @throws InvalidFeatureGroupException when a group does not fit its source's schema
   * @throws IllegalStateException when no group is declared, a source topic does not exist, or
   *     after {@link #close()}
   */
  public synchronized FeatureStreamsService start() {
    if (closed) {
      throw new IllegalStateException("feature-streams service is closed; build a new one");
    }
    if (streams != null) {
      return this;
    }
    serdes = b.serdes != null ? b.serdes
        : AvroSerdes.fromConfig(Map.of("schema.registry.url", b.schemaRegistryUrl));
    if (b.topics != null) {
      topics = b.topics;
    } else {
      Topics.Builder tb = Topics.builder(serdes);
      if (b.topicPrefix != null && !b.topicPrefix.isBlank()) {
        tb.prefix(b.topicPrefix);
      }
      topics = tb.build();
    }
    if (b.config.featureGroups().isEmpty()) {
      throw new IllegalStateException("flywheel.yaml declares no featureGroups; declare at least"
          + " one (see FeatureStreamsConfig) or do not start feature-streams");
    }
    plans = FeatureTopology.plans(b.config, topics, serdes.client());
    for (FeatureGroupPlan plan : plans) {
      if (plan.eventIdField() == null) {
        LOG.warn("feature group '{}': source '{}' has no {} field and the group sets no eventId,"
            + " so its vectors carry '<topic>/<partition>/<offset>' as their event id. Labels"
            + " (training datasets) and lineage join on event ids: set eventId: <the source's id"
            + " field> on the group in flywheel.yaml", plan.name(), plan.config().source(),
            FeatureGroupPlan.DEFAULT_EVENT_ID_FIELD);
      }
    }
    ensureTopics();
    Properties properties = streamsProperties();
    recordLimits.forEach((topic, bytes) -> properties.put(RecordLimits.property(topic), bytes));
    Topology topology = FeatureTopology.build(plans, topics, serdes, b.meters);
    LOG.info("feature-streams {} groups {}", b.applicationId,
        plans.stream().map(FeatureGroupPlan::describe).toList());
    LOG.debug("feature-streams {} topology: {}", b.applicationId, topology.describe());
    streams = new KafkaStreams(topology, properties);
    failedThreads =
        new ReplaceFailedThreads("feature-streams").untilRegistryAnswers(serdes, streams);
    streams.setUncaughtExceptionHandler(failedThreads);
    streams.setStateListener((now, before) ->
        LOG.info("feature-streams {}: {} -> {}", b.applicationId, before, now));
    streams.start();
    return this;
  }

  /**
   * Compression of the feature log and the state changelog, unless the {@link Builder#kafka(Map)}
   * properties set {@code compression.type} or {@code producer.compression.type}. A vector repeats
   * its feature names in every record, and the broker's cost is mostly copying the bytes it is
   * sent: lz4 about halved the broker's CPU per {@code card_activity} event and raised the rate
   * about 15% (BENCHMARKS.md). Readers need lz4, which the Java client, librdkafka and Kafka UI
   * have; kafkajs needs a codec registered for it.
   */
  public static final String OUTPUT_COMPRESSION = "lz4";

  /**
   * The Kafka Streams properties the service runs with: {@link StreamsProps} ({@code
   * exactly_once_v2}, the JVM-wide bounded RocksDB memory, dead-letter handlers, {@code
   * read_committed}) with this builder's standby replicas, threads, state folder, {@code
   * application.server}, the catalogue's replication factor for changelogs, repartition and
   * dead-letter topics, {@link #OUTPUT_COMPRESSION}, and the {@link Builder#kafka(Map)}
   * properties, which win.
   */
  public Properties streamsProperties() {
    StreamsProps.Builder props = StreamsProps.builder(b.applicationId)
        .bootstrapServers(b.bootstrapServers)
        .standbyReplicas(b.standbyReplicas)
        .numStreamThreads(b.numStreamThreads)
        // as the catalogue's topics, when it was given a factor; else the broker's default
        .replicationFactor(b.topics != null ? b.topics.givenReplicationFactor()
            : java.util.Optional.empty());
    if (b.schemaRegistryUrl != null) {
      props.schemaRegistryUrl(b.schemaRegistryUrl);
    }
    if (b.stateDir != null) {
      props.stateDir(b.stateDir);
    }
    if (b.applicationServer != null) {
      props.applicationServer(b.applicationServer);
    }
    if (b.rocksDbMemoryBytes > 0) {
      props.rocksDbMemoryBytes(b.rocksDbMemoryBytes);
    }
    if (!b.kafka.containsKey(ProducerConfig.COMPRESSION_TYPE_CONFIG)) {
      props.overrides(Map.of(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG),
          OUTPUT_COMPRESSION));
    }
    props.overrides(b.kafka);
    return props.build();
  }

  /**
   * Why the service is not healthy — not started, closed, Kafka Streams neither running nor
   * rebalancing, or its stream threads failing again and again ({@link
   * ReplaceFailedThreads#healthProblem()}) — or empty when it is.
   */
  public synchronized Optional<String> healthProblem() {
    if (closed) {
      return Optional.of("feature-streams is closed");
    }
    if (streams == null) {
      return Optional.of("feature-streams is not started");
    }
    KafkaStreams.State state = streams.state();
    if (state == KafkaStreams.State.RUNNING || state == KafkaStreams.State.REBALANCING) {
      return failedThreads.healthProblem();
    }
    return Optional.of("feature-streams Kafka Streams is " + state);
  }

  private void ensureTopics() {
    Map<String, Object> adminConfig = new HashMap<>();
    for (Map.Entry<String, ?> e : b.kafka.entrySet()) {
      if (AdminClientConfig.configNames().contains(e.getKey())) {
        adminConfig.put(e.getKey(), e.getValue());
      }
    }
    adminConfig.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrapServers);
    try (Admin admin = Admin.create(adminConfig)) {
      Set<String> sources = new LinkedHashSet<>();
      plans.forEach(p -> sources.add(p.config().source()));
      Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
      List<Topic<?, ?>> wanted = new ArrayList<>();
      wanted.add(topics.features());
      for (String source : sources) {
        Topic<?, ?> data = topics.data(source);
        if (!existing.contains(data.name())) {
          throw new IllegalStateException("source topic " + data.name() + " does not exist; add"
              + " the source first (flywheel sources add " + source + " ...)");
        }
        wanted.add(topics.dlq(data));
      }
      TopicBootstrap.Result result = new TopicBootstrap(admin).ensure(wanted);
      LOG.info("feature-streams topics: {}", result);
      recordLimits = readRecordLimits(admin, existing);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while checking topics", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("cannot reach Kafka at " + b.bootstrapServers
          + " to check topics: " + e, e);
    }
  }

  /**
   * The {@code max.message.bytes} of each topic feature-streams writes per event — the feature
   * log, each group's state changelog and, for a group whose entity is not its source's key, its
   * repartition topic — which the processors check records against together with the producer's
   * {@code max.request.size} ({@link RecordLimits}): a record the broker refuses would fail its
   * stream thread on every restart. A changelog or repartition topic Kafka Streams has not created
   * yet takes the {@code topic.max.message.bytes} Streams property when given, else the broker's
   * {@code message.max.bytes}, as Kafka Streams will create it; so does a topic whose config cannot
   * be read. A topic left out of the answer is bounded by {@code max.request.size} alone.
   *
   * @param existing the topics that existed before the feature log was ensured
   */
  private Map<String, Integer> readRecordLimits(Admin admin, Set<String> existing)
      throws InterruptedException {
    String featureLog = topics.features().name();
    Set<String> internal = new LinkedHashSet<>();
    for (FeatureGroupPlan plan : plans) {
      internal.add(FeatureTopology.changelogTopic(b.applicationId, plan.name()));
      if (!plan.entityKeyIsSourceKey()) {
        internal.add(FeatureTopology.repartitionTopic(b.applicationId, plan.name()));
      }
    }
    List<String> present = new ArrayList<>();
    present.add(featureLog);
    internal.stream().filter(existing::contains).forEach(present::add);
    Map<String, Integer> limits = new LinkedHashMap<>();
    Map<String, String> unread = new LinkedHashMap<>();
    Map<ConfigResource, KafkaFuture<Config>> described = admin.describeConfigs(present.stream()
        .map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t)).toList()).values();
    for (Map.Entry<ConfigResource, KafkaFuture<Config>> e : described.entrySet()) {
      String topic = e.getKey().name();
      try {
        ConfigEntry entry =
            e.getValue().get(30, TimeUnit.SECONDS).get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
        if (entry != null && entry.value() != null) {
          limits.put(topic, Integer.parseInt(entry.value().trim()));
        } else {
          unread.put(topic, "its config has no " + TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
        }
      } catch (ExecutionException | TimeoutException | NumberFormatException ex) {
        unread.put(topic, "its config cannot be read: " + ex);
      }
    }
    Object streamsTopicLimit = b.kafka.get(
        StreamsConfig.topicPrefix(TopicConfig.MAX_MESSAGE_BYTES_CONFIG));
    for (String topic : internal) {
      if (!existing.contains(topic)) {
        if (streamsTopicLimit != null) {
          limits.put(topic, Integer.parseInt(streamsTopicLimit.toString().trim()));
        } else {
          unread.put(topic, "it does not exist yet");
        }
      }
    }
    if (!unread.isEmpty()) {
      Integer brokerLimit = brokerMessageMaxBytes(admin);
      for (Map.Entry<String, String> e : unread.entrySet()) {
        if (brokerLimit != null) {
          limits.put(e.getKey(), brokerLimit);
          LOG.info("feature-streams: topic {}: {}; its records are bounded by the broker's {} {}"
              + " and max.request.size", e.getKey(), e.getValue(),
              BROKER_MESSAGE_MAX_BYTES, brokerLimit);
        } else {
          LOG.warn("feature-streams: topic {}: {}, and the broker's {} cannot be read either;"
              + " its records are bounded by max.request.size alone, so one the broker refuses"
              + " would fail its stream thread on every restart: keep max.request.size at or"
              + " below the topic's max.message.bytes", e.getKey(), e.getValue(),
              BROKER_MESSAGE_MAX_BYTES);
        }
      }
    }
    LOG.info("feature-streams {}: max.message.bytes of the topics written per event {}",
        b.applicationId, limits);
    return limits;
  }

  /** The broker's {@code message.max.bytes} (that of any broker), or null when it cannot be read. */
  private static Integer brokerMessageMaxBytes(Admin admin) throws InterruptedException {
    try {
      Collection<Node> nodes = admin.describeCluster().nodes().get(30, TimeUnit.SECONDS);
      if (nodes.isEmpty()) {
        return null;
      }
      ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER,
          String.valueOf(nodes.iterator().next().id()));
      ConfigEntry entry = admin.describeConfigs(List.of(broker)).values().get(broker)
          .get(30, TimeUnit.SECONDS).get(BROKER_MESSAGE_MAX_BYTES);
      return entry == null || entry.value() == null ? null
          : Integer.valueOf(entry.value().trim());
    } catch (ExecutionException | TimeoutException | NumberFormatException e) {
      LOG.warn("feature-streams: cannot read the broker's {}: {}",
          BROKER_MESSAGE_MAX_BYTES, e.toString());
      return null;
    }
  }

  /**
   * Waits until Kafka Streams is RUNNING.
   *
   * @return whether it is running within {@code timeout}
   */
  public boolean awaitRunning(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      KafkaStreams s = kafkaStreams();
      if (s != null && s.state() == KafkaStreams.State.RUNNING) {
        return true;
      }
      Thread.sleep(20);
    }
    return false;
  }

  /** The Kafka Streams instance (for interactive queries of the online stores); null before start. */
  public synchronized KafkaStreams kafkaStreams() {
    return streams;
  }

  /** The groups as checked against their sources at start; empty before start. */
  public synchronized List<FeatureGroupPlan> plans() {
    return plans;
  }

  /** The feature-streams configuration. */
  public FeatureStreamsConfig config() {
    return b.config;
  }

  /** The application id (consumer group, internal-topic prefix). */
  public String applicationId() {
    return b.applicationId;
  }

  /** The {@code application.server} ({@code host:port}) other instances route lookups to; may be null. */
  public String applicationServer() {
    return b.applicationServer;
  }

  /** The topic catalogue in use; null before start. */
  public synchronized Topics topics() {
    return topics;
  }

  /** Closes Kafka Streams cleanly, leaving the consumer group; idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (streams != null) {
      // The stream threads' consumers leave the group as they close (StreamsProps), so the
      // partitions move to the other instances at once, rather than after the session timeout.
      streams.close(Duration.ofSeconds(30));
    }
  }

  /** Builds a {@link FeatureStreamsService}. */
  public static final class Builder {
    private FeatureStreamsConfig config;
    private String bootstrapServers;
    private String schemaRegistryUrl;
    private AvroSerdes serdes;
    private Topics topics;
    private String topicPrefix;
    private String applicationId = DEFAULT_APPLICATION_ID;
    private Path stateDir;
    private int standbyReplicas;
    private int numStreamThreads = 1;
    private String applicationServer;
    private long rocksDbMemoryBytes;
    private Map<String, Object> kafka = new HashMap<>();
    private MeterRegistry meters = Metrics.globalRegistry;

    private Builder() {}

    /** The feature groups; required. */
    public Builder config(FeatureStreamsConfig config) {
      this.config = Objects.requireNonNull(config, "config");
      return this;
    }

    /** Kafka brokers, {@code host:port[,...]}; required. */
    public Builder bootstrapServers(String bootstrapServers) {
      this.bootstrapServers = Objects.requireNonNull(bootstrapServers, "bootstrapServers");
      return this;
    }

    /** The schema registry; required unless {@link #serdes(AvroSerdes)} is given. */
    public Builder schemaRegistryUrl(String schemaRegistryUrl) {
      this.schemaRegistryUrl = Objects.requireNonNull(schemaRegistryUrl, "schemaRegistryUrl");
      return this;
    }

    /** Serdes to share (and their registry client); optional. */
    public Builder serdes(AvroSerdes serdes) {
      this.serdes = Objects.requireNonNull(serdes, "serdes");
      return this;
    }

    /** The topic catalogue; optional (default: built from the serdes and the prefix). */
    public Builder topics(Topics topics) {
      this.topics = Objects.requireNonNull(topics, "topics");
      return this;
    }

    /** Topic name prefix when no catalogue is given; optional. */
    public Builder topicPrefix(String topicPrefix) {
      this.topicPrefix = topicPrefix;
      return this;
    }

    /** Application id (default {@value FeatureStreamsService#DEFAULT_APPLICATION_ID}). */
    public Builder applicationId(String applicationId) {
      this.applicationId = Objects.requireNonNull(applicationId, "applicationId");
      return this;
    }

    /** Where RocksDB keeps state; default Kafka Streams' temp folder. */
    public Builder stateDir(Path stateDir) {
      this.stateDir = Objects.requireNonNull(stateDir, "stateDir");
      return this;
    }

    /** Warm copies of each store on other instances (default 0). */
    public Builder standbyReplicas(int standbyReplicas) {
      if (standbyReplicas < 0) {
        throw new IllegalArgumentException("standbyReplicas must be >= 0, got " + standbyReplicas);
      }
      this.standbyReplicas = standbyReplicas;
      return this;
    }

    /** Stream threads of this instance (default 1). */
    public Builder numStreamThreads(int numStreamThreads) {
      if (numStreamThreads < 1) {
        throw new IllegalArgumentException("numStreamThreads must be >= 1, got "
            + numStreamThreads);
      }
      this.numStreamThreads = numStreamThreads;
      return this;
    }

    /** {@code host:port} of this instance's HTTP API, for routing lookups; optional. */
    public Builder applicationServer(String applicationServer) {
      this.applicationServer = applicationServer;
      return this;
    }

    /** Off-heap bytes shared by every RocksDB store of the JVM; default StreamsProps'. */
    public Builder rocksDbMemoryBytes(long rocksDbMemoryBytes) {
      this.rocksDbMemoryBytes = rocksDbMemoryBytes;
      return this;
    }

    /** Any Kafka client or Streams property (SASL, TLS, tuning); these win. */
    public Builder kafka(Map<String, ?> kafka) {
      this.kafka = new HashMap<>(Objects.requireNonNull(kafka, "kafka"));
      return this;
    }

    /** Where metrics go (default Micrometer's global registry). */
    public Builder meterRegistry(MeterRegistry meters) {
      this.meters = Objects.requireNonNull(meters, "meters");
      return this;
    }

    /**
     * @throws IllegalStateException naming what is missing
     */
    public FeatureStreamsService build() {
      List<String> missing = new ArrayList<>();
      if (config == null) {
        missing.add("config");
      }
      if (bootstrapServers == null && !kafka.containsKey(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG)) {
        missing.add("bootstrapServers");
      }
      if (bootstrapServers == null) {
        bootstrapServers = String.valueOf(kafka.get(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG));
      }
      if (schemaRegistryUrl == null && serdes == null) {
        missing.add("schemaRegistryUrl (or serdes)");
      }
      if (!missing.isEmpty()) {
        throw new IllegalStateException("FeatureStreamsService needs " + missing);
      }
      return new FeatureStreamsService(this);
    }
  }
}
