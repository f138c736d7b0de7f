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
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
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
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Time;
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
 * position is skipped. A change without a commit LSN (the first transaction Debezium streams
 * without stored offsets) cannot be ordered against a position with one, and is written rather
 * than skipped, with a warning: at least once, never lost; the known position stays the one
 * later changes are compared with. A change that cannot be converted goes to the dead-letter topic; a row schema
 * the registry refuses stops the table's capture (its later changes go to the dead-letter topic
 * too) and leaves the other tables alone. A change Kafka refuses on its own ({@code
 * RecordTooLargeException}, {@code RecordBatchTooLargeException}, {@code InvalidRecordException})
 * goes to the dead-letter topic, its value truncated to fit, and the batch carries on: failing the
 * batch would either stop CDC for good (the change comes back on every restart) or, once a later
 * change of the same partition is written, lose it silently (the restart's position check skips
 * it). Any other failed write to Kafka fails the batch, which stops the engine without committing
 * the batch's offsets.
 *
 * <p>Debezium calls {@link #handleBatch} from one thread; {@link #status()} may be called from any.
 */
final class ChangeWriter implements DebeziumEngine.ChangeConsumer<RecordChangeEvent<SourceRecord>> {

  private static final Logger log = LoggerFactory.getLogger(ChangeWriter.class);

  /** What a restart after a stopped table does not do, and what does. */
  static final String NOT_REPLAYED = "A restart captures the table's later changes; it does not"
      + " replay the changes dead-lettered while the table was stopped: write those rows again in"
      + " PostgreSQL (an UPDATE of each row captures it anew; the dead letters' keys name them).";

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

  /** A change sent to its source topic in the current batch. */
  private record Written(TableState state, SourceRecord record, byte[] key, long lsn,
      long commitTimeMs, Future<RecordMetadata> future) {}

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
    Map<Future<RecordMetadata>, Written> data = new IdentityHashMap<>();
    batchWritten.forEach(written -> data.put(written.future(), written));
    List<Written> accepted = new ArrayList<>(batchWritten.size());
    for (Future<RecordMetadata> future : sent) {
      Written written = data.get(future);
      try {
        future.get();
        if (written != null) {
          accepted.add(written);
        }
      } catch (ExecutionException e) {
        if (written == null || !refusedAlone(e.getCause())) {
          throw notAcknowledged(e.getCause());
        }
        // refused by the broker after later changes were sent: keep it in the dead-letter topic
        // before the batch's offsets are committed
        awaitDeadLetter(refused(written, e.getCause()));
      }
    }
    long now = System.currentTimeMillis();
    for (Written written : accepted) {
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

  private static KafkaException notAcknowledged(Throwable cause) {
    return new KafkaException("Kafka did not acknowledge a CDC record; the batch's offsets are"
        + " not committed and its changes will be captured again on restart: "
        + cause.getMessage(), cause);
  }

  /**
   * Whether Kafka refused the record for what it is (too large, or invalid for the topic), so that
   * sending it again can never succeed while the changes around it can.
   */
  static boolean refusedAlone(Throwable cause) {
    return cause instanceof RecordTooLargeException
        || cause instanceof RecordBatchTooLargeException
        || cause instanceof InvalidRecordException;
  }

  /** Sends the dead letter of a change Kafka refused on its own. */
  private Future<RecordMetadata> refused(Written change, Throwable cause) {
    TableState state = change.state();
    String error = "change at LSN " + change.lsn() + " of table " + state.table.qualifiedName()
        + " was refused by Kafka for topic " + state.topic.name() + " and not written ("
        + cause.getClass().getSimpleName() + ": " + cause.getMessage() + "). If it is too"
        + " large, raise max.request.size of ingest's CDC producer"
        + " (FLYWHEEL_KAFKA_MAX_REQUEST_SIZE) and max.message.bytes of the topic, or make the row smaller; then write the row again"
        + " (an UPDATE of the row in PostgreSQL captures it anew)";
    log.error("{}", error);
    return deadLetter(state, change.record(), change.key(), change.lsn(), error, cause);
  }

  /**
   * Waits until Kafka acknowledged a dead letter of a refused change, so that no later change of
   * its partition can be acknowledged without it being kept.
   */
  private static void awaitDeadLetter(Future<RecordMetadata> deadLetter)
      throws InterruptedException {
    try {
      deadLetter.get();
    } catch (ExecutionException e) {
      throw notAcknowledged(e.getCause());
    }
  }

  private Future<RecordMetadata> write(SourceRecord record) throws InterruptedException {
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
          + " source records by it; add a primary key and restart ingest. " + NOT_REPLAYED);
      return deadLetter(state, record, null, lsn, state.error, null);
    }
    boolean snapshot = "r".equals(op);
    CdcPosition position = CdcPosition.fromSequence(source.getString("sequence"), lsn);
    int partition = Utils.toPositive(Utils.murmur2(keyBytes)) % state.partitions;
    CdcPosition written = state.lastWritten[partition];
    if (!snapshot && written != null) {
      if (!position.comparableTo(written)) {
        // no stored offsets, so no commit LSN yet: whether the change was written cannot be told,
        // and skipping it could lose it
        warnUnordered(state, position, written, partition);
      } else if (position.compareTo(written) <= 0) {
        duplicatesSkipped.incrementAndGet();
        log.debug("skipping change at {} of {}: {} was already written to partition {}", position,
            state.table.qualifiedName(), written, partition);
        return null;
      }
    }
    if (!snapshot && position.commitKnown()) {
      state.unorderedWarned = false;
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
    Written sent = new Written(state, record, keyBytes, lsn, commitTimeMs, future);
    if (!snapshot && (written == null || position.comparableTo(written))) {
      // a position without a commit LSN does not replace one with: the known one still orders
      // the changes that follow, once Debezium reports commit LSNs again
      state.lastWritten[partition] = position;
    }
    if (future.isDone()) {
      // the producer refuses a record over its max.request.size at once: keep it in the
      // dead-letter topic before any later change of its partition is sent
      try {
        future.get();
      } catch (ExecutionException e) {
        if (refusedAlone(e.getCause())) {
          Future<RecordMetadata> deadLetter = refused(sent, e.getCause());
          awaitDeadLetter(deadLetter);
          return deadLetter;
        }
      }
    }
    batchWritten.add(sent);
    return future;
  }

  /**
   * Logs, once per run of changes without a commit LSN, that such a change is written although a
   * known position is already on its partition.
   */
  private static void warnUnordered(TableState state, CdcPosition position, CdcPosition written,
      int partition) {
    if (state.unorderedWarned) {
      return;
    }
    state.unorderedWarned = true;
    log.warn("table {}: change at LSN {} has no commit LSN (Debezium is streaming without stored"
        + " offsets: a new cdc name, or a recreated offsets topic or replication slot), so it"
        + " cannot be ordered against position {} already written to partition {} of {}."
        + " Writing it and the rest of its transaction rather than risk losing them: records"
        + " already written before may be written again (at least once) until Debezium reports"
        + " a commit LSN", state.table.qualifiedName(), position.lsn(), written, partition,
        state.topic.name());
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
   * The row's primary key as a string; null when the table has no primary key. A single key
   * column's value is the key as it is. A composite key is its columns' values in column order,
   * joined by {@code ':'}, with {@code \} and {@code :} inside a text value escaped as {@code \\}
   * and {@code \:}, so no two rows of a table share a key: {@code ("a:b", "c")} is {@code a\:b:c}
   * and {@code ("a", "b:c")} is {@code a:b\:c}. Values that cannot contain {@code \} and hold
   * {@code ':'} only at fixed places of a time format (see {@link #escapedInCompositeKey}) are
   * never escaped, and a value holding neither character is the same
   * escaped or not, so such keys read exactly as the plain join. Each value is written by its
   * Connect type, independent of the JVM's time zone and locale: see {@link #keyText}.
   */
  static String key(Object key) {
    if (!(key instanceof Struct struct)) {
      return key == null ? null : String.valueOf(key);
    }
    List<Field> fields = struct.schema().fields();
    if (fields.size() == 1) {
      Field only = fields.get(0);
      return keyText(only.schema(), struct.get(only));
    }
    StringBuilder text = new StringBuilder();
    for (Field field : fields) {
      if (field.index() > 0) {
        text.append(KEY_SEPARATOR);
      }
      String value = keyText(field.schema(), struct.get(field));
      if (escapedInCompositeKey(field.schema())) {
        escapeKeyComponent(value, text);
      } else {
        text.append(value);
      }
    }
    return text.toString();
  }

  private static final char KEY_SEPARATOR = ':';
  private static final char KEY_ESCAPE = '\\';
  private static final String DEBEZIUM_ZONED_TIMESTAMP = "io.debezium.time.ZonedTimestamp";
  private static final String DEBEZIUM_ZONED_TIME = "io.debezium.time.ZonedTime";

  /**
   * Whether a composite key column's text is escaped: true for text (any Connect string but
   * Debezium's {@code timestamptz} and {@code timetz}) and for arrays, maps and structs written by
   * {@code String.valueOf}; false for the values {@link #keyText} formats itself (numbers,
   * booleans, {@code numeric}, {@code date}, {@code time}, {@code timestamp}, {@code bytea} as
   * base64) and for Debezium's {@code timestamptz} and {@code timetz} (ISO-8601 in UTC, ending
   * in {@code Z}). These never hold {@code \}, and hold {@code ':'} only inside a time of
   * fixed form that ends where its format ends, so they cannot move the boundary between two
   * columns; leaving them as they are keeps the keys of tables keyed by a time and another column
   * as they were before escaping.
   */
  static boolean escapedInCompositeKey(org.apache.kafka.connect.data.Schema schema) {
    return switch (schema.type()) {
      case INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, BYTES -> false;
      case STRUCT -> !ConnectToAvro.isVariableScaleDecimal(schema);
      case STRING -> !DEBEZIUM_ZONED_TIMESTAMP.equals(schema.name())
          && !DEBEZIUM_ZONED_TIME.equals(schema.name());
      default -> true;
    };
  }

  private static void escapeKeyComponent(String value, StringBuilder text) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == KEY_ESCAPE || c == KEY_SEPARATOR) {
        text.append(KEY_ESCAPE);
      }
      text.append(c);
    }
  }

  /**
   * One key column's value as text: a Connect {@code Timestamp} as ISO-8601 in UTC with
   * milliseconds ({@code 2024-05-01T10:15:30.000Z}), a {@code Date} as {@code 2024-05-01}, a
   * {@code Time} as {@code 10:15:30.000}, a {@code Decimal}, or a {@code numeric} without a scale
   * (Debezium's {@code VariableScaleDecimal}), as its plain number ({@code 1000}, never {@code
   * 1E+3}), bytes ({@code bytea}) as standard base64; anything else (numbers,
   * strings, Debezium's ISO-8601 {@code ZonedTimestamp} and UUID strings) as {@code
   * String.valueOf}.
   */
  static String keyText(org.apache.kafka.connect.data.Schema schema, Object value) {
    if (value == null) {
      return "null";
    }
    String semantic = schema.name();
    if (value instanceof java.util.Date date) {
      Instant instant = date.toInstant();
      if (org.apache.kafka.connect.data.Date.LOGICAL_NAME.equals(semantic)) {
        return DateTimeFormatter.ISO_LOCAL_DATE.withZone(ZoneOffset.UTC).format(instant);
      }
      if (Time.LOGICAL_NAME.equals(semantic)) {
        return KEY_TIME.format(instant);
      }
      return KEY_TIMESTAMP.format(instant);
    }
    if (value instanceof BigDecimal decimal) {
      return decimal.toPlainString();
    }
    if (value instanceof Struct variable && ConnectToAvro.isVariableScaleDecimal(schema)) {
      return ConnectToAvro.variableScaleDecimal(variable).toPlainString();
    }
    if (value instanceof byte[] bytes) {
      return Base64.getEncoder().encodeToString(bytes);
    }
    if (value instanceof ByteBuffer buffer) {
      return Base64.getEncoder().encodeToString(Utils.toArray(buffer.duplicate()));
    }
    return String.valueOf(value);
  }

  private static final DateTimeFormatter KEY_TIMESTAMP =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
  private static final DateTimeFormatter KEY_TIME =
      DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneOffset.UTC);

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
    /** Whether the current run of changes without a commit LSN has been warned about. */
    boolean unorderedWarned;
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
              + " columns or change a column's type), then restart ingest. " + NOT_REPLAYED
              + " New schema: "
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
