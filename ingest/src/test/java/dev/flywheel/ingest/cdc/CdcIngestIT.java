package dev.flywheel.ingest.cdc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.EmbeddedPostgres;
import dev.flywheel.devstack.junit.CommittedValues;
import dev.flywheel.devstack.junit.LogLines;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.registry.SchemaRegistryClient;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.DeadLetterHeaders;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.Topics;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@WithDevstack
class CdcIngestIT {

  private static final Duration AT_MOST = Duration.ofSeconds(90);

  private Devstack devstack;
  private EmbeddedPostgres postgres;
  private UniqueNames names;
  private Topics topics;
  private SchemaRegistryClient registry;
  private String slot;
  private final List<CdcIngest> started = new ArrayList<>();

  @BeforeEach
  void setUp(Devstack devstack, EmbeddedPostgres postgres, UniqueNames names) {
    this.devstack = devstack;
    this.postgres = postgres;
    this.names = names;
    AvroSerdes serdes = AvroSerdes.fromConfig(
        Map.of("schema.registry.url", devstack.schemaRegistryUrl()));
    registry = serdes.client();
    topics = Topics.builder(serdes).prefix(names.prefix()).build();
    // short, so that "<slot>_<table>" stays within PostgreSQL's 63-character identifiers
    slot = "cdc_" + names.prefix().split("-")[0].toLowerCase();
  }

