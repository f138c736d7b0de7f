package dev.flywheel.ingest.http;

import dev.flywheel.ingest.IngestConfig;
import dev.flywheel.ingest.cdc.CdcIngest;
import dev.flywheel.ingest.cdc.CdcTableStatus;
import dev.flywheel.ingest.dlq.DeadLetterWriter;
import dev.flywheel.ingest.metrics.IngestMetrics;
import dev.flywheel.ingest.source.SourceCatalog;
import dev.flywheel.ingest.source.SourceDefinition;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.ProducerSettings;
import dev.flywheel.topics.RecordSize;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import io.javalin.Javalin;
import io.javalin.config.RoutesConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ingest service: registers the sources of {@code flywheel.yaml}, answers {@link
 * IngestHttpApi}'s routes, writing each batch as one Kafka transaction ({@link
 * TransactionalBatchWriter}: a pool of {@code ingest.producers} transactional producers, so
 * idempotent with {@code acks=all}), and, when the
 * YAML has a {@code cdc} section, captures its PostgreSQL tables with {@link CdcIngest}.
 *
 * <pre>{@code
 * try (IngestService ingest = IngestService.builder()
 *     .config(IngestConfig.load(Path.of("flywheel.yaml")))
 *     .configDir(Path.of("."))                 // schema paths in the YAML are relative to it
 *     .kafka(Map.of("bootstrap.servers", "127.0.0.1:9092"))
 *     .serdes(serdes)                          // dev.flywheel.serde.AvroSerdes
 *     .topics(topics)                          // the catalogue built on the same serdes
 *     .build()
 *     .start()) {
 *   System.out.println("ingest at " + ingest.url());
 * }
 * }</pre>
 *
 * <p>{@link #start()} creates the labels topic and its dead-letter topic when missing, adds every
 * declared source (compatibility check, registration, topics), starts CDC when configured, and
 * serves HTTP on {@code ingest.port}; a source the registry refuses stops the start with the
 * reason. To serve the routes on a shared server instead, build with {@code ownHttpServer(false)}
 * and mount {@link #routes(RoutesConfig)} on it. {@code GET /health} reports Kafka and every CDC
 * table ({@link IngestHealth}). {@link #close()} stops HTTP first, then CDC (which commits the
 * offsets of what Kafka acknowledged), then flushes and closes the producers, so every answered
 * 202 is on the broker. Idempotent.
 */
public final class IngestService implements AutoCloseable {

  /** How long a batch may wait for the broker's acknowledgements before 503. */
  public static final Duration DEFAULT_PRODUCE_TIMEOUT = Duration.ofSeconds(30);

  private static final Logger log = LoggerFactory.getLogger(IngestService.class);
  private static final String HOST = "0.0.0.0";

  /** The {@code flywheel.processor} header of the dead letters this service writes. */
  public static final String PROCESSOR = "flywheel-ingest-http";

  private final IngestConfig config;
  private final Path configDir;
  private final Map<String, Object> kafka;
  private final AvroSerdes serdes;
  private final Topics topics;
  private final Duration produceTimeout;
  private final String host;
  private final boolean ownHttpServer;
  private final Map<String, String> environment;
  private final IngestMetrics metrics;
  private final List<KafkaClientMetrics> clientMetrics = new CopyOnWriteArrayList<>();

  private Admin admin;
  private TransactionalBatchWriter writer;
  private Producer<byte[], byte[]> dlqProducer;
  private SourceCatalog catalog;
  private Javalin http;
  private CdcIngest cdc;
  private volatile IngestHttpApi api;
  private boolean started;
  private boolean closed;

  private IngestService(Builder b) {
    this.config = b.config;
    this.configDir = b.configDir;
    this.kafka = Map.copyOf(b.kafka);
    this.serdes = b.serdes;
    this.topics = b.topics;
    this.produceTimeout = b.produceTimeout;
    this.host = b.host;
    this.ownHttpServer = b.ownHttpServer;
    this.environment = Map.copyOf(b.environment);
    this.metrics = new IngestMetrics(b.meterRegistry);
  }

  /** A builder; config, kafka, serdes and topics are required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Connects to Kafka, creates the labels topics, adds the declared sources, starts CDC when
   * configured and starts answering HTTP. Returns once the server listens (and CDC's engine is
   * submitted; it connects to PostgreSQL in the background and {@code GET /health} says if it
   * stopped).
   *
   * @throws IllegalStateException when already started or closed, or the port is taken
   * @throws IllegalArgumentException when the {@code cdc} section has no password (neither {@code
   *     FLYWHEEL_CDC_PASSWORD} nor {@code cdc.password})
   * @throws dev.flywheel.ingest.source.InvalidSourceException when a declared source is invalid
   * @throws dev.flywheel.ingest.source.IncompatibleSchemaException when the registry refuses a
   *     declared source's schema
   */
  public synchronized IngestService start() {
    if (started || closed) {
      throw new IllegalStateException("the ingest service can start once");
    }
    started = true;
    try {
      admin = Admin.create(adminProps());
      catalog = new SourceCatalog(topics, serdes.client(), admin);
      Topic<?, ?> labels = topics.labels();
      TopicBootstrap.Result result = new TopicBootstrap(admin)
          .ensure(List.of(labels, topics.dlq(labels)));
      if (!result.consistent()) {
        log.warn("label topics differ from the catalogue: {}", result.describe());
      }
      for (SourceDefinition source : config.sourceDefinitions(configDir)) {
        catalog.add(source);
      }
      // a batch producer's metrics are bound once its transactions are initialized and unbound
      // when the writer closes or replaces it (during an outage, a replacement per request)
      writer = new TransactionalBatchWriter(id -> new KafkaProducer<>(transactionalProps(id),
          new StringSerializer(), serdes.generic(false).serializer()),
          producer -> bindMetrics(producer, metrics.registry()),
          transactionalIdPrefix(), config.ingest().producers(), produceTimeout);
      Map<String, Object> dlqProps = producerProps("flywheel-ingest-dlq");
      dlqProducer = withMetrics(new KafkaProducer<>(dlqProps,
          new ByteArraySerializer(), new ByteArraySerializer()));
      if (config.cdc() != null) {
        cdc = cdcIngest(config.cdc()).start();
      }
      List<String> unknownTarget = config.modelsOfUnknownTarget();
      if (!unknownTarget.isEmpty()) {
        log.info("POST /labels accepts every label target: model(s) {} in flywheel.yaml declare"
            + " no 'target', 'featureGroup' or 'training', so ingest cannot know the targets"
            + " they learn; give each its 'target' to have labels of unknown targets refused",
            unknownTarget);
      }
      // a record over its topic's max.message.bytes is refused before its batch's transaction
      // is opened: the limits are read with the admin client (closed last in close()) and the
      // record measured as the batch producers would send it, serialized and compressed
      Map<String, Object> batchProps = transactionalProps(transactionalIdPrefix());
      api = new IngestHttpApi(catalog, writer,
          new DeadLetterWriter(dlqProducer, topics, PROCESSOR,
              RecordSize.maxRequestSize(dlqProps)),
          config.ingest(), produceTimeout, this::health, metrics,
          RecordSize.maxRequestSize(batchProps), config.labelTargets(),
          TopicMessageLimits.of(admin), new RecordBatchSize(batchProps, new StringSerializer(),
              serdes.generic(false).serializer()));
      if (ownHttpServer) {
        Javalin app = Javalin.create(c -> {
          c.jetty.host = host;
          c.jetty.port = config.ingest().port();
          c.http.maxRequestSize = config.ingest().maxBodyBytes();
          c.startup.showJavalinBanner = false;
          c.startup.showOldJavalinVersionWarning = false;
          routes(c.routes);
        });
        app.start();
        http = app;
        log.info("ingest listening on http://{}:{} with {} declared source(s)", host, app.port(),
            config.sources().size());
      }
      return this;
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /**
   * Adds ingest's routes ({@code POST /ingest/{source}}, {@code POST /sources}, {@code POST
   * /labels}, {@code GET /health}) to a Javalin configuration, such as a server shared with other
   * services. May be called before {@link #start()}: until then, and after {@link #close()}, the
   * routes answer 503. The shared server's {@code maxRequestSize} must be at least {@code
   * ingest.maxBodyBytes}.
   */
  public void routes(RoutesConfig routes) {
    routes(routes, true);
  }

  /**
   * As {@link #routes(RoutesConfig)}, leaving out {@code GET /health} when {@code withHealth} is
   * false: for a shared server that answers {@code /health} itself (with {@link #health()}).
   */
  public void routes(RoutesConfig routes, boolean withHealth) {
    IngestHttpApi.routes(routes, () -> closed ? null : api, metrics, withHealth);
  }

  /**
   * The health {@code GET /health} answers: Kafka reachable, the CDC engine running, every CDC
   * table capturing. @throws IllegalStateException before start
   */
  public IngestHealth health() {
    Admin kafka = admin;
    if (kafka == null) {
      throw new IllegalStateException("the ingest service has not started");
    }
    Optional<String> kafkaProblem = kafkaProblem(kafka);
    CdcIngest capture = cdc;
    if (capture == null) {
      return new IngestHealth(kafkaProblem.isEmpty() ? IngestHealth.UP : IngestHealth.DOWN,
          kafkaProblem.orElse(null), null, List.of());
    }
    List<CdcTableStatus> tables = capture.tableStatus();
    List<String> problems = new ArrayList<>();
    kafkaProblem.ifPresent(problems::add);
    boolean running = capture.isRunning();
    if (!running) {
      problems.add("CDC stopped: " + capture.failure().map(Throwable::getMessage)
          .orElse("the Debezium engine is not running") + "; fix the cause and restart ingest");
    }
    boolean down = !problems.isEmpty();
    for (CdcTableStatus table : tables) {
      table.stopReason().ifPresent(problems::add);
    }
    String status = down ? IngestHealth.DOWN
        : problems.isEmpty() ? IngestHealth.UP : IngestHealth.DEGRADED;
    return new IngestHealth(status, problems.isEmpty() ? null : String.join("; ", problems),
        running, tables);
  }

  /** The CDC capture, when the configuration has a {@code cdc} section and the service started. */
  public Optional<CdcIngest> cdc() {
    return Optional.ofNullable(cdc);
  }

  /**
   * The port HTTP listens on. @throws IllegalStateException before start, or when the routes are
   * served by a shared server
   */
  public synchronized int port() {
    if (http == null) {
      throw new IllegalStateException(ownHttpServer ? "the ingest service has not started"
          : "the ingest service has no server of its own; its routes are mounted elsewhere");
    }
    return http.port();
  }

  /** {@code http://127.0.0.1:<port>}. @throws IllegalStateException before start */
  public String url() {
    return "http://127.0.0.1:" + port();
  }

  /** The catalog of sources. @throws IllegalStateException before start */
  public synchronized SourceCatalog catalog() {
    if (catalog == null) {
      throw new IllegalStateException("the ingest service has not started");
    }
    return catalog;
  }

  /**
   * Binds the metrics of {@code producer} (as {@link #bindMetrics}) to the ingest meter registry
   * until {@link #close()}.
   */
  private <K, V> KafkaProducer<K, V> withMetrics(KafkaProducer<K, V> producer) {
    clientMetrics.add(bindMetrics(producer, metrics.registry()));
    return producer;
  }

  /**
   * Binds Micrometer's {@link KafkaClientMetrics} of {@code producer} ({@code kafka.producer.*},
   * tagged {@code service=ingest}) to {@code registry}; closing the binder removes its meters and
   * stops its refresh thread. Close it before the producer.
   */
  static KafkaClientMetrics bindMetrics(Producer<?, ?> producer, MeterRegistry registry) {
    KafkaClientMetrics binder = new KafkaClientMetrics(producer, Tags.of("service", "ingest"));
    binder.bindTo(registry);
    return binder;
  }

  /**
   * Stops HTTP, stops CDC, flushes and closes the producers, closes the admin client. Idempotent.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (http != null) {
      try {
        http.stop();
      } catch (RuntimeException e) {
        log.warn("the ingest HTTP server did not stop cleanly", e);
      }
    }
    if (cdc != null) {
      try {
        cdc.close();
      } catch (RuntimeException e) {
        log.warn("CDC did not stop cleanly", e);
      }
    }
    clientMetrics.forEach(KafkaClientMetrics::close);
    if (writer != null) {
      writer.close();
    }
    for (Producer<?, ?> p : new Producer<?, ?>[] {dlqProducer}) {
      if (p != null) {
        try {
          p.flush();
          p.close(Duration.ofSeconds(10));
        } catch (RuntimeException e) {
          log.warn("an ingest producer did not close cleanly", e);
        }
      }
    }
    if (admin != null) {
      admin.close(Duration.ofSeconds(5));
    }
  }

  private CdcIngest cdcIngest(IngestConfig.Cdc settings) {
    CdcIngest.Builder builder = CdcIngest.builder()
        .bootstrapServers(String.valueOf(kafka.get(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG)))
        .topics(topics)
        .registry(serdes.client())
        .database(settings.host(), settings.port(), settings.database(), settings.user(),
            settings.password(environment))
        .name(settings.name())
        .slotName(settings.slot())
        .publicationName(settings.publication())
        .deleteMode(settings.deleteMode())
        .snapshotMode(settings.snapshotMode())
        .meterRegistry(metrics.registry());
    for (IngestConfig.Table table : settings.tables()) {
      builder.table(table.cdcTable());
    }
    settings.debezium().forEach(builder::debeziumProperty);
    // security and other client settings reach every CDC client as they reach HTTP's
    kafka.forEach((key, value) -> {
      if (!key.equals(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG)
          && !key.equals(ProducerConfig.CLIENT_ID_CONFIG)) {
        builder.kafkaProperty(key, value);
      }
    });
    return builder.build();
  }

  private static Optional<String> kafkaProblem(Admin admin) {
    try {
      admin.describeCluster(new DescribeClusterOptions().timeoutMs(2_000)).clusterId()
          .get(3, TimeUnit.SECONDS);
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.of("interrupted");
    } catch (Exception e) {
      return Optional.of("Kafka is not reachable: " + e.getMessage());
    }
  }

  /** The admin client: the {@code kafka} properties, with a default client id. */
  Map<String, Object> adminProps() {
    Map<String, Object> props = new HashMap<>(kafka);
    props.putIfAbsent(AdminClientConfig.CLIENT_ID_CONFIG, "flywheel-ingest-admin");
    return props;
  }

  /**
   * Settings of a pooled batch producer: transactional (one transaction per HTTP batch), hence
   * idempotent with {@code acks=all}; a commit or a wait for metadata gives up after the produce
   * timeout.
   */
  Map<String, Object> transactionalProps(String transactionalId) {
    Map<String, Object> props = producerProps(transactionalId);
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    props.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, produceTimeout.toMillis());
    // a batch's first send often finds the previous transaction's commit markers still being
    // written (CONCURRENT_TRANSACTIONS); retry soon rather than after the default 100 ms
    // (one request in flight, from producerProps, retries it before any later one goes out)
    props.putIfAbsent(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, 5);
    // an open transaction of a crashed instance holds back read_committed consumers at most
    // this long (a restarted instance with the same ids aborts it at once)
    props.putIfAbsent(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG,
        (int) Math.max(60_000, produceTimeout.toMillis() * 2));
    return props;
  }

  /** {@code ingest.transactionalIdPrefix}, or {@code flywheel-ingest-<host>[-<topic prefix>]}. */
  String transactionalIdPrefix() {
    String configured = config.ingest().transactionalIdPrefix();
    if (configured != null) {
      return configured;
    }
    String hostName;
    try {
      hostName = java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.io.IOException e) {
      hostName = "localhost";
    }
    return "flywheel-ingest-" + hostName
        + (topics.prefix().isEmpty() ? "" : "-" + topics.prefix());
  }

  /** A producer: the {@code kafka} properties with the settings below. */
  Map<String, Object> producerProps(String clientId) {
    // Exactly-once delivery per partition: no duplicates from retries, nothing lost once acked.
    Map<String, Object> props = ProducerSettings.delivery(kafka);
    // Batches arrive as whole HTTP requests: a short linger groups them into few produce calls.
    props.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 5);
    props.putIfAbsent(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    Object prefix = kafka.get(ProducerConfig.CLIENT_ID_CONFIG);
    props.put(ProducerConfig.CLIENT_ID_CONFIG, prefix == null ? clientId : prefix + "-" + clientId);
    // A batch answers 503 after produceTimeout; the producer must give up no later than that.
    props.putIfAbsent(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG,
        (int) Math.max(produceTimeout.toMillis(), 1_000));
    props.putIfAbsent(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG,
        (int) Math.min(30_000, Math.max(produceTimeout.toMillis() / 2, 500)));
    return props;
  }

  /** Builds an {@link IngestService}. */
  public static final class Builder {
    private IngestConfig config;
    private Path configDir = Path.of(".");
    private Map<String, Object> kafka = Map.of();
    private AvroSerdes serdes;
    private Topics topics;
    private Duration produceTimeout = DEFAULT_PRODUCE_TIMEOUT;
    private String host = HOST;
    private boolean ownHttpServer = true;
    private Map<String, String> environment = System.getenv();
    private MeterRegistry meterRegistry = Metrics.globalRegistry;

    private Builder() {}

    /** The ingest settings and declared sources; required. */
    public Builder config(IngestConfig config) {
      this.config = config;
      return this;
    }

    /** The folder schema paths in the config are relative to; default the working directory. */
    public Builder configDir(Path configDir) {
      this.configDir = configDir;
      return this;
    }

    /**
     * Kafka client properties ({@code bootstrap.servers} required; SASL, TLS and any other client
     * property pass through to every Kafka client ingest creates: the admin client, the batch and
     * dead-letter producers, and CDC's clients).
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

    /** The topic catalogue; required. */
    public Builder topics(Topics topics) {
      this.topics = topics;
      return this;
    }

    /** How long a batch may wait for acknowledgements; default 30 s. */
    public Builder produceTimeout(Duration produceTimeout) {
      this.produceTimeout = produceTimeout;
      return this;
    }

    /**
     * Whether {@link IngestService#start()} serves the routes on a server of its own on {@code
     * ingest.port} (the default), or leaves them to a shared server that mounts {@link
     * IngestService#routes(RoutesConfig)}.
     */
    public Builder ownHttpServer(boolean ownHttpServer) {
      this.ownHttpServer = ownHttpServer;
      return this;
    }

    /**
     * The environment variables read for secrets ({@code FLYWHEEL_CDC_PASSWORD}); default the
     * process's.
     */
    public Builder environment(Map<String, String> environment) {
      this.environment = Objects.requireNonNull(environment, "environment");
      return this;
    }

    /**
     * Where ingest's meters go ({@link IngestMetrics}: records accepted, rejected and
     * dead-lettered, HTTP latency, CDC table status and lag); default {@link
     * Metrics#globalRegistry}.
     */
    public Builder meterRegistry(MeterRegistry meterRegistry) {
      this.meterRegistry = Objects.requireNonNull(meterRegistry, "meterRegistry");
      return this;
    }

    /** The interface to listen on; default all ({@code 0.0.0.0}). */
    public Builder host(String host) {
      this.host = host;
      return this;
    }

    /** @throws NullPointerException when a required setting is missing */
    public IngestService build() {
      Objects.requireNonNull(config, "config");
      Objects.requireNonNull(configDir, "configDir");
      Objects.requireNonNull(serdes, "serdes");
      Objects.requireNonNull(topics, "topics");
      Objects.requireNonNull(produceTimeout, "produceTimeout");
      Objects.requireNonNull(host, "host");
      if (!kafka.containsKey(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG)) {
        throw new IllegalArgumentException("kafka properties need bootstrap.servers");
      }
      return new IngestService(this);
    }
  }
}
