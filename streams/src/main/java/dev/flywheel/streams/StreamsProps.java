package dev.flywheel.streams;

import dev.flywheel.serde.AvroSerdeConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;

/**
 * The one place a Flywheel Kafka Streams processor's properties are built. Every non-default
 * setting is explained where it is set; any Kafka client or Streams property can be passed
 * through {@link Builder#overrides(Map)} (SASL, TLS, tuning), and overrides win.
 *
 * <pre>{@code
 * Properties props = StreamsProps.builder("flywheel-features")
 *     .bootstrapServers("localhost:9092")
 *     .schemaRegistryUrl("http://localhost:8081")
 *     .stateDir(Path.of("/var/lib/flywheel/state"))
 *     .build();
 * }</pre>
 */
public final class StreamsProps {

  /**
   * The consumer setting, internal to Kafka's clients but read by its consumers, that says whether
   * a closing consumer leaves its group; Kafka Streams sets it to false for its main consumers.
   */
  static final String LEAVE_GROUP_ON_CLOSE = "internal.leave.group.on.close";

  /** Default bound on the off-heap memory of all RocksDB stores of the JVM. */
  public static final long DEFAULT_ROCKSDB_MEMORY_BYTES =
      BoundedMemoryRocksDBConfig.DEFAULT_MEMORY_BYTES;

  /** Commit interval unless set: 100 ms, Kafka Streams' own default under exactly-once. */
  public static final Duration DEFAULT_COMMIT_INTERVAL = Duration.ofMillis(100);

  /** Kafka's default {@code max.request.size}: 1 MiB. */
  public static final int DEFAULT_MAX_REQUEST_SIZE = 1024 * 1024;

  private StreamsProps() {}

