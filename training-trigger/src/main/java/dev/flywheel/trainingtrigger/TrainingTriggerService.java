package dev.flywheel.trainingtrigger;

import dev.flywheel.events.TrainingRequested;
import dev.flywheel.streams.ReplaceFailedThreads;
import dev.flywheel.streams.StreamsProps;
import dev.flywheel.topics.ProducerSettings;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import dev.flywheel.trainingtrigger.artifact.ArtifactStore;
import dev.flywheel.trainingtrigger.artifact.LocalArtifactStore;
import dev.flywheel.trainingtrigger.config.ExecutorSpec;
import dev.flywheel.trainingtrigger.config.TrainingTriggerConfig;
import dev.flywheel.trainingtrigger.dataset.DatasetBuilder;
import dev.flywheel.trainingtrigger.executor.CommandExecutor;
import dev.flywheel.trainingtrigger.executor.KubernetesExecutor;
import dev.flywheel.trainingtrigger.executor.LocalExecutor;
import dev.flywheel.trainingtrigger.executor.RunWorker;
import dev.flywheel.trainingtrigger.executor.TrainingExecutor;
import dev.flywheel.trainingtrigger.http.TrainingHttpApi;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.javalin.config.RoutesConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The training-trigger service: the coordinator topology ({@link TrainingTriggerTopology}) on
 * Kafka Streams with exactly-once, the {@link RunWorker} that executes the runs it starts, and the
 * manual-trigger route {@code POST /models/{model}/train} ({@link #routes}).
 *
 * <pre>{@code
 * try (TrainingTriggerService service = TrainingTriggerService.builder()
 *     .config(TrainingTriggerConfig.load(Path.of("flywheel.yaml")))
 *     .kafka(Map.of("bootstrap.servers", "127.0.0.1:9092"))
 *     .schemaRegistryUrl("http://127.0.0.1:8081")
 *     .topics(topics)                     // the catalogue, on dev.flywheel.serde.AvroSerdes
 *     .build()
 *     .start()) {
 *   Javalin.create(c -> service.routes(c.routes)).start(8080);
 * }
 * }</pre>
 *
 * <p>{@link #start()} creates the topics it reads and writes when missing (and their dead-letter
 * topics), starts the topology and the worker. {@link #close()} stops the worker first (an attempt
 * still executing is not reported and runs again after restart), then Streams, then the
 * producer. Idempotent.
 */
public final class TrainingTriggerService implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(TrainingTriggerService.class);
  private static final Duration SEND_TIMEOUT = Duration.ofSeconds(15);

  private final TrainingTriggerConfig config;
  private final Map<String, Object> kafka;
  private final String schemaRegistryUrl;
  private final Topics topics;
  private final Clock clock;
  private final KubernetesClient givenKubernetes;
  private final MeterRegistry meters;

  private KubernetesClient ownKubernetes;
  private KafkaStreams streams;
  private RunWorker worker;
  private Producer<String, TrainingRequested> requests;
  private ArtifactStore store;
  private boolean started;
  private boolean closed;

  private TrainingTriggerService(Builder b) {
    this.config = b.config;
    this.kafka = Map.copyOf(b.kafka);
    this.schemaRegistryUrl = b.schemaRegistryUrl;
    this.topics = b.topics;
    this.clock = b.clock;
    this.meters = b.meters;
    this.givenKubernetes = b.kubernetes;
  }

  /** A builder; config, kafka and topics are required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Creates missing topics, starts the topology and the worker.
   *
   * @throws IllegalStateException when started twice or after close
   */
  public synchronized TrainingTriggerService start() {
    if (started || closed) {
      throw new IllegalStateException("the training-trigger service can start once");
    }
    started = true;
    try {
      ensureTopics();
      Topology topology = TrainingTriggerTopology.build(config, topics);
      log.info("training-trigger topology:\n{}", topology.describe());
      streams = new KafkaStreams(topology, streamsProps());
      streams.setUncaughtExceptionHandler(new ReplaceFailedThreads("training-trigger"));
      streams.start();
      store = new LocalArtifactStore(config.service().artifactDir());
      DatasetBuilder datasets = DatasetBuilder.builder().kafka(clientProps()).topics(topics)
          .store(store).clock(clock).build();
      worker = new RunWorker(config, clientProps(), config.service().applicationId() + "-worker",
          topics.trainingRuns(), executors(), datasets, store, clock).meters(meters).start();
      Map<String, Object> p = producerProps();
      p.put(ProducerConfig.CLIENT_ID_CONFIG, config.service().applicationId() + "-requests");
      Topic<String, TrainingRequested> t = topics.trainingRequests();
      requests = new KafkaProducer<>(p, t.keySerde().serializer(), t.valueSerde().serializer());
      log.info("training-trigger started for {} model(s): {}", config.models().size(),
          config.models().keySet());
      return this;
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** Adds {@code POST /models/{model}/train} to a Javalin configuration. */
  public void routes(RoutesConfig routes) {
    new TrainingHttpApi(config, this::sendRequest, clock).routes(routes);
  }

  /**
   * Writes a training request and waits for the broker's acknowledgement.
   *
   * @return null when written, else why not
   */
  public String sendRequest(TrainingRequested request) {
    Producer<String, TrainingRequested> p;
    synchronized (this) {
      p = requests;
    }
    if (p == null) {
      return "the training-trigger service is not running";
    }
    try {
      p.send(new ProducerRecord<>(topics.trainingRequests().name(), request.getModel(), request))
          .get(SEND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    } catch (Exception e) {
      return "the broker did not acknowledge the request within " + SEND_TIMEOUT + ": " + e;
    }
  }

  /** Whether Streams runs and the worker follows the runs topic. */
  public synchronized boolean healthy() {
    return streams != null && worker != null && worker.healthy()
        && (streams.state() == KafkaStreams.State.RUNNING
            || streams.state() == KafkaStreams.State.REBALANCING);
  }

  /** The Streams instance. @throws IllegalStateException before start */
  public synchronized KafkaStreams streams() {
    if (streams == null) {
      throw new IllegalStateException("the training-trigger service has not started");
    }
    return streams;
  }

  /** The artifact store. @throws IllegalStateException before start */
  public synchronized ArtifactStore artifactStore() {
    if (store == null) {
      throw new IllegalStateException("the training-trigger service has not started");
    }
    return store;
  }

  private void ensureTopics() {
    List<Topic<?, ?>> needed = new ArrayList<>(List.of(topics.trainingRequests(),
        topics.trainingRuns(), topics.driftAlerts(), topics.labels(), topics.features()));
    for (Topic<?, ?> t : List.copyOf(needed)) {
      needed.add(topics.dlq(t));
    }
    try (Admin admin = Admin.create(clientProps())) {
      TopicBootstrap.Result result = new TopicBootstrap(admin).ensure(needed);
      if (!result.consistent()) {
        log.warn("training topics differ from the catalogue: {}", result.describe());
      }
    }
  }

  private Map<ExecutorSpec.Kind, TrainingExecutor> executors() {
    Map<ExecutorSpec.Kind, TrainingExecutor> m = new EnumMap<>(ExecutorSpec.Kind.class);
    m.put(ExecutorSpec.Kind.LOCAL, new LocalExecutor());
    m.put(ExecutorSpec.Kind.COMMAND, new CommandExecutor());
    boolean needsKubernetes = config.models().values().stream()
        .anyMatch(s -> s.training().executor().kind() == ExecutorSpec.Kind.KUBERNETES);
    KubernetesClient k = givenKubernetes;
    if (k == null && needsKubernetes) {
      ownKubernetes = new KubernetesClientBuilder().build();
      k = ownKubernetes;
    }
    if (k != null) {
      m.put(ExecutorSpec.Kind.KUBERNETES, new KubernetesExecutor(k, store));
    }
    return m;
  }

  private Properties streamsProps() {
    Map<String, Object> overrides = new HashMap<>(kafka);
    overrides.remove(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG);
    return StreamsProps.builder(config.service().applicationId())
        .bootstrapServers((String) kafka.get(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG))
        .schemaRegistryUrl(schemaRegistryUrl)
        .stateDir(config.service().stateDir())
        .overrides(overrides)
        .build();
  }

  private Map<String, Object> clientProps() {
    return new HashMap<>(kafka);
  }

  private Map<String, Object> producerProps() {
    Map<String, Object> p = ProducerSettings.delivery(clientProps());
    p.keySet().removeIf(k -> k.startsWith("group.") || k.startsWith("session.")
        || k.startsWith("heartbeat.") || k.startsWith("max.poll.") || k.startsWith("isolation."));
    return p;
  }

  /** Stops the worker, Streams and the producer. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (worker != null) {
      worker.close();
    }
    if (streams != null) {
      streams.close(Duration.ofSeconds(30));
    }
    if (requests != null) {
      requests.close(Duration.ofSeconds(5));
      requests = null;
    }
    if (ownKubernetes != null) {
      ownKubernetes.close();
    }
  }

  /** Builds a {@link TrainingTriggerService}. */
  public static final class Builder {
    private TrainingTriggerConfig config;
    private Map<String, Object> kafka;
    private String schemaRegistryUrl;
    private Topics topics;
    private Clock clock = Clock.systemUTC();
    private MeterRegistry meters = Metrics.globalRegistry;
    private KubernetesClient kubernetes;

    /** The models and service settings. Required. */
    public Builder config(TrainingTriggerConfig config) {
      this.config = Objects.requireNonNull(config, "config");
      return this;
    }

    /**
     * Kafka client properties for every client of the service: {@code bootstrap.servers} at
     * least, plus any security or tuning property. Required.
     */
    public Builder kafka(Map<String, ?> kafka) {
      this.kafka = new HashMap<>(Objects.requireNonNull(kafka, "kafka"));
      return this;
    }

    /** The schema registry, for the dead-letter handlers' configuration; optional. */
    public Builder schemaRegistryUrl(String url) {
      this.schemaRegistryUrl = url;
      return this;
    }

    /** The topic catalogue (its serdes talk to the registry). Required. */
    public Builder topics(Topics topics) {
      this.topics = Objects.requireNonNull(topics, "topics");
      return this;
    }

    /** The clock of request and run times; the system clock by default. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Where the training meters go ({@code flywheel.training.runs}, {@code
     * flywheel.training.duration}, {@code flywheel.training.running}); default Micrometer's global
     * registry.
     */
    public Builder meterRegistry(MeterRegistry meters) {
      this.meters = Objects.requireNonNull(meters, "meters");
      return this;
    }

    /**
     * The Kubernetes client of the kubernetes executor; by default one is built from the
     * environment (kubeconfig or in-cluster) when a model uses that executor.
     */
    public Builder kubernetes(KubernetesClient client) {
      this.kubernetes = client;
      return this;
    }

    /** @throws IllegalStateException when config, kafka or topics is missing */
    public TrainingTriggerService build() {
      if (config == null || kafka == null || topics == null) {
        throw new IllegalStateException("TrainingTriggerService needs config, kafka and topics");
      }
      if (!kafka.containsKey(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG)) {
        throw new IllegalStateException("kafka must contain bootstrap.servers");
      }
      return new TrainingTriggerService(this);
    }
  }
}
