package dev.flywheel.ingest.cdc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import dev.flywheel.devstack.junit.LogLines;
import dev.flywheel.ingest.dlq.DeadLetterWriter;
import dev.flywheel.registry.InMemorySchemaRegistryClient;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.DeadLetterHeaders;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.Topics;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ChangeWriterTest {

  private static final int PARTITIONS = 3;
  private static final Schema KEY =
      SchemaBuilder.struct().name("shop.public.orders.Key").field("id", Schema.INT32_SCHEMA).build();
  private static final Schema ROW = SchemaBuilder.struct().name("shop.public.orders.Value")
      .field("id", Schema.INT32_SCHEMA)
      .field("status", Schema.STRING_SCHEMA)
      .optional()
      .build();
  private static final Schema SOURCE = SchemaBuilder.struct().name("io.debezium.connector.postgresql.Source")
      .field("schema", Schema.STRING_SCHEMA)
      .field("table", Schema.STRING_SCHEMA)
      .field("lsn", Schema.OPTIONAL_INT64_SCHEMA)
      .field("sequence", Schema.OPTIONAL_STRING_SCHEMA)
      .field("ts_ms", Schema.INT64_SCHEMA)
      .build();
  private static final Schema ENVELOPE = SchemaBuilder.struct().name("shop.public.orders.Envelope")
      .field("before", ROW)
      .field("after", ROW)
      .field("source", SOURCE)
      .field("op", Schema.STRING_SCHEMA)
      .build();

  private final String scope = "cdc-writer-" + System.nanoTime();
  private final CdcTable table = CdcTable.of("public.orders", "orders");
  private Topics topics;
  private InMemorySchemaRegistryClient registry;
  private Topic<String, GenericRecord> topic;
  private MockProducer<byte[], byte[]> producer;
  private final RecordingCommitter committer = new RecordingCommitter();

  @BeforeEach
  void setUp() {
    AvroSerdes serdes = AvroSerdes.fromConfig(Map.of("schema.registry.url", "mock://" + scope));
    registry = (InMemorySchemaRegistryClient) serdes.client();
    topics = Topics.builder(serdes).partitions(PARTITIONS).build();
    topic = topics.data("orders");
  }

  @AfterEach
  void tearDown() {
    InMemorySchemaRegistryClient.dropScope(scope);
  }

  @Test
  void shouldSkipRedeliveredChangesAtOrBeforeTheLastPositionWrittenToTheirPartition()
      throws InterruptedException {
    // Given key 1's partition last received the change at position 100/210
    CdcPosition[] lastWritten = new CdcPosition[PARTITIONS];
    lastWritten[partitionOf("1")] = new CdcPosition(100, 210);
    ChangeWriter writer = writer(DeleteMode.TOMBSTONE, lastWritten, true);

    // When Debezium delivers again the changes up to it, and then newer ones
    writer.handleBatch(List.of(
        change("u", 1, "paid", "[\"100\",\"200\"]", 200),
        change("u", 1, "shipped", "[\"100\",\"210\"]", 210),
        change("u", 1, "returned", "[\"210\",\"230\"]", 230)), committer);

    // Then only the newer change is written, and every event is marked processed
    assertThat(producer.history()).extracting(r -> key(r) + ":" + status(r))
        .containsExactly("1:returned");
    assertThat(writer.duplicatesSkipped()).isEqualTo(2);
    assertThat(committer.processed).hasSize(3);
    assertThat(committer.batchesFinished.get()).isEqualTo(1);
  }

  @Test
  void shouldWriteChangesWithoutACommitLsnRatherThanSkipThemBehindAKnownPosition()
      throws InterruptedException {
    // Given key 1's partition last received the change at 315/320 (the third of three
    // transactions, each changing key 1 at LSN 300, 310 and 320 and committed at 305, 315 and
    // 325), and another key's partition a change at 100/220
    CdcPosition[] lastWritten = new CdcPosition[PARTITIONS];
    lastWritten[partitionOf("1")] = new CdcPosition(315, 320);
    String other = otherPartitionKey("1");
    lastWritten[partitionOf(other)] = new CdcPosition(100, 220);
    ChangeWriter writer = writer(DeleteMode.TOMBSTONE, lastWritten, true);

    try (LogLines log = LogLines.of(ChangeWriter.class)) {
      // When Debezium, streaming without stored offsets (a new cdc name, a recreated offsets
      // topic or slot), delivers the three transactions again, the first without a commit LSN
      // and also changing the other key, and then a new transaction
      writer.handleBatch(List.of(
          change("u", 1, "paid", "[null,\"300\"]", 300),
          change("u", Integer.parseInt(other), "new", "[null,\"302\"]", 302),
          change("u", 1, "shipped", "[\"305\",\"310\"]", 310),
          change("u", 1, "returned", "[\"315\",\"320\"]", 320),
          change("u", 1, "refunded", "[\"325\",\"330\"]", 330)), committer);

      // Then the changes without a commit LSN are written (whether they were before cannot be
      // told), and the known position still tells the changes written before from the new one
      assertThat(producer.history()).extracting(r -> key(r) + ":" + status(r))
          .containsExactly("1:paid", other + ":new", "1:refunded");
      assertThat(writer.duplicatesSkipped()).isEqualTo(2);
      assertThat(committer.processed).hasSize(5);
      // and a warning says why, once for the transaction without a commit LSN
      assertThat(log.count(Level.WARN, "has no commit LSN")).isEqualTo(1);
    }
  }

  @Test
  void shouldSkipARedeliveredChangeWithoutACommitLsnBehindOneWithout()
      throws InterruptedException {
    // Given key 1's partition last received a change of a transaction without a commit LSN
    CdcPosition[] lastWritten = new CdcPosition[PARTITIONS];
    lastWritten[partitionOf("1")] = CdcPosition.fromSequence("[null,\"300\"]", 300);
    ChangeWriter writer = writer(DeleteMode.TOMBSTONE, lastWritten, true);

    // When Debezium, again without stored offsets, delivers that transaction again
    writer.handleBatch(List.of(
        change("u", 1, "paid", "[null,\"290\"]", 290),
        change("u", 1, "shipped", "[null,\"300\"]", 300),
        change("u", 1, "returned", "[null,\"310\"]", 310)), committer);

    // Then the changes up to the written one are skipped, by their LSN
    assertThat(producer.history()).extracting(r -> key(r) + ":" + status(r))
        .containsExactly("1:returned");
    assertThat(writer.duplicatesSkipped()).isEqualTo(2);
  }

  @Test
  void shouldWriteAChangeWhosePartitionHasNoEarlierPosition() throws InterruptedException {
    // Given a position is known only for key 1's partition
    CdcPosition[] lastWritten = new CdcPosition[PARTITIONS];
    lastWritten[partitionOf("1")] = new CdcPosition(500, 600);
    String other = otherPartitionKey("1");
    ChangeWriter writer = writer(DeleteMode.TOMBSTONE, lastWritten, true);

    // When an older change arrives for a key in another partition
    writer.handleBatch(
        List.of(change("c", Integer.parseInt(other), "new", "[\"100\",\"200\"]", 200)), committer);

    // Then it is written: that partition never received it
    assertThat(producer.history()).extracting(ChangeWriterTest::key).containsExactly(other);
  }

  @Test
  void shouldNotDeduplicateSnapshotReads() throws InterruptedException {
    // Given a known position for key 1's partition
    CdcPosition[] lastWritten = new CdcPosition[PARTITIONS];
    lastWritten[partitionOf("1")] = new CdcPosition(100, 900);
    ChangeWriter writer = writer(DeleteMode.TOMBSTONE, lastWritten, true);

    // When a snapshot (taken again from the start) reads the row
    writer.handleBatch(List.of(change("r", 1, "paid", "[null,\"800\"]", 800)), committer);

    // Then the read is written, without a position header that could later hide changes
    assertThat(producer.history()).hasSize(1);
    assertThat(producer.history().get(0).headers().lastHeader(CdcPosition.HEADER)).isNull();
  }

  @Test
  void shouldMarkEventsProcessedOnlyAfterKafkaAcknowledgedTheirRecords() {
    // Given a producer whose sends stay unacknowledged until completed
    ChangeWriter writer = writer(DeleteMode.TOMBSTONE, new CdcPosition[PARTITIONS], false);

    // When a batch is handled
    CompletableFuture<Void> handled = handleInBackground(writer, List.of(
        change("c", 1, "new", "[\"1\",\"10\"]", 10),
        change("c", 2, "new", "[\"1\",\"11\"]", 11)));
    await().atMost(Duration.ofSeconds(10)).until(() -> producer.history().size() == 2);

    // Then nothing is marked processed until both records are acknowledged
    assertThat(committer.processed).isEmpty();
    producer.completeNext();
    assertThat(committer.processed).isEmpty();
    producer.completeNext();
    await().atMost(Duration.ofSeconds(10)).until(handled::isDone);
    assertThat(committer.processed).hasSize(2);
    assertThat(committer.batchesFinished.get()).isEqualTo(1);
  }

  @Test
  void shouldFailTheBatchWithoutMarkingItWhenKafkaRejectsARecord() {
    // Given a producer that will fail the send
    ChangeWriter writer = writer(DeleteMode.TOMBSTONE, new CdcPosition[PARTITIONS], false);
    CompletableFuture<Void> handled = handleInBackground(writer, List.of(
        change("c", 1, "new", "[\"1\",\"10\"]", 10)));
    await().atMost(Duration.ofSeconds(10)).until(() -> producer.history().size() == 1);

    // When Kafka rejects it
    producer.errorNext(new KafkaException("broker down"));

    // Then the batch fails and no offset may be committed for it
    assertThatThrownBy(handled::join).hasCauseInstanceOf(KafkaException.class)
        .hasMessageContaining("broker down");
    assertThat(committer.processed).isEmpty();
  }

  @Test
  void shouldWriteADeleteAsATombstoneByDefault() throws InterruptedException {
    ChangeWriter writer = writer(DeleteMode.TOMBSTONE, new CdcPosition[PARTITIONS], true);

    writer.handleBatch(List.of(delete(1, "[\"5\",\"50\"]", 50)), committer);

    assertThat(producer.history()).singleElement()
        .satisfies(r -> assertThat(r.value()).isNull())
        .satisfies(r -> assertThat(key(r)).isEqualTo("1"));
  }

  @Test
  void shouldWriteADeleteEventWithTheOldImageWhenConfigured() throws InterruptedException {
    ChangeWriter writer = writer(DeleteMode.DELETE_EVENT, new CdcPosition[PARTITIONS], true);

    writer.handleBatch(List.of(delete(1, "[\"5\",\"50\"]", 50)), committer);

    ProducerRecord<byte[], byte[]> record = producer.history().get(0);
    GenericRecord value = topic.valueSerde().deserializer().deserialize(topic.name(),
        record.value());
    assertThat(value.get(ConnectToAvro.OP).toString()).isEqualTo("d");
    assertThat(value.get("id")).isEqualTo(1);
    assertThat(value.get("status")).isNull();
    assertThat(value.get(ConnectToAvro.LSN)).isEqualTo(50L);
  }

  @Test
  void shouldDeadLetterAChangeTheProducerRefusesAsTooLargeAndCarryOnWithTheBatch()
      throws InterruptedException {
    // Given a producer that refuses records over 2000 bytes at once, as max.request.size does
    producer = new MockProducer<>(true, null, new ByteArraySerializer(),
        new ByteArraySerializer()) {
      @Override
      public synchronized Future<RecordMetadata> send(ProducerRecord<byte[], byte[]> record) {
        if (record.topic().equals(topic.name()) && record.value().length > 2000) {
          return CompletableFuture.failedFuture(new RecordTooLargeException("The message is "
              + record.value().length + " bytes when serialized which is larger than 2000"));
        }
        return super.send(record);
      }
    };
    ChangeWriter writer = writer(DeleteMode.TOMBSTONE, new CdcPosition[PARTITIONS], producer);

    // When a batch holds a 5000-byte row followed by a later change of the same row
    writer.handleBatch(List.of(
        change("u", 1, "x".repeat(5000), "[\"100\",\"200\"]", 200),
        change("u", 1, "small", "[\"200\",\"300\"]", 300)), committer);

    // Then the large change is on the dead-letter topic with the reason, the later one on the
    // source topic, and the batch is marked processed
    assertThat(producer.history()).extracting(ProducerRecord::topic)
        .containsExactly(topics.dlq(topic).name(), topic.name());
    ProducerRecord<byte[], byte[]> kept = producer.history().get(0);
    assertThat(header(kept, DeadLetterHeaders.ERROR)).contains("LSN 200")
        .contains("RecordTooLargeException").contains("max.request.size");
    assertThat(header(kept, DeadLetterHeaders.ERROR_CLASS))
        .isEqualTo(RecordTooLargeException.class.getName());
    assertThat(key(kept)).isEqualTo("1");
    assertThat(status(producer.history().get(1))).isEqualTo("small");
    assertThat(committer.processed).hasSize(2);
    assertThat(committer.batchesFinished.get()).isEqualTo(1);
  }

  @Test
  void shouldDeadLetterAChangeTheBrokerRefusesAsTooLargeBeforeMarkingTheBatch() {
    // Given a producer whose sends stay unacknowledged until completed
    ChangeWriter writer = writer(DeleteMode.TOMBSTONE, new CdcPosition[PARTITIONS], false);
    CompletableFuture<Void> handled = handleInBackground(writer, List.of(
        change("u", 1, "large", "[\"100\",\"200\"]", 200),
        change("u", 1, "small", "[\"200\",\"300\"]", 300)));
    await().atMost(Duration.ofSeconds(10)).until(() -> producer.history().size() == 2);

    // When the broker refuses the first (over the topic's max.message.bytes) and takes the second
    producer.errorNext(new RecordTooLargeException("over max.message.bytes"));
    producer.completeNext();

    // Then the first goes to the dead-letter topic, and the batch is marked only once Kafka
    // acknowledged that dead letter
    await().atMost(Duration.ofSeconds(10)).until(() -> producer.history().size() == 3);
    assertThat(producer.history().get(2).topic()).isEqualTo(topics.dlq(topic).name());
    assertThat(header(producer.history().get(2), DeadLetterHeaders.ERROR))
        .contains("over max.message.bytes");
    assertThat(committer.processed).isEmpty();
    producer.completeNext();
    await().atMost(Duration.ofSeconds(10)).until(handled::isDone);
    assertThat(committer.processed).hasSize(2);
    assertThat(committer.batchesFinished.get()).isEqualTo(1);
  }

  @Test
  void shouldWriteTimestampDecimalAndByteaKeysIndependentOfTheJvm() {
    // Given a composite key of a timestamp, a numeric and a bytea column
    Schema keySchema = SchemaBuilder.struct().name("shop.public.events.Key")
        .field("at", org.apache.kafka.connect.data.Timestamp.SCHEMA)
        .field("on", org.apache.kafka.connect.data.Date.SCHEMA)
        .field("amount", org.apache.kafka.connect.data.Decimal.schema(0))
        .field("hash", Schema.BYTES_SCHEMA)
        .build();
    Struct key = new Struct(keySchema)
        .put("at", new java.util.Date(1_767_323_045_000L))
        .put("on", new java.util.Date(86_400_000L * 20_455))
        .put("amount", new java.math.BigDecimal("1E+3"))
        .put("hash", new byte[] {1, 2, (byte) 0xff});

    // When it becomes the record key
    // Then the timestamp is ISO-8601 UTC with millis, the date ISO, the number plain, the bytes
    // base64
    assertThat(ChangeWriter.key(key))
        .isEqualTo("2026-01-02T03:04:05.000Z:2026-01-02:1000:AQL/");
  }

  @Test
  void shouldWriteANumericKeyWithoutAScaleAsItsPlainNumber() {
    // Given tables keyed by a numeric column without a scale (Debezium's VariableScaleDecimal:
    // a struct of the scale and the unscaled value's bytes), alone and with a text column
    Schema numeric = SchemaBuilder.struct().name("io.debezium.data.VariableScaleDecimal")
        .field("scale", Schema.INT32_SCHEMA).field("value", Schema.BYTES_SCHEMA).build();
    Schema single = SchemaBuilder.struct().name("shop.public.ledger.Key")
        .field("id", numeric).build();
    Schema composite = SchemaBuilder.struct().name("shop.public.entries.Key")
        .field("id", numeric).field("book", Schema.STRING_SCHEMA).build();
    Struct amount = new Struct(numeric).put("scale", 2)
        .put("value", java.math.BigInteger.valueOf(1250).toByteArray());

    // When a row's key becomes the record key, twice (two changes of the same row)
    // Then it is the number, the same each time, not the struct's text with an array's identity
    assertThat(ChangeWriter.key(new Struct(single).put("id", amount))).isEqualTo("12.50");
    assertThat(ChangeWriter.key(new Struct(composite).put("id", amount).put("book", "main")))
        .isEqualTo("12.50:main");
  }

  @Test
  void shouldGiveDistinctKeysToCompositeKeysWhoseValuesHoldTheSeparator() {
    // Given two rows of a table keyed by two text columns whose values joined by ':' read the
    // same, and two rows with a '\\' in a value
    Schema keySchema = SchemaBuilder.struct().name("shop.public.links.Key")
        .field("left", Schema.STRING_SCHEMA)
        .field("right", Schema.STRING_SCHEMA)
        .build();
    Struct colonInFirst = new Struct(keySchema).put("left", "a:b").put("right", "c");
    Struct colonInSecond = new Struct(keySchema).put("left", "a").put("right", "b:c");
    Struct backslashInFirst = new Struct(keySchema).put("left", "a\\").put("right", "b");
    Struct backslashInSecond = new Struct(keySchema).put("left", "a").put("right", "\\b");

    // When they become record keys
    // Then each row has its own key: ':' and '\' inside a value are escaped with '\'
    assertThat(ChangeWriter.key(colonInFirst)).isEqualTo("a\\:b:c");
    assertThat(ChangeWriter.key(colonInSecond)).isEqualTo("a:b\\:c");
    assertThat(ChangeWriter.key(backslashInFirst)).isEqualTo("a\\\\:b");
    assertThat(ChangeWriter.key(backslashInSecond)).isEqualTo("a:\\\\b");
  }

  @Test
  void shouldKeepTheKeysOfCompositeKeysWhoseTextHoldsNoSeparator() {
    // Given a composite key of text, an integer, a timestamptz and a time, whose text values hold
    // neither ':' nor '\' (the times hold ':' in their fixed format)
    Schema keySchema = SchemaBuilder.struct().name("shop.public.readings.Key")
        .field("region", Schema.STRING_SCHEMA)
        .field("sensor", Schema.INT64_SCHEMA)
        .field("at", SchemaBuilder.string().name("io.debezium.time.ZonedTimestamp").build())
        .field("slot", org.apache.kafka.connect.data.Time.SCHEMA)
        .build();
    Struct key = new Struct(keySchema)
        .put("region", "eu-west.1")
        .put("sensor", 42L)
        .put("at", "2026-01-02T03:04:05.123456Z")
        .put("slot", new java.util.Date(3_600_000L + 4 * 60_000L + 5_000L));

    // When it becomes the record key
    // Then it is the plain join of the values: nothing in it is escaped
    assertThat(ChangeWriter.key(key))
        .isEqualTo("eu-west.1:42:2026-01-02T03:04:05.123456Z:01:04:05.000");
  }

  @Test
  void shouldKeepASingleColumnKeyAsItIsEvenWithASeparator() {
    // Given a table keyed by one text column whose value holds ':' and '\'
    Schema keySchema = SchemaBuilder.struct().name("shop.public.things.Key")
        .field("urn", Schema.STRING_SCHEMA)
        .build();
    Struct key = new Struct(keySchema).put("urn", "urn:thing:a\\b");

    // When it becomes the record key
    // Then it is the value itself, not escaped
    assertThat(ChangeWriter.key(key)).isEqualTo("urn:thing:a\\b");
  }

  private static String header(ProducerRecord<byte[], byte[]> record, String name) {
    var header = record.headers().lastHeader(name);
    return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
  }

  private ChangeWriter writer(DeleteMode mode, CdcPosition[] lastWritten, boolean autoComplete) {
    return writer(mode, lastWritten, new MockProducer<>(autoComplete, null,
        new ByteArraySerializer(), new ByteArraySerializer()));
  }

  private ChangeWriter writer(DeleteMode mode, CdcPosition[] lastWritten,
      MockProducer<byte[], byte[]> mock) {
    producer = mock;
    ChangeWriter.TableState state =
        new ChangeWriter.TableState(table, topic, PARTITIONS, lastWritten);
    return new ChangeWriter(Map.of(table.qualifiedName(), state), producer, registry, mode,
        new DeadLetterWriter(producer, topics, CdcIngest.PROCESSOR));
  }

  private static RecordChangeEvent<SourceRecord> change(String op, int id, String status,
      String sequence, long lsn) {
    Struct after = new Struct(ROW).put("id", id).put("status", status);
    Struct envelope = new Struct(ENVELOPE).put("after", after).put("source", source(sequence, lsn))
        .put("op", op);
    return event(id, envelope);
  }

  private static RecordChangeEvent<SourceRecord> delete(int id, String sequence, long lsn) {
    // PostgreSQL sends only the key columns of a deleted row under the default replica identity
    Struct keyOnly = new Struct(SchemaBuilder.struct().name("shop.public.orders.Value")
        .field("id", Schema.INT32_SCHEMA)
        .field("status", Schema.OPTIONAL_STRING_SCHEMA)
        .optional()
        .build()).put("id", id);
    Schema envelopeSchema = SchemaBuilder.struct().name("shop.public.orders.Envelope")
        .field("before", keyOnly.schema())
        .field("after", keyOnly.schema())
        .field("source", SOURCE)
        .field("op", Schema.STRING_SCHEMA)
        .build();
    Struct envelope = new Struct(envelopeSchema).put("before", keyOnly)
        .put("source", source(sequence, lsn)).put("op", "d");
    return event(id, envelope);
  }

  private static Struct source(String sequence, long lsn) {
    return new Struct(SOURCE).put("schema", "public").put("table", "orders").put("lsn", lsn)
        .put("sequence", sequence).put("ts_ms", 1_767_323_045_678L);
  }

  private static RecordChangeEvent<SourceRecord> event(int id, Struct envelope) {
    SourceRecord record = new SourceRecord(Map.of("server", "shop"), Map.of("lsn", 1L),
        "shop.public.orders", null, KEY, new Struct(KEY).put("id", id), envelope.schema(),
        envelope);
    return () -> record;
  }

  private static int partitionOf(String key) {
    return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % PARTITIONS;
  }

  private static String otherPartitionKey(String key) {
    for (int id = 2; ; id++) {
      if (partitionOf(Integer.toString(id)) != partitionOf(key)) {
        return Integer.toString(id);
      }
    }
  }

  private static String key(ProducerRecord<byte[], byte[]> record) {
    return new String(record.key(), StandardCharsets.UTF_8);
  }

  private String status(ProducerRecord<byte[], byte[]> record) {
    return topic.valueSerde().deserializer().deserialize(topic.name(), record.value())
        .get("status").toString();
  }

  private static final class RecordingCommitter
      implements DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> {
    final List<RecordChangeEvent<SourceRecord>> processed = new CopyOnWriteArrayList<>();
    final AtomicInteger batchesFinished = new AtomicInteger();

    @Override
    public void markProcessed(RecordChangeEvent<SourceRecord> record) {
      processed.add(record);
    }

    @Override
    public void markBatchFinished() {
      batchesFinished.incrementAndGet();
    }

    @Override
    public void markProcessed(RecordChangeEvent<SourceRecord> record,
        DebeziumEngine.Offsets offsets) {
      processed.add(record);
    }

    @Override
    public DebeziumEngine.Offsets buildOffsets() {
      throw new UnsupportedOperationException("not used by the change writer");
    }
  }

  /** Handles the batch on another thread, so that the test can acknowledge its sends. */
  private CompletableFuture<Void> handleInBackground(ChangeWriter writer,
      List<RecordChangeEvent<SourceRecord>> changes) {
    return CompletableFuture.runAsync(() -> {
      try {
        writer.handleBatch(changes, committer);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
  }
}