  @AfterEach
  void tearDown() throws SQLException {
    started.forEach(CdcIngest::close);
    try (Connection connection = postgres.dataSource().getConnection();
        Statement sql = connection.createStatement()) {
      sql.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
          + " WHERE slot_name LIKE '" + slot + "%'");
    }
  }

  @Test
  void shouldDeliverInsertsUpdatesAndDeletesInOrderPerKey() throws SQLException {
    // Given a captured table and a running ingest that is streaming changes
    String table = slot + "_orders";
    sql("CREATE TABLE " + table + " (id int PRIMARY KEY, status text NOT NULL,"
        + " amount numeric(10,2), placed_at timestamp)");
    CdcIngest cdc = start(table, "orders");
    awaitStreaming();

    // When rows are inserted, updated and deleted
    sql("INSERT INTO " + table + " VALUES (1, 'new', 12.50, '2026-01-02 03:04:05.678')");
    sql("INSERT INTO " + table + " VALUES (2, 'new', NULL, NULL)");
    sql("UPDATE " + table + " SET status = 'paid' WHERE id = 1");
    sql("UPDATE " + table + " SET status = 'paid', amount = 3.00 WHERE id = 2");
    sql("UPDATE " + table + " SET status = 'shipped' WHERE id = 1");
    sql("DELETE FROM " + table + " WHERE id = 1");

    // Then each key's changes arrive in order, the delete as a tombstone
    Topic<String, GenericRecord> topic = topics.data("orders");
    List<ConsumerRecord<String, GenericRecord>> records = awaitRecords(topic, 6);
    assertThat(records).hasSize(6);
    List<ConsumerRecord<String, GenericRecord>> first = byKey(records, "1");
    assertThat(first).extracting(r -> r.value() == null ? "tombstone"
            : r.value().get(ConnectToAvro.OP) + ":" + r.value().get("status"))
        .containsExactly("c:new", "u:paid", "u:shipped", "tombstone");
    assertThat(byKey(records, "2")).extracting(r -> r.value().get(ConnectToAvro.OP) + ":"
            + r.value().get("status") + ":" + decimal(r.value().get("amount")))
        .containsExactly("c:new:null", "u:paid:3.00");

    // and the after-image carries typed values and the change metadata
    GenericRecord inserted = first.get(0).value();
    assertThat(decimal(inserted.get("amount"))).isEqualTo("12.50");
    assertThat(inserted.get("placed_at")).isEqualTo(1767323045678L);
    assertThat((Long) inserted.get(ConnectToAvro.LSN)).isPositive();
    assertThat((Long) inserted.get(ConnectToAvro.COMMIT_TIME))
        .isBetween(System.currentTimeMillis() - AT_MOST.toMillis(), System.currentTimeMillis());
    List<Long> lsns = first.subList(0, 3).stream()
        .map(r -> (Long) r.value().get(ConnectToAvro.LSN)).toList();
    assertThat(lsns).isSorted().doesNotHaveDuplicates();

    // and the registered schema is derived from the columns
    Schema registered = registry.getLatest(topic.name() + "-value").schema();
    assertThat(registered.getField("id").schema().getType()).isEqualTo(Schema.Type.INT);
    assertThat(registered.getField("status").schema().getType()).isEqualTo(Schema.Type.STRING);
    assertThat(registered.getField("amount").schema().getTypes().get(1).getLogicalType())
        .isEqualTo(LogicalTypes.decimal(10, 2));
    assertThat(registered.getField("placed_at").schema().getTypes().get(1).getLogicalType())
        .isEqualTo(LogicalTypes.timestampMillis());
    assertThat(registered.getField("amount").defaultVal()).isEqualTo(
        org.apache.avro.JsonProperties.NULL_VALUE);
    assertThat(cdc.tableStatus()).allMatch(CdcTableStatus::capturing);
  }

  @Test
  void shouldReadExistingRowsAsSnapshotReadsBeforeStreaming() throws SQLException {
    // Given a table that already has rows, one with a composite primary key
    String table = slot + "_lines";
    sql("CREATE TABLE " + table + " (order_id int, line int, sku text NOT NULL,"
        + " PRIMARY KEY (order_id, line))");
    sql("INSERT INTO " + table + " VALUES (1, 1, 'a'), (1, 2, 'b')");

    // When ingest starts with the default initial snapshot, and a row is then inserted
    start(table, "lines");
    awaitStreaming();
    sql("INSERT INTO " + table + " VALUES (2, 1, 'c')");

    // Then the existing rows arrive as reads, keyed by the key columns joined by ':'
    List<ConsumerRecord<String, GenericRecord>> records = awaitRecords(topics.data("lines"), 3);
    assertThat(records).extracting(r -> r.key() + "=" + r.value().get(ConnectToAvro.OP) + ":"
            + r.value().get("sku"))
        .containsExactlyInAnyOrder("1:1=r:a", "1:2=r:b", "2:1=c:c");
  }

  @Test
  void shouldKeyRowsOfACompositeTextKeyApartWhenTheirValuesHoldColons() throws SQLException {
    // Given a table keyed by two text columns, and two rows whose values joined by ':' read the
    // same, next to a row whose values hold no ':'
    String table = slot + "_links";
    sql("CREATE TABLE " + table + " (src text, dst text, weight int NOT NULL,"
        + " PRIMARY KEY (src, dst))");

    // When they are captured
    start(table, "links");
    awaitStreaming();
    sql("INSERT INTO " + table + " VALUES ('a:b', 'c', 1), ('a', 'b:c', 2), ('x', 'y', 3)");

    // Then each row has its own key, the ':' inside a value escaped, and the plain row's key is
    // its values joined by ':'
    List<ConsumerRecord<String, GenericRecord>> records = awaitRecords(topics.data("links"), 3);
    assertThat(records).extracting(r -> r.key() + "=" + r.value().get("weight"))
        .containsExactlyInAnyOrder("a\\:b:c=1", "a:b\\:c=2", "x:y=3");
  }

  @Test
  void shouldDeliverExactlyTheRowsWrittenWhileStoppedAfterARestart() throws SQLException {
    // Given a table captured by an ingest that delivered a first row, then stopped
    String table = slot + "_events";
    sql("CREATE TABLE " + table + " (id int PRIMARY KEY, payload text NOT NULL)");
    CdcIngest first = start(table, "events");
    awaitStreaming();
    sql("INSERT INTO " + table + " VALUES (0, 'before the stop')");
    Topic<String, GenericRecord> topic = topics.data("events");
    awaitRecords(topic, 1);
    first.close();

    // When 1,000 rows are written while ingest is down, and ingest starts again
    try (Connection connection = postgres.dataSource().getConnection()) {
      connection.setAutoCommit(false);
      try (PreparedStatement insert = connection.prepareStatement(
          "INSERT INTO " + table + " VALUES (?, ?)")) {
        for (int id = 1; id <= 1000; id++) {
          insert.setInt(1, id);
          insert.setString(2, "row " + id);
          insert.addBatch();
          if (id % 100 == 0) {
            insert.executeBatch();
            connection.commit();
          }
        }
      }
    }
    CdcIngest second = start(table, "events");
    sql("INSERT INTO " + table + " VALUES (1001, 'after the restart')");

    // Then exactly those 1,000 rows arrive once each, then the row written after the restart
    List<ConsumerRecord<String, GenericRecord>> records = awaitRecords(topic, 1002);
    Set<String> expected = IntStream.rangeClosed(0, 1001).mapToObj(Integer::toString)
        .collect(Collectors.toSet());
    assertThat(records).hasSize(1002);
    assertThat(records.stream().map(ConsumerRecord::key).collect(Collectors.toSet()))
        .isEqualTo(expected);
    assertThat(records).allMatch(r -> r.value().get(ConnectToAvro.OP).toString().equals("c"));
    assertThat(byKey(records, "0")).hasSize(1);
    assertThat(second.isRunning()).isTrue();
  }

  @Test
  void shouldResumeWhenItsSourceTopicEndsWithTransactionMarkers() throws SQLException {
    // Given a table captured by an ingest that delivered 30 rows, then stopped
    String table = slot + "_marked";
    sql("CREATE TABLE " + table + " (id int PRIMARY KEY, payload text NOT NULL)");
    CdcIngest first = start(table, "marked");
    awaitStreaming();
    for (int id = 1; id <= 30; id++) {
      sql("INSERT INTO " + table + " VALUES (" + id + ", 'row " + id + "')");
    }
    Topic<String, GenericRecord> topic = topics.data("marked");
    awaitRecords(topic, 30);
    first.close();
    // and a transaction written to every partition of the source topic after them, as an HTTP
    // batch to the same source is, so that each partition ends with its commit marker
    try (KafkaProducer<byte[], byte[]> http = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, devstack.bootstrapServers(),
        ProducerConfig.TRANSACTIONAL_ID_CONFIG, names.prefix() + "-http"),
        new ByteArraySerializer(), new ByteArraySerializer())) {
      http.initTransactions();
      http.beginTransaction();
      for (int p = 0; p < topics.partitions(); p++) {
        http.send(new ProducerRecord<>(topic.name(), p,
            ("http-" + p).getBytes(StandardCharsets.UTF_8), null));
      }
      http.commitTransaction();
    }

    try (LogLines log = LogLines.of(CdcIngest.class)) {
      // When ingest starts again, and a row is inserted and another updated
      CdcIngest second = start(table, "marked");
      sql("INSERT INTO " + table + " VALUES (31, 'after the restart')");
      sql("UPDATE " + table + " SET payload = 'updated' WHERE id = 1");

      // Then it found the position CDC stopped at in every partition, behind the markers
      assertThat(log.count(Level.INFO, topic.name() + " after positions [")).isEqualTo(1);
      assertThat(log.contain("null")).isFalse();
      // and the new changes arrive once each
      List<ConsumerRecord<String, GenericRecord>> records =
          awaitRecords(topic, 30 + topics.partitions() + 2);
      assertThat(records).hasSize(30 + topics.partitions() + 2);
      assertThat(byKey(records, "31")).hasSize(1);
      assertThat(byKey(records, "1")).extracting(r -> r.value().get("payload").toString())
          .containsExactly("row 1", "updated");
      assertThat(second.isRunning()).isTrue();
    }
  }

  @Test
  void shouldSkipChangesDebeziumDeliversAgainAfterTheyWereWritten() throws SQLException {
    // Given a copy of the replication slot taken before 50 rows were captured and written
    String table = slot + "_replayed";
    sql("CREATE TABLE " + table + " (id int PRIMARY KEY, payload text NOT NULL)");
    CdcIngest first = start(table, "replayed");
    awaitStreaming();
    sql("INSERT INTO " + table + " VALUES (0, 'first')");
    Topic<String, GenericRecord> topic = topics.data("replayed");
    awaitRecords(topic, 1);
    first.close();
    String replaySlot = slot + "_replay";
    sql("SELECT pg_copy_logical_replication_slot('" + slot + "', '" + replaySlot + "')");
    CdcIngest second = start(table, "replayed");
    for (int id = 1; id <= 50; id++) {
      sql("INSERT INTO " + table + " VALUES (" + id + ", 'row " + id + "')");
    }
    awaitRecords(topic, 51);
    second.close();

    // When an ingest without offsets streams from the copy, so Debezium delivers the 50 again
    CdcIngest replaying = startReplaying(table, "replayed", replaySlot);
    await().atMost(AT_MOST).until(() -> replaying.duplicatesSkipped() >= 49);
    sql("INSERT INTO " + table + " VALUES (51, 'after the replay')");

    // Then none of them is written twice, but for the first change Debezium streams (the copy
    // may start before row 0 or row 1): without stored offsets its commit LSN is unknown, so
    // whether it was written cannot be told, and it is written again rather than risk losing it.
    // The new row arrives once
    List<ConsumerRecord<String, GenericRecord>> records = awaitRecords(topic, 52);
    Map<String, Long> writes = records.stream()
        .collect(Collectors.groupingBy(ConsumerRecord::key, Collectors.counting()));
    assertThat(writes.keySet()).isEqualTo(IntStream.rangeClosed(0, 51)
        .mapToObj(Integer::toString).collect(Collectors.toSet()));
    assertThat(writes.values()).allMatch(count -> count <= 2);
    assertThat(writes.values().stream().filter(count -> count == 2)).hasSizeLessThanOrEqualTo(1);
    assertThat(writes.get("51")).isEqualTo(1);
  }

  @Test
  void shouldSkipChangesDeliveredAgainThatItWroteAfterATransactionLeftOpen() throws SQLException {
    // Given a captured table with a first row written
    String table = slot + "_behind";
    sql("CREATE TABLE " + table + " (id int PRIMARY KEY, payload text NOT NULL)");
    CdcIngest first = start(table, "behind");
    awaitStreaming();
    sql("INSERT INTO " + table + " VALUES (0, 'first')");
    Topic<String, GenericRecord> topic = topics.data("behind");
    awaitRecords(topic, 1);
    first.close();
    String replaySlot = slot + "_replay";
    sql("SELECT pg_copy_logical_replication_slot('" + slot + "', '" + replaySlot + "')");
    // and a transaction on every partition of the source topic that stays open, as an HTTP batch
    // to the same source does when its instance dies mid-batch, until its transaction timeout
    try (KafkaProducer<byte[], byte[]> http = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, devstack.bootstrapServers(),
        ProducerConfig.TRANSACTIONAL_ID_CONFIG, names.prefix() + "-http",
        ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 300_000),
        new ByteArraySerializer(), new ByteArraySerializer())) {
      http.initTransactions();
      http.beginTransaction();
      for (int p = 0; p < topics.partitions(); p++) {
        http.send(new ProducerRecord<>(topic.name(), p,
            ("http-" + p).getBytes(StandardCharsets.UTF_8), null));
      }
      http.flush();
      // and 50 rows captured and written after its records
      CdcIngest second = start(table, "behind");
      for (int id = 1; id <= 50; id++) {
        sql("INSERT INTO " + table + " VALUES (" + id + ", 'row " + id + "')");
      }
      await().atMost(AT_MOST).until(() -> CommittedValues.includingUncommitted(
          devstack.bootstrapServers(), topic.name(), new ByteArrayDeserializer(),
          new ByteArrayDeserializer()).size() >= 1 + topics.partitions() + 50);
      second.close();

      // When an ingest without offsets streams from a copy of the slot taken before the 50, so
      // Debezium delivers them again while the transaction is still open
      CdcIngest replaying = startReplaying(table, "behind", replaySlot);

      // Then it found the positions of the 50 past the open transaction's records, and skips
      // them (but the first change it streams, whose commit LSN it cannot know)
      await().atMost(AT_MOST).until(() -> replaying.duplicatesSkipped() >= 49);
      sql("INSERT INTO " + table + " VALUES (51, 'after the replay')");
      http.abortTransaction();
    }
    // and once the transaction is gone, each row is on the topic once, the first change streamed
    // at most twice
    List<ConsumerRecord<String, GenericRecord>> records = awaitRecords(topic, 52);
    Map<String, Long> writes = records.stream()
        .collect(Collectors.groupingBy(ConsumerRecord::key, Collectors.counting()));
    assertThat(writes.keySet()).isEqualTo(IntStream.rangeClosed(0, 51)
        .mapToObj(Integer::toString).collect(Collectors.toSet()));
    assertThat(writes.values().stream().filter(count -> count > 1)).hasSizeLessThanOrEqualTo(1);
    assertThat(writes.get("51")).isEqualTo(1);
  }

  @Test
  void shouldStopOnlyTheTableWhoseColumnChangeTheRegistryRejects() throws SQLException {
    // Given two captured tables
    String accounts = slot + "_accounts";
    String payments = slot + "_payments";
    sql("CREATE TABLE " + accounts + " (id int PRIMARY KEY, owner text NOT NULL)");
    sql("CREATE TABLE " + payments + " (id int PRIMARY KEY, amount int NOT NULL)");
    CdcIngest cdc = track(CdcIngest.builder()
        .bootstrapServers(devstack.bootstrapServers())
        .topics(topics)
        .registry(registry)
        .database(postgres.host(), postgres.port(), postgres.database(), postgres.user(),
            postgres.password())
        .table(accounts, "accounts")
        .table(payments, "payments")
        .name(names.prefix())
        .slotName(slot)
        .publicationName(slot)
        .build()
        .start());
    awaitStreaming();
    sql("INSERT INTO " + accounts + " VALUES (1, 'ada')");
    awaitRecords(topics.data("accounts"), 1);

    // When one table gains a required column, which BACKWARD compatibility rejects
    sql("ALTER TABLE " + accounts + " ADD COLUMN tier int NOT NULL DEFAULT 0");
    sql("INSERT INTO " + accounts + " VALUES (2, 'bob', 1)");
    sql("INSERT INTO " + payments + " VALUES (7, 250)");

    // Then the other table's change still arrives
    List<ConsumerRecord<String, GenericRecord>> paymentRecords =
        awaitRecords(topics.data("payments"), 1);
    assertThat(paymentRecords).extracting(ConsumerRecord::key).containsExactly("7");

    // and the rejected change is on the dead-letter topic with a clear error
    Topic<byte[], byte[]> dlq = topics.dlq(topics.data("accounts"));
    List<ConsumerRecord<byte[], byte[]>> dead = awaitBytes(dlq.name(), 1);
    ConsumerRecord<byte[], byte[]> rejected = dead.get(0);
    assertThat(new String(rejected.key(), StandardCharsets.UTF_8)).isEqualTo("2");
    assertThat(new String(rejected.value(), StandardCharsets.UTF_8)).contains("\"bob\"");
    assertThat(header(rejected, DeadLetterHeaders.ERROR))
        .contains("capture of table public." + accounts)
        .contains(topics.data("accounts").name() + "-value")
        .contains("tier");
    assertThat(header(rejected, DeadLetterHeaders.SOURCE)).isEqualTo("accounts");
    assertThat(header(rejected, DeadLetterHeaders.ORIGIN)).startsWith("lsn:");
    assertThat(header(rejected, DeadLetterHeaders.PROCESSOR)).isEqualTo(CdcIngest.PROCESSOR);

    // and only that table's capture stopped
    assertThat(cdc.tableStatus())
        .filteredOn(s -> s.table().source().equals("accounts"))
        .singleElement()
        .satisfies(s -> assertThat(s.capturing()).isFalse());
    assertThat(cdc.tableStatus())
        .filteredOn(s -> s.table().source().equals("payments"))
        .singleElement()
        .satisfies(s -> assertThat(s.capturing()).isTrue());
    assertThat(readBytes(topics.data("accounts").name())).hasSize(1);
  }

  private CdcIngest start(String table, String source) {
    return track(CdcIngest.builder()
        .bootstrapServers(devstack.bootstrapServers())
        .topics(topics)
        .registry(registry)
        .database(postgres.host(), postgres.port(), postgres.database(), postgres.user(),
            postgres.password())
        .table(table, source)
        .name(names.prefix())
        .slotName(slot)
        .publicationName(slot)
        .build()
        .start());
  }

  /**
   * An ingest without stored offsets (its own name) streaming {@code table} to {@code source} from
   * the slot {@code replaySlot}, a copy of the tests' slot: Debezium delivers again what the copy
   * holds.
   */
  private CdcIngest startReplaying(String table, String source, String replaySlot) {
    return track(CdcIngest.builder()
        .bootstrapServers(devstack.bootstrapServers())
        .topics(topics)
        .registry(registry)
        .database(postgres.host(), postgres.port(), postgres.database(), postgres.user(),
            postgres.password())
        .table(table, source)
        .name(names.prefix() + "-replay")
        .slotName(replaySlot)
        .publicationName(slot)
        .snapshotMode("no_data")
        .build()
        .start());
  }

  private CdcIngest track(CdcIngest cdc) {
    started.add(cdc);
    return cdc;
  }

  private void awaitStreaming() {
    await().atMost(AT_MOST).until(() -> {
      try (Connection connection = postgres.dataSource().getConnection();
          PreparedStatement query = connection.prepareStatement(
              "SELECT active FROM pg_replication_slots WHERE slot_name = ?")) {
        query.setString(1, slot);
        try (ResultSet rows = query.executeQuery()) {
          return rows.next() && rows.getBoolean(1);
        }
      }
    });
  }

  private void sql(String statement) throws SQLException {
    try (Connection connection = postgres.dataSource().getConnection();
        Statement sql = connection.createStatement()) {
      sql.execute(statement);
    }
  }

  /**
   * Waits until the topic holds at least {@code count} records and no more arrive for a second,
   * then returns every record it holds (so that surplus ones, such as duplicates, are seen).
   */
  private List<ConsumerRecord<String, GenericRecord>> awaitRecords(
      Topic<String, GenericRecord> topic, int count) {
    AtomicReference<List<ConsumerRecord<String, GenericRecord>>> seen =
        new AtomicReference<>(List.of());
    await().atMost(AT_MOST).during(Duration.ofSeconds(1)).until(() -> {
      List<ConsumerRecord<String, GenericRecord>> now =
          CommittedValues.records(devstack.bootstrapServers(), topic);
      boolean settled = now.size() >= count && now.size() == seen.get().size();
      seen.set(now);
      return settled;
    });
    return seen.get();
  }

  private List<ConsumerRecord<byte[], byte[]>> awaitBytes(String topic, int count) {
    return await().atMost(AT_MOST).until(() -> readBytes(topic),
        records -> records.size() >= count);
  }

  private List<ConsumerRecord<byte[], byte[]>> readBytes(String topic) {
    return CommittedValues.bytes(devstack.bootstrapServers(), topic);
  }

  private static List<ConsumerRecord<String, GenericRecord>> byKey(
      List<ConsumerRecord<String, GenericRecord>> records, String key) {
    return records.stream().filter(r -> r.key().equals(key)).toList();
  }

  private static String decimal(Object value) {
    if (value == null) {
      return "null";
    }
    ByteBuffer bytes = ((ByteBuffer) value).duplicate();
    byte[] unscaled = new byte[bytes.remaining()];
    bytes.get(unscaled);
    return new BigDecimal(new BigInteger(unscaled), 2).toPlainString();
  }

  private static String header(ConsumerRecord<?, ?> record, String name) {
    return new String(record.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
  }
}
