package dev.flywheel.registryprojector;

import dev.flywheel.events.ModelRegistryState;
import dev.flywheel.events.ModelVersion;
import dev.flywheel.registryprojector.http.RegistryHttpApi;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.streams.ReplaceFailedThreads;
import dev.flywheel.streams.StreamsProps;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import io.javalin.config.RoutesConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.HashSet;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.TaskMetadata;
import org.apache.kafka.streams.ThreadMetadata;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry projector: runs {@link RegistryTopology} (exactly-once) and keeps the audit-log
 * {@link ModelHistory} for time travel, and answers the {@code /models} query API on whatever
 * Javalin server {@link #routes(RoutesConfig)} is mounted on.
 *
 * <pre>{@code
 * try (RegistryProjectorService registry = RegistryProjectorService.builder()
 *     .config(RegistryConfig.load(Path.of("flywheel.yaml")))
 *     .kafka(Map.of("bootstrap.servers", "127.0.0.1:9092"))
 *     .serdes(serdes)                       // dev.flywheel.serde.AvroSerdes
 *     .topics(topics)                       // the catalogue built on the same serdes
 *     .stateDir(Path.of(".flywheel/state"))
 *     .build()
 *     .start()) {
 *   Javalin.create(c -> registry.routes(c.routes)).start(8080);
 * }
 * }</pre>
 *
 * <p>{@link #start()} creates the registry's topics when missing, starts Kafka Streams and the
 * history indexer, and returns without waiting for them; the routes answer 503 until the state
 * can be read. {@link #close()} stops the indexer and Kafka Streams cleanly; idempotent.
 */
public final class RegistryProjectorService implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(RegistryProjectorService.class);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

  private final RegistryConfig config;
  private final Map<String, Object> kafka;
  private final AvroSerdes serdes;
  private final Topics topics;
  private final Path stateDir;
  private final Map<String, Object> streamsOverrides;
  private final ModelHistory history = new ModelHistory();
  /** Partitions of the command topic as the broker has it (which may differ from the catalogue). */
  private volatile int commandPartitions = Integer.MAX_VALUE;

  private KafkaStreams streams;
  private ReplaceFailedThreads failedThreads;
  private HistoryIndexer indexer;
  private volatile RegistryHttpApi api;
  private boolean started;
  private boolean closed;

  private RegistryProjectorService(Builder b) {
    this.config = b.config;
    this.kafka = Map.copyOf(b.kafka);
    this.serdes = b.serdes;
    this.topics = b.topics;
    this.stateDir = b.stateDir;
    this.streamsOverrides = Map.copyOf(b.streamsOverrides);
  }

  /** A builder; config, kafka (with bootstrap.servers), serdes and topics are required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Creates the topics, starts the projection and the history indexer.
   *
   * @throws IllegalStateException when started twice or after close
   */
  public synchronized RegistryProjectorService start() {
    if (started || closed) {
      throw new IllegalStateException("the registry projector can start once");
    }
    started = true;
    try {
      ensureTopics();
      Topology topology = RegistryTopology.build(config, topics, serdes);
      log.debug("registry projector topology:\n{}", topology.describe());
      streams = new KafkaStreams(topology, streamsProps());
      failedThreads =
          new ReplaceFailedThreads("registry-projector").untilRegistryAnswers(serdes, streams);
      streams.setUncaughtExceptionHandler(failedThreads);
      streams.setStateListener((now, before) ->
          log.info("registry projector {} -> {}", before, now));
      streams.start();
      indexer = new HistoryIndexer(history, topics.modelEvents(), kafka).start();
      api = new RegistryHttpApi(new StoreStates(), history, config, indexer::caughtUp);
      return this;
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /**
   * Adds the {@code /models} routes to a Javalin configuration; they answer 503 until {@link
   * #start()} and after {@link #close()}. May be called before start.
   */
  public void routes(RoutesConfig routes) {
    RegistryHttpApi.routes(routes, () -> api);
  }

  /** The projector's Kafka Streams instance (for metrics binders), or empty before start. */
  public synchronized Optional<KafkaStreams> kafkaStreams() {
    return Optional.ofNullable(streams);
  }

  /** The state of Kafka Streams, or empty before start. */
  public synchronized Optional<KafkaStreams.State> state() {
    return Optional.ofNullable(streams).map(KafkaStreams::state);
  }

  /**
   * What keeps the service from answering — not started, the projection neither running nor
   * rebalancing or its stream threads failing again and again ({@link
   * ReplaceFailedThreads#healthProblem()}), the history not caught up — or empty when it is
   * healthy (for {@code /health}).
   */
  public Optional<String> healthProblem() {
    KafkaStreams s;
    ReplaceFailedThreads f;
    HistoryIndexer i;
    synchronized (this) {
      s = streams;
      f = failedThreads;
      i = indexer;
    }
    if (s == null) {
      return Optional.of("the registry projector has not started");
    }
    KafkaStreams.State state = s.state();
    if (state != KafkaStreams.State.RUNNING && state != KafkaStreams.State.REBALANCING) {
      return Optional.of("the registry projection is " + state);
    }
    Optional<String> failing = f.healthProblem();
    if (failing.isPresent()) {
      return failing;
    }
    if (i == null) {
      return Optional.of("the registry history is still replaying the audit log");
    }
    Optional<String> history = i.problem();
    if (history.isPresent()) {
      return history;
    }
    if (!i.caughtUp()) {
      return Optional.of("the registry history is still replaying the audit log");
    }
    return Optional.empty();
  }

  /** The replayed audit log. */
  public ModelHistory history() {
    return history;
  }

  /** Whether the history has caught up with the audit log as it was at start. */
  public synchronized boolean historyCaughtUp() {
    return indexer != null && indexer.caughtUp();
  }

  /** Stops the indexer and Kafka Streams. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    api = null;
    if (indexer != null) {
      indexer.close();
    }
    if (streams != null) {
      if (!streams.close(CLOSE_TIMEOUT)) {
        log.warn("the registry projection did not stop within {}", CLOSE_TIMEOUT);
      }
    }
  }

  private void ensureTopics() {
    List<Topic<?, ?>> needed = new ArrayList<>(List.of(topics.registryCommands(),
        topics.trainingRuns(), topics.modelEvents(), topics.modelPromoted(),
        topics.registryState()));
    needed.add(topics.dlq(topics.registryCommands()));
    needed.add(topics.dlq(topics.trainingRuns()));
    Map<String, Object> props = new HashMap<>(kafka);
    props.putIfAbsent(AdminClientConfig.CLIENT_ID_CONFIG, "flywheel-registry-projector-admin");
    try (Admin admin = Admin.create(props)) {
      TopicBootstrap.Result result = new TopicBootstrap(admin).ensure(needed);
      if (!result.consistent()) {
        log.warn("registry topics differ from the catalogue: {}", result.describe());
      }
      String name = topics.registryCommands().name();
      commandPartitions = admin.describeTopics(List.of(name)).allTopicNames().get()
          .get(name).partitions().size();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while describing the registry topics", e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("cannot describe " + topics.registryCommands().name()
          + ": " + e.getCause().getMessage(), e.getCause());
    }
  }

  private Properties streamsProps() {
    Map<String, Object> overrides = new HashMap<>(kafka);
    overrides.remove(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG);
    overrides.putAll(streamsOverrides);
    StreamsProps.Builder b = StreamsProps.builder(config.applicationId())
        .bootstrapServers(String.valueOf(kafka.get(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG)))
        .replicationFactor(topics.givenReplicationFactor()) // as the catalogue's topics
        .overrides(overrides);
    if (stateDir != null) {
      b.stateDir(stateDir);
    }
    return b.build();
  }

  /** The projection's state store, through interactive queries (this instance's partitions). */
  private final class StoreStates implements CurrentStates {

    private ReadOnlyKeyValueStore<String, ModelRegistryState> store() {
      return store(RegistryTopology.STATE_STORE);
    }

    private <V> ReadOnlyKeyValueStore<String, V> store(String name) {
      KafkaStreams s = streams;
      try {
        return s.store(StoreQueryParameters.fromNameAndType(name,
            QueryableStoreTypes.keyValueStore()));
      } catch (InvalidStateStoreException e) {
        throw new RegistryUnavailableException("the registry state is not readable now (Kafka"
            + " Streams is " + s.state() + "); retry in a few seconds", e);
      }
    }

    @Override
    public Optional<ModelRegistryState> get(String model) {
      return read(model, null);
    }

    @Override
    public Optional<ModelRegistryState> get(String model, int version) {
      return read(model, version);
    }

    /** The model's state with every version in full, or only {@code version} (when not null). */
    private Optional<ModelRegistryState> read(String model, Integer version) {
      try {
        // an empty state is one stored by an earlier release for a rejected command against a
        // model that did not exist; it is not a model (the projection removes it on the
        // model's next command)
        Optional<ModelRegistryState> state = Optional.ofNullable(store().get(model))
            .filter(s -> !RegistryFold.isEmpty(s));
        if (state.isEmpty()) {
          return elsewhere(model);
        }
        if (!state.get().getOlderVersions().isEmpty()) {
          // the versions the state lists by number only, in full, for the API
          ReadOnlyKeyValueStore<String, ModelVersion> versions =
              store(RegistryTopology.VERSIONS_STORE);
          if (version == null) {
            // one range scan of the model's entries rather than a lookup per version
            Map<Integer, ModelVersion> entries = new HashMap<>();
            try (KeyValueIterator<String, ModelVersion> it = versions.prefixScan(
                RegistryProcessor.modelPrefix(model),
                new StringSerializer())) {
              it.forEachRemaining(kv -> entries.put(kv.value.getVersion(), kv.value));
            }
            VersionSpill.restoreAll(state.get(), entries::get);
          } else {
            VersionSpill.restore(state.get(), version,
                v -> versions.get(RegistryProcessor.baselineKey(model, v)));
          }
        }
        return state;
      } catch (InvalidStateStoreException e) {
        throw new RegistryUnavailableException("the registry state is not readable now; retry"
            + " in a few seconds", e);
      }
    }

    /**
     * The state of a model this instance's store does not hold: when several instances share
     * the application id, another one decides it. Every instance's history reads the whole
     * audit log, and its state of a model is the fold the deciding instance stored, as of the
     * last committed command; so it answers for the other instances' models. Empty for a model
     * that does not exist.
     */
    private Optional<ModelRegistryState> elsewhere(String model) {
      if (decidesEveryModel()) {
        return Optional.empty(); // the store holds every model: this one does not exist
      }
      requireHistory();
      return history.stateAt(model, null);
    }

    private void requireHistory() {
      if (!historyCaughtUp()) {
        throw new RegistryUnavailableException("the registry is still replaying the audit log,"
            + " which answers for models other instances decide; retry in a few seconds", null);
      }
    }

    @Override
    public List<ModelRegistryState> all() {
      List<ModelRegistryState> out = new ArrayList<>();
      Set<String> local = new HashSet<>();
      try (KeyValueIterator<String, ModelRegistryState> it = store().all()) {
        while (it.hasNext()) {
          KeyValue<String, ModelRegistryState> kv = it.next();
          if (!RegistryFold.isEmpty(kv.value)) {
            out.add(kv.value);
            local.add(kv.key);
          }
        }
      } catch (InvalidStateStoreException e) {
        throw new RegistryUnavailableException("the registry state is not readable now; retry"
            + " in a few seconds", e);
      }
      if (!decidesEveryModel()) {
        requireHistory();
        for (String model : history.models(null)) {
          if (!local.contains(model)) {
            history.stateAt(model, null).ifPresent(out::add);
          }
        }
      }
      out.sort((a, b) -> a.getModel().compareTo(b.getModel()));
      return out;
    }

    /** Whether this instance's active tasks hold every partition of the command topic. */
    private boolean decidesEveryModel() {
      KafkaStreams s = streams;
      String commands = topics.registryCommands().name();
      Set<Integer> owned = new HashSet<>();
      for (ThreadMetadata thread : s.metadataForLocalThreads()) {
        for (TaskMetadata task : thread.activeTasks()) {
          task.topicPartitions().stream().filter(tp -> tp.topic().equals(commands))
              .forEach(tp -> owned.add(tp.partition()));
        }
      }
      return owned.size() >= commandPartitions;
    }
  }

  /** Builds a {@link RegistryProjectorService}. */
  public static final class Builder {
    private RegistryConfig config;
    private Map<String, Object> kafka = Map.of();
    private AvroSerdes serdes;
    private Topics topics;
    private Path stateDir;
    private Map<String, Object> streamsOverrides = Map.of();

    private Builder() {}

    /** Policies, promotion aliases and application id; required. */
    public Builder config(RegistryConfig config) {
      this.config = config;
      return this;
    }

    /**
     * Kafka client properties: {@code bootstrap.servers} is required; SASL, TLS and any other
     * client property pass through to Kafka Streams, the indexer's consumer and the admin client.
     */
    public Builder kafka(Map<String, ?> kafka) {
      this.kafka = new HashMap<>(kafka);
      return this;
    }

    /** The serdes, with their schema-registry client; required. */
    public Builder serdes(AvroSerdes serdes) {
      this.serdes = serdes;
      return this;
    }

    /** The topic catalogue built on the same serdes; required. */
    public Builder topics(Topics topics) {
      this.topics = topics;
      return this;
    }

    /** Where RocksDB keeps the stores; Kafka Streams' default when not set. */
    public Builder stateDir(Path stateDir) {
      this.stateDir = stateDir;
      return this;
    }

    /** Kafka Streams properties applied last (tuning, tests). */
    public Builder streamsOverrides(Map<String, ?> overrides) {
      this.streamsOverrides = new HashMap<>(overrides);
      return this;
    }

    /**
     * @throws NullPointerException when config, serdes or topics is missing
     * @throws IllegalArgumentException when the kafka properties lack bootstrap.servers
     */
    public RegistryProjectorService build() {
      Objects.requireNonNull(config, "config");
      Objects.requireNonNull(serdes, "serdes");
      Objects.requireNonNull(topics, "topics");
      if (!kafka.containsKey(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG)) {
        throw new IllegalArgumentException("kafka properties need bootstrap.servers");
      }
      return new RegistryProjectorService(this);
    }
  }
}
