package dev.flywheel.ingest.cdc;

import dev.flywheel.registry.CompatibilityResult;
import dev.flywheel.registry.SchemaRegistryClient;
import dev.flywheel.registry.SchemaRegistryException;
import dev.flywheel.ingest.dlq.DeadLetter;
import dev.flywheel.ingest.dlq.DeadLetterWriter;
import dev.flywheel.ingest.metrics.IngestMetrics;
import dev.flywheel.topics.DeadLetterHeaders;
import dev.flywheel.topics.Topic;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.micrometer.core.instrument.Counter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's change consumer: turns each batch of Debezium change events into records on the
 * tables' source topics, waits until Kafka acknowledged all of them, and only then marks the events
 * processed, so Debezium commits an offset only for changes already written.
 *
 * <p>Per table it keeps the source schema registered last and, per partition of the source topic,
 * the {@link CdcPosition} of the last record written there; a redelivered change at or before that
 * position is skipped. A change that cannot be converted goes to the dead-letter topic; a row schema
 * the registry refuses stops the table's capture (its later changes go to the dead-letter topic
 * too) and leaves the other tables alone. A failed write to Kafka fails the batch, which stops the
 * engine without committing the batch's offsets.
 *
 * <p>Debezium calls {@link #handleBatch} from one thread; {@link #status()} may be called from any.
 */
final class ChangeWriter implements DebeziumEngine.ChangeConsumer<RecordChangeEvent<SourceRecord>> {

  private static final Logger log = LoggerFactory.getLogger(ChangeWriter.class);

  private final Map<String, TableState> tables;
  private final Producer<byte[], byte[]> producer;
  private final SchemaRegistryClient registry;
  private final DeleteMode deleteMode;
  private final DeadLetterWriter deadLetters;
  private final JsonConverter eventJson = new JsonConverter();
  private final AtomicLong duplicatesSkipped = new AtomicLong();
  private final IngestMetrics metrics;
  private final List<Written> batchWritten = new ArrayList<>();
  private final List<io.micrometer.core.instrument.Gauge> gauges = new ArrayList<>();

  /** A change written to its source topic in the current batch. */
  private record Written(TableState state, long commitTimeMs) {}

  ChangeWriter(Map<String, TableState> tablesByQualifiedName, Producer<byte[], byte[]> producer,
      SchemaRegistryClient registry, DeleteMode deleteMode, DeadLetterWriter deadLetters) {
    this(tablesByQualifiedName, producer, registry, deleteMode, deadLetters,
        new IngestMetrics(new io.micrometer.core.instrument.simple.SimpleMeterRegistry()));
  }

  ChangeWriter(Map<String, TableState> tablesByQualifiedName, Producer<byte[], byte[]> producer,
      SchemaRegistryClient registry, DeleteMode deleteMode, DeadLetterWriter deadLetters,
      IngestMetrics metrics) {
    this.tables = Map.copyOf(tablesByQualifiedName);
    this.producer = producer;
    this.registry = registry;
    this.deleteMode = deleteMode;
    this.deadLetters = deadLetters;
    this.metrics = metrics;
    for (TableState state : tables.values()) {
      state.accepted = metrics.accepted(state.table.source(), IngestMetrics.CDC);
      state.rejected = metrics.rejected(state.table.source(), IngestMetrics.CDC);
      state.deadLettered = metrics.deadLettered(state.table.source(), IngestMetrics.CDC);
      gauges.add(metrics.cdcGauge(IngestMetrics.CDC_CAPTURING, state.table.qualifiedName(),
          state.table.source(), state, s -> s.error == null ? 1 : 0));
      gauges.add(metrics.cdcGauge(IngestMetrics.CDC_LAG, state.table.qualifiedName(),
          state.table.source(), state, s -> s.lagMs));
    }
    eventJson.configure(Map.of("schemas.enable", "false"), false);
  }

  /** Removes the per-table gauges (the capture stopped). */
  void removeGauges() {
    gauges.forEach(metrics::remove);
    gauges.clear();
  }

  /** Changes skipped because a record at or after their position was already written. */
  long duplicatesSkipped() {
    return duplicatesSkipped.get();
  }

  /** The capture status of every table. */
  List<CdcTableStatus> status() {
    List<CdcTableStatus> status = new ArrayList<>();
    for (TableState state : tables.values()) {
      String error = state.error;
      status.add(new CdcTableStatus(state.table, error == null, error));
    }
    return status;
  }

  @Override
  public void handleBatch(List<RecordChangeEvent<SourceRecord>> events,
      DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer)
      throws InterruptedException {
    List<Future<RecordMetadata>> sent = new ArrayList<>(events.size());
    batchWritten.clear();
    for (RecordChangeEvent<SourceRecord> event : events) {
      Future<RecordMetadata> future = write(event.record());
      if (future != null) {
        sent.add(future);
      }
    }
    for (Future<RecordMetadata> future : sent) {
      try {
        future.get();
      } catch (ExecutionException e) {
        throw new KafkaException("Kafka did not acknowledge a CDC record; the batch's offsets are"
            + " not committed and its changes will be captured again on restart: "
            + e.getCause().getMessage(), e.getCause());
      }
    }
    long now = System.currentTimeMillis();
    for (Written written : batchWritten) {
      written.state().accepted.increment();
      if (written.commitTimeMs() > 0) {
        written.state().lagMs = Math.max(0, now - written.commitTimeMs());
      }
    }
    batchWritten.clear();
    for (RecordChangeEvent<SourceRecord> event : events) {
      committer.markProcessed(event);
    }
    committer.markBatchFinished();
  }

  private Future<RecordMetadata> write(SourceRecord record) {
    if (!(record.value() instanceof Struct envelope)
        || envelope.schema().field("op") == null
        || envelope.schema().field("source") == null) {
      return null; // heartbeats, transaction markers, tombstones: nothing to capture
    }
    Struct source = envelope.getStruct("source");
    TableState state = tables.get(source.getString("schema") + "." + source.getString("table"));
    if (state == null) {
      return null;
    }
    String op = envelope.getString("op");
    Long lsnValue = source.getInt64("lsn");
    long lsn = lsnValue == null ? 0 : lsnValue;
    Long commitTime = source.getInt64("ts_ms");
    long commitTimeMs = commitTime == null ? 0 : commitTime;
    String key = key(record.key());
    byte[] keyBytes = key == null ? null : key.getBytes(StandardCharsets.UTF_8);

    if (state.error != null) {
      return deadLetter(state, record, keyBytes, lsn, state.error, null);
    }
    if (keyBytes == null) {
      state.stop("capture of table " + state.table.qualifiedName() + " (source '"
          + state.table.source() + "') stopped: the table has no primary key, and Flywheel keys"
          + " source records by it; add a primary key and restart ingest");
      return deadLetter(state, record, null, lsn, state.error, null);
    }
    boolean snapshot = "r".equals(op);
    CdcPosition position = CdcPosition.fromSequence(source.getString("sequence"), lsn);
    int partition = Utils.toPositive(Utils.murmur2(keyBytes)) % state.partitions;
    CdcPosition written = state.lastWritten[partition];
    if (!snapshot && written != null && position.compareTo(written) <= 0) {
      duplicatesSkipped.incrementAndGet();
      log.debug("skipping change at {} of {}: {} was already written to partition {}", position,
          state.table.qualifiedName(), written, partition);
      return null;
    }

    Converted converted;
    switch (op) {
      case "c", "u", "r" -> {
        Struct after = envelope.getStruct("after");
        if (after == null) {
          return null;
        }
        converted = avro(state, record, keyBytes, after, op, lsn, commitTimeMs);
      }
      case "d" -> {
        Struct before = envelope.getStruct("before");
        converted = deleteMode == DeleteMode.DELETE_EVENT && before != null
            ? avro(state, record, keyBytes, before, op, lsn, commitTimeMs)
            : Converted.TOMBSTONE;
      }
      default -> {
        return null; // truncates and messages are not row changes
      }
    }
    if (converted.deadLetter() != null) {
      return converted.deadLetter();
    }
    byte[] value = converted.value();

    Headers headers = new RecordHeaders();
    if (!snapshot) {
      headers.add(CdcPosition.HEADER, utf8(position.toString()));
    }
    headers.add(DeadLetterHeaders.LSN, utf8(Long.toString(lsn)));
    headers.add(DeadLetterHeaders.SOURCE, utf8(state.table.source()));
    ProducerRecord<byte[], byte[]> out = new ProducerRecord<>(state.topic.name(), partition,
        commitTimeMs > 0 ? commitTimeMs : null, keyBytes, value, headers);
    Future<RecordMetadata> future = producer.send(out);
    batchWritten.add(new Written(state, commitTimeMs));
    if (!snapshot) {
      state.lastWritten[partition] = position;
    }
    return future;
  }

  /** The serialized Avro record of {@code image}, or the dead-letter write that replaced it. */
  private Converted avro(TableState state, SourceRecord record, byte[] keyBytes, Struct image,
      String op, long lsn, long commitTimeMs) {
    Schema schema;
    try {
      schema = state.schemaFor(image.schema(), registry, deleteMode, keyColumns(record));
    } catch (RejectedSchemaException e) {
      state.stop(e.getMessage());
      log.error("{}", e.getMessage());
      return Converted.deadLettered(deadLetter(state, record, keyBytes, lsn, e.getMessage(), e));
    } catch (SchemaRegistryException e) {
      throw e; // the registry is unreachable or failing: stop without committing, retry on restart
    } catch (RuntimeException e) {
      state.stop("capture of table " + state.table.qualifiedName() + " (source '"
          + state.table.source() + "') stopped: " + e.getMessage());
      log.error("{}", state.error);
      return Converted.deadLettered(deadLetter(state, record, keyBytes, lsn, state.error, e));
    }
    try {
      GenericRecord row = ConnectToAvro.row(schema, image, op, lsn, commitTimeMs);
      return new Converted(state.serializer.serialize(state.topic.name(), row), null);
    } catch (RuntimeException e) {
      String error = "change at LSN " + lsn + " of table " + state.table.qualifiedName()
          + " cannot be written as source '" + state.table.source() + "': " + e.getMessage();
      log.warn("{}", error);
      return Converted.deadLettered(deadLetter(state, record, keyBytes, lsn, error, e));
    }
  }

  /** A converted row value (null for a tombstone), or the dead-letter write made instead. */
  private record Converted(byte[] value, Future<RecordMetadata> deadLetter) {
    static final Converted TOMBSTONE = new Converted(null, null);

    static Converted deadLettered(Future<RecordMetadata> deadLetter) {
      return new Converted(null, deadLetter);
    }
  }

  private Future<RecordMetadata> deadLetter(TableState state, SourceRecord record, byte[] key,
      long lsn, String error, Throwable cause) {
    byte[] original;
    try {
      original = eventJson.fromConnectData(record.topic(), record.valueSchema(), record.value());
    } catch (DataException e) {
      original = utf8(String.valueOf(record.value()));
    }
    DeadLetter.Builder letter = DeadLetter.of(state.topic.name(), original)
        .key(key)
        .error(error)
        .source(state.table.source())
        .origin("lsn:" + lsn)
        .header(DeadLetterHeaders.LSN, Long.toString(lsn))
        .header(DeadLetterHeaders.TOPIC, state.topic.name());
    if (cause != null) {
      letter.cause(cause);
    }
    state.rejected.increment();
    Future<RecordMetadata> written = deadLetters.write(letter.build());
    state.deadLettered.increment();
    return written;
  }

  private static List<String> keyColumns(SourceRecord record) {
    if (record.keySchema() == null || record.keySchema().type()
        != org.apache.kafka.connect.data.Schema.Type.STRUCT) {
      return List.of();
    }
    List<String> names = new ArrayList<>();
    for (Field field : record.keySchema().fields()) {
      names.add(field.name());
    }
    return names;
  }

  /**
   * The row's primary key as a string: the value of a single key column, or the values of a
   * composite key joined by {@code ':'} in column order; null when the table has no primary key.
   */
  static String key(Object key) {
    if (!(key instanceof Struct struct)) {
      return key == null ? null : String.valueOf(key);
    }
    StringBuilder text = new StringBuilder();
    for (Field field : struct.schema().fields()) {
      if (field.index() > 0) {
        text.append(':');
      }
      text.append(struct.get(field));
    }
    return text.toString();
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  /** The derived schema was refused by the registry's compatibility check. */
  static final class RejectedSchemaException extends RuntimeException {
    RejectedSchemaException(String message) {
      super(message);
    }
  }

  /** What the writer knows about one table. Touched only by the engine's consumer thread. */
  static final class TableState {
    final CdcTable table;
    final Topic<String, GenericRecord> topic;
    final Serializer<GenericRecord> serializer;
    final int partitions;
    final CdcPosition[] lastWritten;
    private final Map<org.apache.kafka.connect.data.Schema, Schema> derived =
        new IdentityHashMap<>();
    private Schema registered;
    volatile String error;
    volatile long lagMs;
    Counter accepted;
    Counter rejected;
    Counter deadLettered;

    TableState(CdcTable table, Topic<String, GenericRecord> topic, int partitions,
        CdcPosition[] lastWritten) {
      this.table = table;
      this.topic = topic;
      this.serializer = topic.valueSerde().serializer();
      this.partitions = partitions;
      this.lastWritten = lastWritten;
    }

    String subject() {
      return topic.name() + "-value";
    }

    void stop(String reason) {
      if (error == null) {
        error = reason;
      }
    }

    Schema schemaFor(org.apache.kafka.connect.data.Schema row, SchemaRegistryClient registry,
        DeleteMode deleteMode, List<String> keyColumns) {
      Schema schema = derived.get(row);
      if (schema == null) {
        schema = ConnectToAvro.rowSchema(row, "dev.flywheel.cdc." + avroName(table.source()),
            deleteMode == DeleteMode.DELETE_EVENT, keyColumns);
        derived.put(row, schema);
      }
      if (!schema.equals(registered)) {
        CompatibilityResult verdict = registry.testCompatibility(subject(), schema);
        if (!verdict.compatible()) {
          throw new RejectedSchemaException("capture of table " + table.qualifiedName()
              + " (source '" + table.source() + "') stopped: the schema registry rejects its new"
              + " row schema under " + subject() + ": " + String.join("; ", verdict.messages())
              + ". Make the column change compatible (add nullable columns; do not drop required"
              + " columns or change a column's type), then restart ingest. New schema: "
              + schema);
        }
        int id;
        try {
          id = registry.register(subject(), schema);
        } catch (SchemaRegistryException e) {
          if (!e.isIncompatible()) {
            throw e;
          }
          throw new RejectedSchemaException("capture of table " + table.qualifiedName()
              + " (source '" + table.source() + "') stopped: the schema registry refused to"
              + " register its new row schema under " + subject() + ": " + e.getMessage());
        }
        log.info("table {} writes source '{}' with schema id {} under {}",
            table.qualifiedName(), table.source(), id, subject());
        registered = schema;
      }
      return schema;
    }

    private static String avroName(String source) {
      StringBuilder name = new StringBuilder();
      for (char c : source.toCharArray()) {
        name.append(Character.isLetterOrDigit(c) && c < 128 ? c : '_');
      }
      if (!Character.isLetter(name.charAt(0))) {
        name.insert(0, '_');
      }
      return name.toString();
    }
  }
}