  /**
   * The most a record a processor writes may take, its producer's {@code max.request.size}, in a
   * processor's {@code appConfigs()} ({@code producer.}-prefixed or not; the prefixed one wins,
   * as in Kafka Streams), else Kafka's default. A record over it is refused on every retry, so a
   * processor whose records grow with its input (a state kept per key) checks against it.
   */
  public static int maxRequestSize(Map<String, Object> appConfigs) {
    Object value = appConfigs.get(
        StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG));
    if (value == null) {
      value = appConfigs.get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
    }
    return value == null ? DEFAULT_MAX_REQUEST_SIZE : Integer.parseInt(value.toString().trim());
  }

  /**
   * Starts the properties of the processor with this application id (also the consumer group and
   * the prefix of its internal topics, so it must stay stable across releases).
   */
  public static Builder builder(String applicationId) {
    return new Builder(applicationId);
  }

  /** Builds {@link Properties}; {@link #bootstrapServers} is required. */
  public static final class Builder {
    private final String applicationId;
    private String bootstrapServers;
    private String schemaRegistryUrl;
    private Path stateDir;
    private int standbyReplicas;
    private int numStreamThreads = 1;
    private long rocksDbMemoryBytes = DEFAULT_ROCKSDB_MEMORY_BYTES;
    private int replicationFactor = -1;
    private Duration commitInterval = DEFAULT_COMMIT_INTERVAL;
    private String applicationServer;
    private final Map<String, Object> overrides = new LinkedHashMap<>();

    private Builder(String applicationId) {
      this.applicationId = Objects.requireNonNull(applicationId, "applicationId");
      if (applicationId.isBlank()) {
        throw new IllegalArgumentException("applicationId must not be blank");
      }
    }

    /** Brokers to connect to, {@code host:port[,host:port...]}; required. */
    public Builder bootstrapServers(String bootstrapServers) {
      this.bootstrapServers = Objects.requireNonNull(bootstrapServers, "bootstrapServers");
      return this;
    }

    /** Schema registry the Avro serdes use; optional when the serdes are configured directly. */
    public Builder schemaRegistryUrl(String schemaRegistryUrl) {
      this.schemaRegistryUrl = schemaRegistryUrl;
      return this;
    }

    /** Where RocksDB keeps state; Kafka Streams' temp-dir default when not set. */
    public Builder stateDir(Path stateDir) {
      this.stateDir = stateDir;
      return this;
    }

    /** Warm copies of each store on other instances, for fast fail-over; default 0. */
    public Builder standbyReplicas(int standbyReplicas) {
      if (standbyReplicas < 0) {
        throw new IllegalArgumentException("standbyReplicas must be >= 0, got " + standbyReplicas);
      }
      this.standbyReplicas = standbyReplicas;
      return this;
    }

    /** Stream threads of this instance; default 1. */
    public Builder numStreamThreads(int numStreamThreads) {
      if (numStreamThreads < 1) {
        throw new IllegalArgumentException(
            "numStreamThreads must be >= 1, got " + numStreamThreads);
      }
      this.numStreamThreads = numStreamThreads;
      return this;
    }

    /**
     * Off-heap bytes all RocksDB stores of the JVM share (see BoundedMemoryRocksDBConfig); at least
     * 1 MiB, checked by {@link #build()}.
     */
    public Builder rocksDbMemoryBytes(long rocksDbMemoryBytes) {
      this.rocksDbMemoryBytes = rocksDbMemoryBytes;
      return this;
    }

    /**
     * Replication factor of the processor's changelog and repartition topics and of the
     * dead-letter topics it creates: Flywheel's {@code kafka.replicationFactor}, that of the
     * catalogue's topics. When not set, the broker's {@code default.replication.factor}.
     */
    public Builder replicationFactor(int replicationFactor) {
      if (replicationFactor < 1) {
        throw new IllegalArgumentException(
            "replicationFactor must be >= 1, got " + replicationFactor);
      }
      this.replicationFactor = replicationFactor;
      return this;
    }

    /**
     * As {@link #replicationFactor(int)} when {@code given} holds a factor (a catalogue's {@code
     * Topics.givenReplicationFactor()}); when empty, the broker's {@code
     * default.replication.factor} applies, as for topics Flywheel was told nothing about.
     */
    public Builder replicationFactor(java.util.Optional<Short> given) {
      given.ifPresent(factor -> replicationFactor((int) factor));
      return this;
    }

    /** How often offsets and transactions commit; default 100 ms. */
    public Builder commitInterval(Duration commitInterval) {
      this.commitInterval = Objects.requireNonNull(commitInterval, "commitInterval");
      return this;
    }

    /**
     * {@code host:port} other instances use to reach this one's HTTP API, for routing interactive
     * queries to the instance that owns a key; optional.
     */
    public Builder applicationServer(String applicationServer) {
      this.applicationServer = applicationServer;
      return this;
    }

    /** Any Streams or client property; applied last, so these win. */
    public Builder overrides(Map<String, ?> overrides) {
      this.overrides.putAll(Objects.requireNonNull(overrides, "overrides"));
      return this;
    }

    /**
     * @throws IllegalStateException when the bootstrap servers are missing
     * @throws IllegalArgumentException when {@code flywheel.rocksdb.memory.bytes} (set or
     *     overridden) is not a number of bytes of at least 1 MiB
     */
    public Properties build() {
      if (bootstrapServers == null && !overrides.containsKey(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG)) {
        throw new IllegalStateException("bootstrapServers is required for " + applicationId);
      }
      Properties p = new Properties();
      p.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
      if (bootstrapServers != null) {
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
      }
      // Exactly-once: each input record's state change, outputs and offset commit are atomic.
      p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
      p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitInterval.toMillis());
      p.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, standbyReplicas);
      p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, numStreamThreads);
      // One memory budget for every RocksDB store in the JVM, however many processors run.
      p.put(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG, BoundedMemoryRocksDBConfig.class);
      p.put(BoundedMemoryRocksDBConfig.MEMORY_BYTES_CONFIG, rocksDbMemoryBytes);
      // Unreadable records and records a processor throws on go to <topic>.dlq; never a crash.
      p.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
          DeadLetterDeserializationHandler.class);
      p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG,
          DeadLetterProcessingHandler.class);
      // An output or changelog record that cannot be written (too large, a topic it may not
      // write, a serializer that throws) is never dropped: the thread fails and the transaction
      // aborts, as by Kafka's default, logged with the output topic and the source record.
      p.put(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, OutputErrorHandler.class);
      // The record cache would delay outputs by up to a commit; outputs go out per record.
      p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
      // Changelogs and outputs must survive a broker loss as the topics' replication allows.
      p.put(StreamsConfig.producerPrefix(ProducerConfig.ACKS_CONFIG), "all");
      // One produce request in flight. Under the transaction protocol of Kafka 4 the first send of
      // a transaction can be refused (CONCURRENT_TRANSACTIONS) while the previous commit's markers
      // are written; with later batches already in flight the broker then refuses those as out of
      // order, and the producer was seen to stall for minutes. With one in flight the retried
      // batch is the only one, in order by construction.
      p.put(StreamsConfig.producerPrefix(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION), 1);
      // Read what upstream processors committed, never their aborted writes.
      p.put(StreamsConfig.consumerPrefix(ConsumerConfig.ISOLATION_LEVEL_CONFIG), "read_committed");
      // A stream thread's consumer leaves the group when it closes: on a clean shutdown, and when
      // a failed thread is replaced (ReplaceFailedThreads). Kafka Streams keeps it in the group by
      // default, which only pays with static membership (group.instance.id), where a restarted
      // instance takes its member back. Flywheel's members are dynamic: a restart joins as a new
      // member, and the old one held its partitions, processed by nobody, until its session timed
      // out (session.timeout.ms, 45 s) -- after every restart, and for every replaced thread.
      // (KafkaStreams.close(CloseOptions.leaveGroup(true)) leaves only static members in 4.1.)
      p.put(StreamsConfig.mainConsumerPrefix(LEAVE_GROUP_ON_CLOSE), true);
      if (replicationFactor > 0) {
        // Changelogs and repartition topics (and dead-letter topics, DeadLetters) replicated as
        // the catalogue's topics are, not by the broker's default.replication.factor (Kafka
        // Streams' default, -1), which may be 1 where Flywheel's topics have 3.
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, replicationFactor);
      }
      if (stateDir != null) {
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toAbsolutePath().toString());
      }
      if (applicationServer != null) {
        p.put(StreamsConfig.APPLICATION_SERVER_CONFIG, applicationServer);
      }
      if (schemaRegistryUrl != null) {
        p.put(AvroSerdeConfig.SCHEMA_REGISTRY_URL, schemaRegistryUrl);
      }
      p.putAll(overrides);
      // A RocksDB budget the first store would refuse (e.g. "128MB") fails here, at start, not
      // in every stream thread that opens a store, again after each replacement.
      BoundedMemoryRocksDBConfig.budget(Map.of(BoundedMemoryRocksDBConfig.MEMORY_BYTES_CONFIG,
          p.get(BoundedMemoryRocksDBConfig.MEMORY_BYTES_CONFIG)));
      return p;
    }
  }
}
