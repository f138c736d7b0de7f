package dev.flywheel.ingest.cdc;

import dev.flywheel.ingest.dlq.DeadLetterWriter;
import dev.flywheel.ingest.metrics.IngestMetrics;
import dev.flywheel.registry.SchemaRegistryClient;
import dev.flywheel.topics.ProducerSettings;
import dev.flywheel.topics.RecordSize;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import io.debezium.embedded.Connect;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Change data capture from PostgreSQL into Flywheel source topics: Debezium's embedded engine with
 * the PostgreSQL connector ({@code pgoutput}) on a list of tables, each mapped to a source.
 *
 * <pre>{@code
 * try (CdcIngest cdc = CdcIngest.builder()
 *     .bootstrapServers("127.0.0.1:9092")
 *     .topics(topics)
 *     .registry(registry)
 *     .database("127.0.0.1", 5432, "shop", "postgres", "secret")
 *     .table("public.orders", "orders")
 *     .build()) {
 *   cdc.start();
 *   ...
 * }
 * }</pre>
 *
 * <p>Each inserted or updated row becomes a record on {@code flywheel.data.<source>}, keyed by the
 * row's primary key (as a string; composite keys joined by {@code ':'}, with {@code \} and
 * {@code :} in text values escaped as {@code \\} and {@code \:}), whose value is the row's
 * after-image as Avro (see {@link ConnectToAvro} for the type mapping) plus {@code cdc_op}, {@code
 * cdc_lsn} and {@code cdc_commit_time}; the schema is registered under {@code <topic>-value} only
 * if the registry finds it compatible. A deleted row becomes a tombstone or a delete event ({@link
 * DeleteMode}).
 *
 * <p>Delivery: records are produced with an idempotent {@code acks=all} producer, and Debezium's
 * offsets (in the catalogue's {@link Topics#cdcOffsets()} topic, through Kafka Connect's {@code
 * KafkaOffsetBackingStore}) are committed only for changes Kafka acknowledged, so a restart resumes
 * where ingest stopped. Changes Debezium delivers again after a crash are skipped: every record
 * carries its {@link CdcPosition} in a header, and on start the last position of every partition
 * of each source topic is read back. Snapshot reads ({@code cdc_op = r}) are not deduplicated: a
 * snapshot interrupted before it completed is taken again from the start. Nor are the changes of
 * the first transaction Debezium streams without stored offsets, which carry no commit LSN to
 * order them by (see {@link CdcPosition}): they are written, at least once.
 *
 * <p>{@link #start()} and {@link #close()} may each be called once; {@code close()} is idempotent.
 */
public final class CdcIngest implements AutoCloseable {

  /** The replication slot used unless {@link Builder#slotName} says otherwise. */
  public static final String DEFAULT_SLOT = "flywheel_cdc";

  /** The publication used unless {@link Builder#publicationName} says otherwise. */
  public static final String DEFAULT_PUBLICATION = "flywheel_cdc";

  /** The engine name (which keys its offsets) unless {@link Builder#name} says otherwise. */
  public static final String DEFAULT_NAME = "flywheel-cdc";

  /** The {@code flywheel.processor} header of the dead-letter records CDC writes. */
  public static final String PROCESSOR = "ingest-cdc";

  private static final Logger log = LoggerFactory.getLogger(CdcIngest.class);
  private static final Pattern SLOT_NAME = Pattern.compile("[a-z0-9_]{1,63}");
  private static final Duration RECOVERY_TIMEOUT = Duration.ofSeconds(30);

  /** How many offsets back from a partition's end the position of CDC's last record is sought. */
  static final int MAX_READ_BACK = 1_000;

  private final Builder config;
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private KafkaProducer<byte[], byte[]> producer;
  private ChangeWriter writer;
  private DebeziumEngine<RecordChangeEvent<SourceRecord>> engine;
  private ExecutorService runner;
  private boolean started;
  private boolean closed;
  private volatile boolean running;

  private CdcIngest(Builder config) {
    this.config = config.copy();
  }

  /** Starts a builder. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Creates the missing topics (offsets, the sources' data and dead-letter topics), reads back the
   * last written position of each source topic, and starts the engine in a background thread.
   * Returns once the engine is submitted: it connects, creates the slot and publication if
   * missing, and delivers changes asynchronously; {@link #failure()} says if it stopped.
   *
   * @throws IllegalStateException when already started or closed
   * @throws org.apache.kafka.common.KafkaException when Kafka cannot be reached
   */
  public synchronized CdcIngest start() {
    if (started || closed) {
      throw new IllegalStateException(closed ? "CDC ingest is closed" : "CDC ingest has started");
    }
    started = true;
    Topics topics = config.topics;
    Map<String, ChangeWriter.TableState> tables = new LinkedHashMap<>();
    List<Topic<?, ?>> needed = new ArrayList<>();
    needed.add(topics.cdcOffsets());
    for (CdcTable table : config.tables) {
      Topic<String, org.apache.avro.generic.GenericRecord> data = topics.data(table.source());
      needed.add(data);
      needed.add(topics.dlq(data));
    }
    try (Admin admin = Admin.create(adminConfig())) {
      TopicBootstrap.Result result = new TopicBootstrap(admin).ensure(needed);
      if (!result.consistent()) {
        log.warn("CDC topics differ from the catalogue: {}", result.describe());
      }
    }

    producer = new KafkaProducer<>(producerConfig(), new ByteArraySerializer(),
        new ByteArraySerializer());
    for (CdcTable table : config.tables) {
      Topic<String, org.apache.avro.generic.GenericRecord> data = topics.data(table.source());
      CdcPosition[] lastWritten = lastWrittenPositions(data.name());
      tables.put(table.qualifiedName(),
          new ChangeWriter.TableState(table, data, lastWritten.length, lastWritten));
    }
    IngestMetrics metrics = new IngestMetrics(config.meterRegistry);
    writer = new ChangeWriter(tables, producer, config.registry, config.deleteMode,
        new DeadLetterWriter(producer, topics, PROCESSOR,
            RecordSize.maxRequestSize(producerConfig())), metrics);

    engine = DebeziumEngine.create(ChangeEventFormat.of(Connect.class))
        .using(engineProperties())
        .notifying(writer)
        .using(this::completed)
        .build();
    runner = Executors.newSingleThreadExecutor(task -> {
      Thread thread = new Thread(task, "flywheel-cdc-" + config.name);
      thread.setDaemon(true);
      return thread;
    });
    running = true;
    runner.execute(engine);
    log.info("CDC ingest '{}' started on {} (slot {}, publication {}): {}", config.name,
        config.database, config.slotName, config.publicationName,
        config.tables.stream().map(t -> t.qualifiedName() + " -> " + t.source())
            .collect(Collectors.joining(", ")));
    return this;
  }

  /** Whether the engine is running: started, not closed, and not stopped by a failure. */
  public boolean isRunning() {
    return running;
  }

  /** Why the engine stopped on its own, if it did. */
  public Optional<Throwable> failure() {
    return Optional.ofNullable(failure.get());
  }

  /** The capture status of every table, in no particular order; empty before {@link #start()}. */
  public synchronized List<CdcTableStatus> tableStatus() {
    return writer == null ? List.of() : writer.status();
  }

  /** Changes skipped since start because they had been written before (Debezium redelivered them). */
  public synchronized long duplicatesSkipped() {
    return writer == null ? 0 : writer.duplicatesSkipped();
  }

  /**
   * Stops the engine (which commits the offsets of every change already acknowledged), then the
   * producer. Idempotent.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (engine != null) {
      try {
        engine.close();
      } catch (IOException e) {
        log.warn("the Debezium engine did not close cleanly: {}", e.getMessage());
      }
    }
    if (runner != null) {
      runner.shutdown();
      try {
        if (!runner.awaitTermination(30, TimeUnit.SECONDS)) {
          log.warn("the Debezium engine did not stop within 30 s");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (producer != null) {
      producer.close(Duration.ofSeconds(30));
    }
    if (writer != null) {
      writer.removeGauges();
    }
    running = false;
    log.info("CDC ingest '{}' stopped", config.name);
  }

  private void completed(boolean success, String message, Throwable error) {
    running = false;
    if (!success || error != null) {
      failure.compareAndSet(null, error != null ? error : new IllegalStateException(message));
      log.error("CDC ingest '{}' stopped: {}", config.name, message, error);
    } else {
      log.info("CDC ingest '{}' engine finished: {}", config.name, message);
    }
  }

  /** The admin client that creates the topics: the {@link Builder#kafkaProperty}s. */
  Map<String, Object> adminConfig() {
    Map<String, Object> adminConfig = new HashMap<>(config.kafkaProperties);
    adminConfig.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers);
    return adminConfig;
  }

  /**
   * The producer: the {@link Builder#kafkaProperty}s, the settings below over them (the delivery
   * guarantee rests on idempotence and {@code acks=all}, so a cluster-wide property cannot weaken
   * it), then the {@link Builder#producerProperty}s.
   */
  Map<String, Object> producerConfig() {
    // no record may be lost or duplicated by a producer retry
    Map<String, Object> producerConfig = ProducerSettings.delivery(config.kafkaProperties);
    producerConfig.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers);
    producerConfig.put(ProducerConfig.CLIENT_ID_CONFIG, "flywheel-cdc-" + config.name);
    // batches are acknowledged as a whole before offsets commit; a short linger fills them
    producerConfig.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    producerConfig.putAll(config.producerOverrides);
    return producerConfig;
  }

  /**
   * The consumer that reads back the last written positions: the {@link Builder#kafkaProperty}s,
   * but never committing, and {@code read_uncommitted}. CDC's own records are not transactional,
   * so they are committed once written, and they alone carry a position. Under {@code
   * read_committed} the read would stop at the first record of a transaction still open on the
   * topic (an HTTP batch to the same source, left open by a crashed instance until its
   * transaction timeout), and CDC would resume from a position before the changes it wrote after
   * that record, writing them again. Records of open or aborted transactions carry no position
   * and are passed over.
   */
  Map<String, Object> consumerConfig() {
    Map<String, Object> consumerConfig = new HashMap<>(config.kafkaProperties);
    consumerConfig.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers);
    consumerConfig.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    consumerConfig.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
    return consumerConfig;
  }

  /**
   * The engine's settings. The {@link Builder#kafkaProperty}s go in at the top level, where the
   * Kafka offset store's producer, consumer and admin client read them (as a Connect worker's
   * do); the engine's own settings and then the {@link Builder#debeziumProperty}s win.
   */
  Properties engineProperties() {
    Topics topics = config.topics;
    Properties props = new Properties();
    config.kafkaProperties.forEach((key, value) -> props.setProperty(key, String.valueOf(value)));
    props.setProperty("name", config.name);
    props.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
    props.setProperty("topic.prefix", config.name.replaceAll("[^A-Za-z0-9_.-]", "_"));
    props.setProperty("offset.storage",
        "org.apache.kafka.connect.storage.KafkaOffsetBackingStore");
    props.setProperty("offset.storage.topic", topics.cdcOffsets().name());
    props.setProperty("offset.storage.partitions", Integer.toString(topics.partitions()));
    props.setProperty("offset.storage.replication.factor",
        Short.toString(topics.replicationFactor()));
    props.setProperty("bootstrap.servers", config.bootstrapServers);
    props.setProperty("offset.flush.interval.ms",
        Long.toString(config.offsetFlushInterval.toMillis()));
    props.setProperty("database.hostname", config.host);
    props.setProperty("database.port", Integer.toString(config.port));
    props.setProperty("database.dbname", config.database);
    props.setProperty("database.user", config.user);
    props.setProperty("database.password", config.password);
    props.setProperty("plugin.name", "pgoutput");
    props.setProperty("slot.name", config.slotName);
    props.setProperty("publication.name", config.publicationName);
    // the publication is created for exactly the captured tables
    props.setProperty("publication.autocreate.mode", "filtered");
    props.setProperty("table.include.list", config.tables.stream()
        .map(t -> Pattern.quote(t.qualifiedName())).collect(Collectors.joining(",")));
    props.setProperty("snapshot.mode", config.snapshotMode);
    // deletes are turned into tombstones or delete events here, not by Debezium
    props.setProperty("tombstones.on.delete", "false");
    // java.util.Date values for timestamp, date and time columns, mapped to Avro millis
    props.setProperty("time.precision.mode", "connect");
    props.setProperty("decimal.handling.mode", "precise");
    // column names become legal Avro field names
    props.setProperty("field.name.adjustment.mode", "avro");
    props.putAll(config.debeziumOverrides);
    return props;
  }

  /**
   * The position of the last record CDC wrote to each partition of {@code topic}, null where
   * unknown. Read back from the end of each partition, in windows each twice as long as the one
   * after it, since the last offsets need not be CDC's records: the commit markers of HTTP
   * batches (which are transactions) and records of HTTP or the file producer when they feed the
   * same source, or snapshot reads, which carry no position. The last record with a known commit
   * LSN wins over later ones without (see {@link ChangeWriter}). At most {@value #MAX_READ_BACK}
   * offsets are read back per partition; beyond that the position is unknown, so changes Debezium
   * delivers again to that partition are written again (at least once).
   */
  private CdcPosition[] lastWrittenPositions(String topic) {
    List<PartitionInfo> partitions = producer.partitionsFor(topic);
    CdcPosition[] positions = new CdcPosition[partitions.size()];
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerConfig(),
        new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> assigned = partitions.stream()
          .map(p -> new TopicPartition(topic, p.partition())).toList();
      consumer.assign(assigned);
      // read_uncommitted: the high watermark, past any transaction still open
      Map<TopicPartition, Long> ends = consumer.endOffsets(assigned, RECOVERY_TIMEOUT);
      Map<TopicPartition, Long> begins = consumer.beginningOffsets(assigned, RECOVERY_TIMEOUT);
      Map<TopicPartition, ReadBack> wanted = new HashMap<>();
      for (TopicPartition partition : assigned) {
        long end = ends.get(partition);
        long begin = begins.get(partition);
        if (end > begin) {
          ReadBack window = new ReadBack(begin, end);
          wanted.put(partition, window);
          consumer.seek(partition, window.from);
        }
      }
      consumer.assign(wanted.keySet());
      long deadline = System.nanoTime() + RECOVERY_TIMEOUT.toNanos();
      while (!wanted.isEmpty()) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("could not read the last records of " + topic
              + " partitions " + wanted.keySet() + " within " + RECOVERY_TIMEOUT
              + " to find where CDC stopped");
        }
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          ReadBack window = wanted.get(new TopicPartition(record.topic(), record.partition()));
          if (window != null) {
            window.offer(record);
          }
        }
        boolean resolved = false;
        for (var it = wanted.entrySet().iterator(); it.hasNext(); ) {
          Map.Entry<TopicPartition, ReadBack> entry = it.next();
          ReadBack window = entry.getValue();
          // the position passes commit markers, which poll does not return
          if (consumer.position(entry.getKey()) < window.to) {
            continue;
          }
          if (window.done()) {
            positions[entry.getKey().partition()] = window.position();
            if (window.position() == null && window.exhausted()) {
              log.warn("CDC found no position in the last {} offsets of {}: changes Debezium"
                  + " delivers again to it are written again", window.end - window.from,
                  entry.getKey());
            }
            it.remove();
            resolved = true;
          } else {
            window.widen();
            consumer.seek(entry.getKey(), window.from);
          }
        }
        if (resolved) {
          consumer.assign(wanted.keySet());
        }
      }
    }
    log.info("CDC resumes {} after positions {}", topic, java.util.Arrays.toString(positions));
    return positions;
  }

  /** The offsets of one partition being read back, {@code [from, to)}, and what was found. */
  private static final class ReadBack {
    final long begin;
    final long end;
    long from;
    long to;
    private CdcPosition lastKnown;
    private long lastKnownOffset = -1;
    private CdcPosition last;
    private long lastOffset = -1;

    ReadBack(long begin, long end) {
      this.begin = begin;
      this.end = end;
      this.to = end;
      this.from = Math.max(begin, end - 1);
    }

    void offer(ConsumerRecord<byte[], byte[]> record) {
      if (record.offset() < from || record.offset() >= to) {
        return;
      }
      Header header = record.headers().lastHeader(CdcPosition.HEADER);
      if (header == null) {
        return;
      }
      CdcPosition position = CdcPosition.parse(new String(header.value(), StandardCharsets.UTF_8));
      if (record.offset() > lastOffset) {
        last = position;
        lastOffset = record.offset();
      }
      if (position.commitKnown() && record.offset() > lastKnownOffset) {
        lastKnown = position;
        lastKnownOffset = record.offset();
      }
    }

    /** Whether the windows read so far tell the position, or nothing further back can. */
    boolean done() {
      return lastKnown != null || exhausted();
    }

    /** Whether the partition's start, or the bound, was reached. */
    boolean exhausted() {
      return from <= begin || end - from >= MAX_READ_BACK;
    }

    /** The last position with a known commit LSN, else the last one. */
    CdcPosition position() {
      return lastKnown != null ? lastKnown : last;
    }

    /** The window before the one read, twice as long, within the partition and the bound. */
    void widen() {
      long length = to - from;
      to = from;
      from = Math.max(Math.max(begin, end - MAX_READ_BACK), from - 2 * length);
    }
  }

  /**
   * Configures a {@link CdcIngest}. Required: {@link #bootstrapServers}, {@link #topics}, {@link
   * #registry}, {@link #database} and at least one {@link #table}; {@link #build()} throws {@link
   * IllegalStateException} naming what is missing.
   */
  public static final class Builder {
    private String bootstrapServers;
    private Topics topics;
    private SchemaRegistryClient registry;
    private String host;
    private int port;
    private String database;
    private String user;
    private String password;
    private final List<CdcTable> tables = new ArrayList<>();
    private String name = DEFAULT_NAME;
    private String slotName = DEFAULT_SLOT;
    private String publicationName = DEFAULT_PUBLICATION;
    private DeleteMode deleteMode = DeleteMode.TOMBSTONE;
    private String snapshotMode = "initial";
    private Duration offsetFlushInterval = Duration.ZERO;
    private final Map<String, Object> kafkaProperties = new HashMap<>();
    private final Map<String, Object> producerOverrides = new HashMap<>();
    private final Properties debeziumOverrides = new Properties();
    private MeterRegistry meterRegistry = Metrics.globalRegistry;

    private Builder() {}

    /**
     * Where the CDC meters go (records accepted, rejected and dead-lettered with {@code
     * path=cdc}, and per table {@value IngestMetrics#CDC_CAPTURING} and {@value
     * IngestMetrics#CDC_LAG}); default {@link Metrics#globalRegistry}.
     */
    public Builder meterRegistry(MeterRegistry meterRegistry) {
      this.meterRegistry = Objects.requireNonNull(meterRegistry, "meterRegistry");
      return this;
    }

    /** The Kafka cluster the source topics and the offsets live in. */
    public Builder bootstrapServers(String bootstrapServers) {
      this.bootstrapServers = Objects.requireNonNull(bootstrapServers, "bootstrapServers");
      return this;
    }

    /** The topic catalogue: source topics, dead-letter topics and the offsets topic. */
    public Builder topics(Topics topics) {
      this.topics = Objects.requireNonNull(topics, "topics");
      return this;
    }

    /** The schema registry the source schemas are checked and registered in. */
    public Builder registry(SchemaRegistryClient registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /** The PostgreSQL server and database to capture, and a user allowed to replicate. */
    public Builder database(String host, int port, String database, String user,
        String password) {
      this.host = Objects.requireNonNull(host, "host");
      if (port <= 0 || port > 65535) {
        throw new IllegalArgumentException("port " + port + " is not a TCP port");
      }
      this.port = port;
      this.database = Objects.requireNonNull(database, "database");
      this.user = Objects.requireNonNull(user, "user");
      this.password = Objects.requireNonNull(password, "password");
      return this;
    }

    /**
     * Captures {@code qualifiedTable} ({@code schema.table}, or {@code table} in {@code public})
     * into source {@code source}.
     *
     * @throws IllegalArgumentException when the table name is not a plain identifier, the source
     *     name is not a legal source name, or the table is already captured
     */
    public Builder table(String qualifiedTable, String source) {
      return table(CdcTable.of(qualifiedTable, source));
    }

    /** Captures {@code table}; see {@link #table(String, String)}. */
    public Builder table(CdcTable table) {
      Objects.requireNonNull(table, "table");
      for (CdcTable existing : tables) {
        if (existing.qualifiedName().equals(table.qualifiedName())) {
          throw new IllegalArgumentException("table " + table.qualifiedName()
              + " is already captured into source '" + existing.source() + "'");
        }
      }
      tables.add(table);
      return this;
    }

    /**
     * The engine's name, which keys its offsets in the offsets topic: two ingests with the same
     * name share a position. Default {@value CdcIngest#DEFAULT_NAME}.
     */
    public Builder name(String name) {
      this.name = Objects.requireNonNull(name, "name");
      return this;
    }

    /**
     * The logical replication slot; lower-case letters, digits and '_', at most 63. Default
     * {@value CdcIngest#DEFAULT_SLOT}.
     */
    public Builder slotName(String slotName) {
      this.slotName = checkSlot(slotName, "slot");
      return this;
    }

    /** The publication, created for the captured tables if missing. Default {@value CdcIngest#DEFAULT_PUBLICATION}. */
    public Builder publicationName(String publicationName) {
      this.publicationName = checkSlot(publicationName, "publication");
      return this;
    }

    /** Tombstones (the default) or delete events for deleted rows. */
    public Builder deleteMode(DeleteMode deleteMode) {
      this.deleteMode = Objects.requireNonNull(deleteMode, "deleteMode");
      return this;
    }

    /**
     * Debezium's {@code snapshot.mode}: {@code initial} (default: existing rows first, as {@code
     * cdc_op = r}), {@code no_data} (changes only), and the others Debezium documents.
     */
    public Builder snapshotMode(String snapshotMode) {
      this.snapshotMode = Objects.requireNonNull(snapshotMode, "snapshotMode");
      return this;
    }

    /**
     * How often Debezium commits the offsets of acknowledged changes; zero (the default) commits
     * after every batch. A longer interval writes fewer offset records and lets more changes be
     * delivered again after a crash, which the position check then skips.
     */
    public Builder offsetFlushInterval(Duration offsetFlushInterval) {
      if (offsetFlushInterval.isNegative()) {
        throw new IllegalArgumentException("offsetFlushInterval is negative");
      }
      this.offsetFlushInterval = offsetFlushInterval;
      return this;
    }

    /**
     * A Kafka client property (SASL, TLS, timeouts) for every Kafka client CDC creates: the admin
     * client that creates the topics, the producer, the consumer that reads back where CDC
     * stopped, and the producer, consumer and admin client of Debezium's Kafka offset store. The
     * bootstrap servers come from {@link #bootstrapServers}; the consumer always has auto-commit
     * off and {@code read_uncommitted} (see {@code consumerConfig()}).
     */
    public Builder kafkaProperty(String key, Object value) {
      kafkaProperties.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value));
      return this;
    }

    /**
     * Overrides a producer property, over any {@link #kafkaProperty} and CDC's own settings.
     * Idempotence and {@code acks=all} are what the delivery guarantee rests on: override them only
     * knowingly.
     */
    public Builder producerProperty(String key, Object value) {
      producerOverrides.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value));
      return this;
    }

    /** Overrides a Debezium engine or connector property. */
    public Builder debeziumProperty(String key, String value) {
      debeziumOverrides.setProperty(Objects.requireNonNull(key, "key"),
          Objects.requireNonNull(value, "value"));
      return this;
    }

    /**
     * @throws IllegalStateException naming the first missing setting
     * @throws IllegalArgumentException when a table's source makes no legal topic name
     */
    public CdcIngest build() {
      require(bootstrapServers, "bootstrapServers");
      require(topics, "topics");
      require(registry, "registry");
      require(host, "database");
      if (tables.isEmpty()) {
        throw new IllegalStateException("CDC ingest needs at least one table; call table(..)");
      }
      for (CdcTable table : tables) {
        topics.data(table.source()); // throws on an illegal source name
      }
      return new CdcIngest(this);
    }

    /** A copy, so that changing this builder later does not change a built ingest. */
    private Builder copy() {
      Builder copy = new Builder();
      copy.bootstrapServers = bootstrapServers;
      copy.topics = topics;
      copy.registry = registry;
      copy.host = host;
      copy.port = port;
      copy.database = database;
      copy.user = user;
      copy.password = password;
      copy.tables.addAll(tables);
      copy.name = name;
      copy.slotName = slotName;
      copy.publicationName = publicationName;
      copy.deleteMode = deleteMode;
      copy.snapshotMode = snapshotMode;
      copy.offsetFlushInterval = offsetFlushInterval;
      copy.kafkaProperties.putAll(kafkaProperties);
      copy.producerOverrides.putAll(producerOverrides);
      copy.debeziumOverrides.putAll(debeziumOverrides);
      copy.meterRegistry = meterRegistry;
      return copy;
    }

    private static void require(Object value, String setting) {
      if (value == null) {
        throw new IllegalStateException("CDC ingest needs " + setting + "; call " + setting
            + "(..) before build()");
      }
    }

    private static String checkSlot(String value, String what) {
      Objects.requireNonNull(value, what);
      if (!SLOT_NAME.matcher(value).matches()) {
        throw new IllegalArgumentException(what + " name '" + value + "' must be 1 to 63 lower-case"
            + " letters, digits and '_'");
      }
      return value;
    }
  }
}
