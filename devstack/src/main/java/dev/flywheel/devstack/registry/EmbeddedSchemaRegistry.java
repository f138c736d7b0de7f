package dev.flywheel.devstack.registry;

import dev.flywheel.registry.CompatibilityLevel;
import io.javalin.Javalin;
import java.time.Duration;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Confluent-compatible schema registry in this JVM: the Confluent Schema Registry REST API over
 * HTTP on 127.0.0.1, keeping its schemas in a compacted Kafka topic, so that Flywheel's client,
 * Confluent's serializers, kafkajs and Kafka UI can use it unchanged.
 *
 * <pre>{@code
 * try (EmbeddedSchemaRegistry registry = EmbeddedSchemaRegistry.builder()
 *     .bootstrapServers(kafka.bootstrapServers())
 *     .build()
 *     .start()) {
 *   String url = registry.url(); // http://127.0.0.1:<port>
 * }
 * }</pre>
 *
 * <h2>API</h2>
 * Subjects and versions ({@code /subjects/...}, with soft and {@code permanent=true} deletes),
 * schemas by global id ({@code /schemas/ids/{id}}, {@code .../schema}, {@code .../versions}),
 * {@code /schemas/types}, {@code /compatibility/subjects/{s}/versions/{v}} (against that version
 * alone, or the latest, whatever the level, as in Confluent's registry) and {@code
 * /compatibility/subjects/{s}/versions} (against the versions a registration is checked with),
 * global and subject {@code /config}, and {@code /mode}, which always answers {@code READWRITE}.
 * Errors carry Confluent's HTTP statuses and {@code error_code}s (40401, 40402, 40403, 40408, 409,
 * 42201, 42202, 42203, 500xx). Only AVRO schemas are accepted, without references.
 *
 * <h2>Compatibility</h2>
 * A new version is checked with Avro's {@code SchemaCompatibility} against the subject's live (not
 * soft-deleted) versions, at the subject's level, else the global level, else the default given to
 * the builder ({@link CompatibilityLevel#BACKWARD} unless set). An identical schema (same JSON as
 * printed by Avro after parsing: formatting does not count, docs and defaults do) re-registered
 * under a subject returns its existing id; under another subject it gets the same global id.
 *
 * <h2>Persistence and failure</h2>
 * Every change is a record of the {@code _schemas} topic (created if missing: 1 partition,
 * compacted, replication factor 1), in the Confluent registry's own format: key {@code
 * {"keytype":"SCHEMA","subject":"s","version":1,"magic":1}} with value {@code
 * {"subject":"s","version":1,"id":1,"schema":"...","deleted":false}}, key {@code
 * {"keytype":"CONFIG","subject":null|"s","magic":0}} with value {@code
 * {"compatibilityLevel":"BACKWARD"}}; a permanent delete writes a tombstone, a removed
 * configuration a null value. A change is written with {@code acks=all} by an idempotent producer
 * and applied to memory only once acknowledged; a failed write answers 50001 (50002 on timeout)
 * and is not applied. A write that timed out may still reach the topic, and a restart then shows
 * it, so the id and version number of a registration whose write failed are never given again.
 * {@link #start()} reads the topic from its beginning to its end before it answers, so ids,
 * versions and configurations survive a restart of the registry and of the broker on the same
 * data; the next id is the highest id read plus one.
 *
 * <p>There must be a single registry per topic: the registry reads the topic only at start, so
 * writes by another registry on the same topic are not seen and could reuse its ids. The ids of
 * permanently deleted schemas may be given again after a restart once compaction removed them, as
 * in Confluent's registry.
 *
 * <h2>Threads</h2>
 * Requests are served concurrently; changes are serialized, and a read sees the state before or
 * after a change, never between.
 */
public final class EmbeddedSchemaRegistry implements AutoCloseable {

  /** The port {@code flywheel up} uses, as any local schema registry does. */
  public static final int DEFAULT_PORT = 8081;

  /** The topic Confluent's registry uses, and the default here. */
  public static final String DEFAULT_TOPIC = "_schemas";

  private static final Logger log = LoggerFactory.getLogger(EmbeddedSchemaRegistry.class);
  private static final String HOST = "127.0.0.1";
  private static final Duration STORE_TIMEOUT = Duration.ofSeconds(30);

  private final String bootstrapServers;
  private final String topic;
  private final int requestedPort;
  private final CompatibilityLevel defaultCompatibility;
  private KafkaSchemaLog schemaLog;
  private Javalin http;
  private int port;
  private boolean closed;

  private EmbeddedSchemaRegistry(Builder builder) {
    this.bootstrapServers = builder.bootstrapServers;
    this.topic = builder.topic;
    this.requestedPort = builder.port;
    this.defaultCompatibility = builder.defaultCompatibility;
  }

  /** A builder; only {@link Builder#bootstrapServers} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Creates the schema topic if missing, reads it to its end, then starts answering HTTP. Returns
   * once the registry answers. Starting a running registry does nothing.
   *
   * @return this registry
   * @throws IllegalStateException when the registry was closed, the broker cannot be reached, the
   *     topic cannot be created or read within 30 s, or the port is taken; with the cause
   */
  public synchronized EmbeddedSchemaRegistry start() {
    if (closed) {
      throw new IllegalStateException("this EmbeddedSchemaRegistry was closed; build a new one");
    }
    if (http != null) {
      return this;
    }
    long started = System.nanoTime();
    KafkaSchemaLog kafkaLog = new KafkaSchemaLog(bootstrapServers, topic, STORE_TIMEOUT);
    try {
      kafkaLog.ensureTopic();
      SchemaStore store = new SchemaStore(kafkaLog, defaultCompatibility);
      long records = kafkaLog.replay(store::apply);
      kafkaLog.openWriter();
      RegistryApi api = new RegistryApi(store);
      Javalin app = Javalin.create(config -> {
        config.jetty.host = HOST;
        config.jetty.port = requestedPort;
        config.startup.showJavalinBanner = false;
        config.startup.showOldJavalinVersionWarning = false;
        config.http.defaultContentType = RegistryApi.RESPONSE_CONTENT_TYPE;
        api.routes(config.routes);
      });
      try {
        app.start();
      } catch (RuntimeException e) {
        app.stop();
        throw new IllegalStateException("the schema registry cannot listen on " + HOST + ":"
            + requestedPort + ": " + e.getMessage(), e);
      }
      http = app;
      schemaLog = kafkaLog;
      port = app.port();
      log.info("schema registry up at {} in {} ms: {} from {} records of topic '{}' on {}", url(),
          (System.nanoTime() - started) / 1_000_000, store.summary(), records, topic,
          bootstrapServers);
      return this;
    } catch (RuntimeException e) {
      kafkaLog.close();
      throw e instanceof IllegalStateException ? e : new IllegalStateException(
          "the schema registry could not start: " + e.getMessage(), e);
    }
  }

  /**
   * The base URL, {@code http://127.0.0.1:<port>}, for {@code schema.registry.url}.
   *
   * @throws IllegalStateException before the registry has started
   */
  public String url() {
    return "http://" + HOST + ":" + port();
  }

  /**
   * The port the registry listens on.
   *
   * @throws IllegalStateException before the registry has started
   */
  public synchronized int port() {
    if (port == 0) {
      throw new IllegalStateException("the schema registry has no port until it is started");
    }
    return port;
  }

  /** The Kafka topic holding the schemas. */
  public String topic() {
    return topic;
  }

  /** Stops answering HTTP and closes the topic writer. Idempotent; the topic is kept. */
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
        log.warn("the schema registry's HTTP server did not stop cleanly", e);
      }
      http = null;
    }
    if (schemaLog != null) {
      schemaLog.close();
      schemaLog = null;
    }
    if (port != 0) {
      log.info("schema registry at {} stopped", url());
    }
  }

  /** Configures an {@link EmbeddedSchemaRegistry}. */
  public static final class Builder {
    private String bootstrapServers;
    private int port;
    private String topic = DEFAULT_TOPIC;
    private CompatibilityLevel defaultCompatibility = CompatibilityLevel.BACKWARD;

    private Builder() {}

    /** Required: the Kafka cluster holding the schema topic, as {@code host:port[,...]}. */
    public Builder bootstrapServers(String bootstrapServers) {
      this.bootstrapServers = Objects.requireNonNull(bootstrapServers, "bootstrapServers");
      return this;
    }

    /** The HTTP port on 127.0.0.1; 0 (the default) picks a free one at start. */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be 0..65535, was " + port);
      }
      this.port = port;
      return this;
    }

    /** The schema topic; {@value EmbeddedSchemaRegistry#DEFAULT_TOPIC} unless set. */
    public Builder topic(String topic) {
      Objects.requireNonNull(topic, "topic");
      if (topic.isBlank()) {
        throw new IllegalArgumentException("topic must not be blank");
      }
      this.topic = topic;
      return this;
    }

    /**
     * The global compatibility level until one is set through {@code PUT /config};
     * {@link CompatibilityLevel#BACKWARD} unless set.
     */
    public Builder defaultCompatibility(CompatibilityLevel level) {
      this.defaultCompatibility = Objects.requireNonNull(level, "defaultCompatibility");
      return this;
    }

    /**
     * Builds the registry; nothing runs until {@link EmbeddedSchemaRegistry#start()}.
     *
     * @throws IllegalStateException when the bootstrap servers are not set
     */
    public EmbeddedSchemaRegistry build() {
      if (bootstrapServers == null || bootstrapServers.isBlank()) {
        throw new IllegalStateException("bootstrapServers is required: the Kafka cluster that"
            + " holds the schema topic");
      }
      return new EmbeddedSchemaRegistry(this);
    }
  }
}
