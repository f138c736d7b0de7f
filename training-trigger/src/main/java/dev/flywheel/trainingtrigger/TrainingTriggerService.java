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
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.InterruptException;
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
  /** How long a manual request waits for the broker before it is answered 503. */
  static final Duration SEND_TIMEOUT = Duration.ofSeconds(15);
  /**
   * The request producer's limits, all within {@link #SEND_TIMEOUT}: waiting for metadata or
   * buffer space ({@code max.block.ms}), one produce request ({@code request.timeout.ms}), and
   * the whole delivery ({@code delivery.timeout.ms}, at least linger + request timeout). A request
   * the client is told failed is therefore not written later, when a retry of the client could
   * already have been written (and trained) too.
   */
  static final Duration REQUEST_MAX_BLOCK = Duration.ofSeconds(5);
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(4);
  static final Duration REQUEST_DELIVERY_TIMEOUT = Duration.ofSeconds(9);

  private final TrainingTriggerConfig config;
  private final Map<String, Object> kafka;
  private final String schemaRegistryUrl;
  private final Topics topics;
  private final Clock clock;
  private final KubernetesClient givenKubernetes;
  private final MeterRegistry meters;

  private KubernetesClient ownKubernetes;
  private KafkaStreams streams;
  private ReplaceFailedThreads failedThreads;
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
      for (String external : config.externalModels()) {
        log.info("model '{}' names no featureGroup: trained outside Flywheel; training-trigger"
            + " will not train it", external);
      }
      Topology topology = TrainingTriggerTopology.build(config, topics, meters);
      log.debug("training-trigger topology:\n{}", topology.describe());
      streams = new KafkaStreams(topology, streamsProps());
      failedThreads = new ReplaceFailedThreads("training-trigger")
          .untilRegistryAnswers(topics.serdes(), streams);
      streams.setUncaughtExceptionHandler(failedThreads);
      streams.start();
      store = new LocalArtifactStore(config.service().artifactDir());
      DatasetBuilder datasets = DatasetBuilder.builder().kafka(clientProps()).topics(topics)
          .store(store).clock(clock).build();
      worker = new RunWorker(config, clientProps(), config.service().applicationId() + "-worker",
          topics.trainingRuns(), executors(), datasets, store, clock).meters(meters).start();
      Map<String, Object> p = requestProducerProps(kafka);
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
   * @return null when written, else why not, saying whether it may still have been written
   */
  public String sendRequest(TrainingRequested request) {
    Producer<String, TrainingRequested> p;
    synchronized (this) {
      p = requests;
    }
    if (p == null) {
      return "the training-trigger service is not running";
    }
    return send(p, topics.trainingRequests().name(), request);
  }

  /**
   * Sends one request on a producer with {@link #requestProducerProps} and waits for it.
   *
   * @return null when written, else why not, saying whether it may still have been written
   */
  static String send(Producer<String, TrainingRequested> p, String topic,
      TrainingRequested request) {
    String id = request.getEventId();
    try {
      // metadata first: when the broker cannot be reached, the request is certainly not written
      p.partitionsFor(topic);
    } catch (InterruptException e) {
      return "interrupted; request " + id + " was not written";
    } catch (KafkaException e) {
      return "request " + id + " was not written, as " + topic + " cannot be reached: " + e
          + "; it is safe to send it again";
    }
    Future<RecordMetadata> sent;
    try {
      sent = p.send(new ProducerRecord<>(topic, request.getModel(), request));
    } catch (KafkaException e) {
      return "request " + id + " was not written: " + e + "; it is safe to send it again";
    }
    try {
      sent.get(SEND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted; request " + id + " may still be written within "
          + REQUEST_DELIVERY_TIMEOUT.toSeconds() + " s";
    } catch (ExecutionException e) {
      if (e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException) {
        return maybeWritten(id, e.getCause());
      }
      return "request " + id + " was not written: " + e.getCause()
          + "; it is safe to send it again";
    } catch (java.util.concurrent.TimeoutException e) {
      return maybeWritten(id, e);
    }
  }

  private static String maybeWritten(String id, Throwable cause) {
    return "the broker did not acknowledge request " + id + " in time (" + cause + "); it may"
        + " have been written all the same, in which case its run starts: check for a run whose"
        + " lineage names request " + id + " before asking again, or the model trains twice";
  }

  /**
   * The manual-request producer's properties: the delivery settings, and every wait of the
   * producer within {@link #SEND_TIMEOUT} ({@link #REQUEST_MAX_BLOCK} et al.), whatever the
   * Kafka properties say.
   */
  static Map<String, Object> requestProducerProps(Map<String, ?> kafka) {
    Map<String, Object> p = ProducerSettings.delivery(kafka);
    p.keySet().removeIf(k -> k.startsWith("group.") || k.startsWith("session.")
        || k.startsWith("heartbeat.") || k.startsWith("max.poll.") || k.startsWith("isolation."));
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) REQUEST_MAX_BLOCK.toMillis());
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) REQUEST_TIMEOUT.toMillis());
    p.put(ProducerConfig.LINGER_MS_CONFIG, 0); // one record at a time: nothing to batch
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) REQUEST_DELIVERY_TIMEOUT.toMillis());
    return p;
  }

  /** Whether Streams runs and the worker follows the runs topic ({@link #healthProblem()}). */
  public synchronized boolean healthy() {
    return healthProblem().isEmpty();
  }

  /**
   * Why the service is not {@link #healthy()}, in words an operator can act on: not started, its
   * Kafka Streams not running, its stream threads failing again and again ({@link
   * ReplaceFailedThreads#healthProblem()}), or its run worker's problem ({@link
   * RunWorker#problem()}); empty when healthy.
   */
  public synchronized Optional<String> healthProblem() {
    if (streams == null || worker == null) {
      return Optional.of("training-trigger has not started");
    }
    KafkaStreams.State state = streams.state();
    if (state != KafkaStreams.State.RUNNING && state != KafkaStreams.State.REBALANCING) {
      return Optional.of("training-trigger's Kafka Streams is " + state + "; see the log for"
          + " why");
    }
    Optional<String> failing = failedThreads.healthProblem();
    if (failing.isPresent()) {
      return failing;
    }
    return worker.problem();
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
      checkRequestPartitions(result, topics, config.service().applicationId());
    }
  }

  /**
   * Refuses a requests topic whose partition count is not the catalogue's. The coordinator keeps
   * a model's state in the task of the partition its name hashes to: requests are partitioned by
   * the topic's real count, labels and finished runs by the catalogue's (its repartition topics),
   * so with another count a model's state is split across tasks and the model can stop training.
   *
   * @throws IllegalStateException naming the topic, both counts and what to do
   */
  static void checkRequestPartitions(TopicBootstrap.Result result, Topics topics,
      String applicationId) {
    String name = topics.trainingRequests().name();
    for (TopicBootstrap.Mismatch m : result.mismatches()) {
      if (!m.topic().equals(name) || !m.setting().equals(TopicBootstrap.PARTITIONS)) {
        continue;
      }
      int actual = Integer.parseInt(m.actual());
      int expected = topics.partitions();
      String fix = actual < expected
          ? "add partitions to it (kafka-topics.sh --alter --topic " + name + " --partitions "
              + expected + ")"
          : "delete it and let the service create it again with " + expected + " partitions"
              + " (requests already read are kept in the coordinator's state; stop whatever"
              + " writes requests meanwhile)";
      throw new IllegalStateException("topic " + name + " has " + actual + " partition(s) but"
          + " the topic catalogue has " + expected + ", which the coordinator's repartition"
          + " topics of labels and runs use: a model's requests would reach another task than"
          + " its labels and runs, splitting its state. Either " + fix + ", or start with a"
          + " catalogue of " + actual + " partitions (Topics.builder(..).partitions(" + actual
          + "); if the Streams application " + applicationId + " ran before, reset it"
          + " (kafka-streams-application-reset.sh) so that its repartition topics are made"
          + " again with that count.");
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
      String owner = config.service().applicationId()
          + (topics.prefix().isEmpty() ? "" : "." + topics.prefix());
      m.put(ExecutorSpec.Kind.KUBERNETES, new KubernetesExecutor(k, store, owner));
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
        .replicationFactor(topics.givenReplicationFactor()) // as the catalogue's topics
        .overrides(overrides)
        .build();
  }

  private Map<String, Object> clientProps() {
    return new HashMap<>(kafka);
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
     * flywheel.training.duration}, {@code flywheel.training.running}, {@code
     * flywheel.training.alerts.skipped}); default Micrometer's global registry.
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
