package dev.flywheel.client;

import dev.flywheel.events.DriftAlert;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.Prediction;
import dev.flywheel.registry.RegisteredSchema;
import dev.flywheel.registry.SchemaRegistryClient;
import dev.flywheel.registry.SchemaRegistryClientConfig;
import dev.flywheel.registry.SchemaRegistryException;
import dev.flywheel.serde.AvroSerdeConfig;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.serde.AvroSerializer;
import dev.flywheel.topics.ProducerSettings;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Flywheel for applications: send source records and labels, and follow promotions, drift alerts
 * and predictions, against a running platform ({@code flywheel up} or your own cluster). Depends
 * on Flywheel's schemas only, not on its services.
 *
 * <pre>{@code
 * try (FlywheelClient flywheel = FlywheelClient.builder()
 *     .bootstrapServers("127.0.0.1:9092")
 *     .schemaRegistryUrl("http://127.0.0.1:8081")
 *     .build()) {
 *   flywheel.onPromoted((promoted, at) -> System.out.println(promoted.getModel() + " v"
 *       + promoted.getVersion()));
 *   flywheel.source("transactions").sendJson("{\"card_id\": \"card-7\", ...}");
 *   flywheel.labels().send("tx-1", 1.0);
 * }
 * }</pre>
 *
 * <p>A registry behind authentication or private TLS takes the registry client's settings, with
 * Confluent's names: {@code .schemaRegistry(Map.of("basic.auth.credentials.source", "USER_INFO",
 * "basic.auth.user.info", key + ":" + secret))} (see {@link Builder#schemaRegistry}).
 *
 * <p>Sends are idempotent producer writes with {@code acks=all}; each returns a future of the
 * record's position. Each {@code on...} handler runs on its own background {@code
 * read_committed} consumer ({@link Subscription}); {@link #close()} stops them all and flushes
 * what was sent. Thread-safe: sends do not wait for a handler being registered, nor for {@code
 * close()}.
 */
public final class FlywheelClient implements AutoCloseable {

  private final Map<String, Object> kafka;
  private final String groupId;
  private final StartPosition start;
  private final SchemaRegistryClient registry;
  private final Topics topics;
  private final Serializer<GenericRecord> sourceSerializer;
  private final Function<Map<String, Object>, Consumer<String, byte[]>> consumers;
  private final Map<String, SourceSender> sources = new ConcurrentHashMap<>();
  /** Guards {@link #subscriptions} and the change of {@link #closed}; never held while waiting. */
  private final Object lock = new Object();
  /** The open subscriptions; a closed one removes itself. */
  private final List<Subscription> subscriptions = new ArrayList<>();
  private volatile boolean closed;
  /** Guards the producer's creation and {@link #producerClosed}. */
  private final Object producerLock = new Object();
  private volatile KafkaProducer<String, byte[]> producer;
  /** Set by close() once the handlers stopped: sends made before are flushed, later ones fail. */
  private volatile boolean producerClosed;

  private FlywheelClient(Builder b) {
    this.kafka = Map.copyOf(b.kafka);
    this.groupId = b.groupId;
    this.start = b.start;
    this.consumers = b.consumers;
    try {
      this.registry = SchemaRegistryClient.fromConfig(b.schemaRegistry);
    } catch (ConfigException e) {
      throw new IllegalArgumentException("invalid schema registry settings: " + e.getMessage(), e);
    }
    AvroSerdes serdes = new AvroSerdes(registry, Map.of());
    this.topics = Topics.builder(serdes).prefix(b.topicPrefix).build();
    // source records are written with the source's registered schema, never a new one
    this.sourceSerializer = new AvroSerializer<>(registry,
        Map.of(AvroSerdeConfig.AUTO_REGISTER_SCHEMAS, false), false);
  }

  /** Starts a client; {@link Builder#bootstrapServers} and {@link Builder#schemaRegistryUrl}. */
  public static Builder builder() {
    return new Builder();
  }

  /** The topic catalogue of the platform this client talks to (its prefix applied). */
  public Topics topics() {
    return topics;
  }

  /**
   * The sender of ingest source {@code name} (e.g. {@code transactions}): records go to {@code
   * flywheel.data.<name>} with the schema registered for it.
   *
   * @throws FlywheelClientException when the source is not registered or the registry cannot be
   *     reached
   */
  public SourceSender source(String name) {
    Objects.requireNonNull(name, "name");
    return sources.computeIfAbsent(name, n -> {
      Topic<String, GenericRecord> topic;
      try {
        topic = topics.data(n);
      } catch (IllegalArgumentException e) {
        throw new FlywheelClientException(e.getMessage(), e);
      }
      String subject = topic.name() + "-value";
      RegisteredSchema latest;
      try {
        latest = registry.getLatest(subject);
      } catch (SchemaRegistryException e) {
        throw new FlywheelClientException("source '" + n + "' has no schema under subject "
            + subject + " (" + e.getMessage() + "); add it with flywheel sources add " + n
            + " --schema <file.avsc> --key <field> --time <field>", e);
      }
      return new SourceSender(this, n, topic.name(), latest.schema());
    });
  }

  /** The sender of labels, to {@code flywheel.labels}. */
  public LabelSender labels() {
    return new LabelSender(this, topics.labels().name());
  }

  /**
   * Calls {@code handler} with every model promotion (and rollback) on {@code
   * flywheel.model.promoted}, from now on (or as the builder's group and start position say).
   *
   * @throws FlywheelClientException when the topic does not exist
   */
  public Subscription onPromoted(EventHandler<ModelPromoted> handler) {
    return subscribe(topics.modelPromoted(), handler);
  }

  /** Calls {@code handler} with every drift alert on {@code flywheel.drift.alerts}. */
  public Subscription onDriftAlert(EventHandler<DriftAlert> handler) {
    return subscribe(topics.driftAlerts(), handler);
  }

  /** Calls {@code handler} with every prediction on {@code flywheel.predictions}. */
  public Subscription onPrediction(EventHandler<Prediction> handler) {
    return subscribe(topics.predictions(), handler);
  }

  private <E> Subscription subscribe(Topic<String, E> topic, EventHandler<E> handler) {
    Objects.requireNonNull(handler, "handler");
    checkOpen();
    String group = groupId == null ? null : groupId + "." + topic.name();
    // outside the lock: positioning asks the broker, which may take up to default.api.timeout.ms
    Subscription s = new Subscription(topic.name(), kafka, group, start,
        topic.valueSerde().deserializer(), handler, consumers, this::forget);
    synchronized (lock) {
      if (!closed) {
        if (s.isRunning()) { // not closed meanwhile by its own handler
          subscriptions.add(s);
        }
        return s;
      }
    }
    s.close(); // the client was closed while it was being positioned
    throw closedException();
  }

  private void forget(Subscription s) {
    synchronized (lock) {
      subscriptions.remove(s);
    }
  }

  /** The open subscriptions. */
  List<Subscription> subscriptions() {
    synchronized (lock) {
      return List.copyOf(subscriptions);
    }
  }

  CompletableFuture<EventPosition> sendSource(String topic, String key, GenericRecord record) {
    byte[] value;
    try {
      value = sourceSerializer.serialize(topic, record);
    } catch (SerializationException e) {
      throw new FlywheelClientException("the record does not fit the schema registered for "
          + topic + ": " + e.getMessage(), e);
    }
    return send(topic, key, value);
  }

  <V> CompletableFuture<EventPosition> sendEvent(String topic, String key, V event) {
    @SuppressWarnings("unchecked")
    Topic<String, V> typed = (Topic<String, V>) topics.all().stream()
        .filter(t -> t.name().equals(topic)).findFirst().orElseThrow();
    return send(topic, key, typed.valueSerde().serializer().serialize(topic, event));
  }

  private CompletableFuture<EventPosition> send(String topic, String key, byte[] value) {
    CompletableFuture<EventPosition> result = new CompletableFuture<>();
    try {
      producer().send(new ProducerRecord<>(topic, key, value), (metadata, e) -> {
        if (e != null) {
          result.completeExceptionally(new FlywheelClientException("writing to " + topic
              + " failed: " + e.getMessage(), e));
        } else {
          result.complete(new EventPosition(topic, metadata.partition(), metadata.offset(), key));
        }
      });
    } catch (IllegalStateException e) {
      if (producerClosed) { // close() closed the producer after this send took it
        throw closedException();
      }
      throw e;
    }
    return result;
  }

  /**
   * The producer, made on the first send. Only its creation takes a lock, and not the one
   * subscribe() and close() take: a send waits neither for a handler being registered nor for
   * close() waiting on the handlers (one of which may be sending).
   */
  private KafkaProducer<String, byte[]> producer() {
    KafkaProducer<String, byte[]> p = producer;
    if (p != null && !producerClosed) {
      return p;
    }
    synchronized (producerLock) {
      if (producerClosed) {
        throw closedException();
      }
      if (producer == null) {
        producer = new KafkaProducer<>(ProducerSettings.delivery(kafka), new StringSerializer(),
            new ByteArraySerializer());
      }
      return producer;
    }
  }

  private void checkOpen() {
    if (closed) {
      throw closedException();
    }
  }

  private static IllegalStateException closedException() {
    return new IllegalStateException("the Flywheel client is closed");
  }

  /**
   * Stops every handler's consumer (waiting up to ten seconds each), then flushes and closes the
   * producer: what was sent until then, by a handler finishing its event too, is written; a send
   * after that throws {@link IllegalStateException}, and so does registering a handler once
   * close() was called. Idempotent: a second call returns at once.
   */
  @Override
  public void close() {
    List<Subscription> open;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      open = new ArrayList<>(subscriptions);
      subscriptions.clear();
    }
    open.forEach(Subscription::close);
    KafkaProducer<String, byte[]> p;
    synchronized (producerLock) {
      producerClosed = true;
      p = producer;
    }
    if (p != null) {
      p.close(Duration.ofSeconds(30));
    }
  }

  /** Builds a {@link FlywheelClient}. */
  public static final class Builder {

    /** What {@link #schemaRegistry} takes: the keys {@link SchemaRegistryClientConfig} reads. */
    static final Set<String> SCHEMA_REGISTRY_KEYS = SchemaRegistryClientConfig.KEYS;

    private final Map<String, Object> kafka = new LinkedHashMap<>();
    private final Map<String, Object> schemaRegistry = new LinkedHashMap<>();
    private String topicPrefix = "";
    private String groupId;
    private StartPosition start = StartPosition.LATEST;
    private Function<Map<String, Object>, Consumer<String, byte[]>> consumers =
        Subscription::kafkaConsumer;

    private Builder() {}

    /** Kafka bootstrap servers, e.g. {@code 127.0.0.1:9092}; required. */
    public Builder bootstrapServers(String bootstrapServers) {
      kafka.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG,
          Objects.requireNonNull(bootstrapServers, "bootstrapServers"));
      return this;
    }

    /**
     * Schema registry URL, e.g. {@code http://127.0.0.1:8081}, or several comma-separated, tried
     * in order; required (here or as {@code schema.registry.url} in {@link #schemaRegistry}).
     */
    public Builder schemaRegistryUrl(String schemaRegistryUrl) {
      schemaRegistry.put(SchemaRegistryClientConfig.URL,
          Objects.requireNonNull(schemaRegistryUrl, "schemaRegistryUrl"));
      return this;
    }

    /**
     * Settings of the schema registry client, with Confluent's names ({@link
     * SchemaRegistryClientConfig}), for a registry behind authentication or private TLS: {@code
     * basic.auth.credentials.source=USER_INFO} with {@code basic.auth.user.info=user:password},
     * {@code bearer.auth.credentials.source=STATIC_TOKEN} with {@code bearer.auth.token}, {@code
     * schema.registry.ssl.truststore.*} and {@code schema.registry.ssl.keystore.*}, retries and
     * timeouts. Values are strings or the matching Java types. Added to those given before, a
     * later value of a key winning; {@code schema.registry.url} is the same setting as {@link
     * #schemaRegistryUrl}. The serde settings ({@code auto.register.schemas} and the like) are the
     * client's own and refused by {@link #build()}, as is any key the registry client does not
     * read.
     *
     * @throws NullPointerException when {@code properties}, one of its keys or values is null
     */
    public Builder schemaRegistry(Map<String, ?> properties) {
      Objects.requireNonNull(properties, "properties").forEach((key, value) -> schemaRegistry.put(
          Objects.requireNonNull(key, "a schema registry property's name"),
          Objects.requireNonNull(value, () -> "the value of schema registry property " + key)));
      return this;
    }

    /** The topic prefix the platform runs with ({@code acme} for {@code acme.flywheel.*}). */
    public Builder topicPrefix(String topicPrefix) {
      this.topicPrefix = Objects.requireNonNull(topicPrefix, "topicPrefix");
      return this;
    }

    /**
     * Any Kafka client property for the producer and the handlers' consumers (security, client
     * id, timeouts); serializer and isolation settings are the client's own. {@code
     * transactional.id} (sends are not transactional) and {@code group.id} (use {@link #groupId})
     * are refused by {@link #build()}.
     */
    public Builder kafka(Map<String, ?> properties) {
      kafka.putAll(Objects.requireNonNull(properties, "properties"));
      return this;
    }

    /**
     * Makes handlers consumer-group members ({@code <groupId>.<topic>}) that resume where they
     * left off and commit after each batch; default none (each handler reads every partition).
     */
    public Builder groupId(String groupId) {
      this.groupId = Objects.requireNonNull(groupId, "groupId");
      return this;
    }

    /** Where handlers start without a committed position; default {@link StartPosition#LATEST}. */
    public Builder startFrom(StartPosition start) {
      this.start = Objects.requireNonNull(start, "start");
      return this;
    }

    /** Makes the handlers' consumers from their properties; for tests (default Kafka's). */
    Builder consumers(Function<Map<String, Object>, Consumer<String, byte[]>> consumers) {
      this.consumers = Objects.requireNonNull(consumers, "consumers");
      return this;
    }

    /**
     * Builds the client; it asks neither Kafka nor the registry yet.
     *
     * @throws IllegalStateException naming what is missing
     * @throws IllegalArgumentException when the topic prefix is not a legal prefix, a Kafka
     *     property is one the client refuses, saying what to do instead, or a schema registry
     *     setting is not one the registry client reads or has an invalid value, naming it (never
     *     a credential)
     */
    public FlywheelClient build() {
      if (kafka.get(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG) == null) {
        throw new IllegalStateException("bootstrapServers is required, e.g. 127.0.0.1:9092");
      }
      if (schemaRegistry.get(SchemaRegistryClientConfig.URL) == null) {
        throw new IllegalStateException(
            "schemaRegistryUrl is required, e.g. http://127.0.0.1:8081");
      }
      for (String key : schemaRegistry.keySet()) {
        if (!SCHEMA_REGISTRY_KEYS.contains(key)) {
          throw new IllegalArgumentException("the schema registry property " + key + " is not"
              + " a setting of the registry client; fix its name or remove it (the client's"
              + " serde settings are its own). The settings are: "
              + String.join(", ", new TreeSet<>(SCHEMA_REGISTRY_KEYS)));
        }
      }
      if (kafka.containsKey(ProducerConfig.TRANSACTIONAL_ID_CONFIG)) {
        throw new IllegalArgumentException("the Kafka property "
            + ProducerConfig.TRANSACTIONAL_ID_CONFIG + " is not supported: the client's sends"
            + " are idempotent but not transactional; remove it (to write several records"
            + " atomically, send them in one batch to ingest's POST /ingest/{source})");
      }
      if (kafka.containsKey(ConsumerConfig.GROUP_ID_CONFIG)) {
        throw new IllegalArgumentException("the Kafka property "
            + ConsumerConfig.GROUP_ID_CONFIG + " is not supported: set the handlers' consumer"
            + " group with groupId(\"" + kafka.get(ConsumerConfig.GROUP_ID_CONFIG)
            + "\") instead (each handler joins <groupId>.<topic>), and remove it from kafka()");
      }
      return new FlywheelClient(this);
    }
  }
}
