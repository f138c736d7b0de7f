package dev.flywheel.ingest.http;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flywheel.events.Label;
import dev.flywheel.ingest.IngestConfig;
import dev.flywheel.ingest.cdc.CdcTableStatus;
import dev.flywheel.ingest.dlq.DeadLetter;
import dev.flywheel.ingest.dlq.DeadLetterWriter;
import dev.flywheel.ingest.json.Conversion;
import dev.flywheel.ingest.json.FieldError;
import dev.flywheel.ingest.json.JsonToAvro;
import dev.flywheel.ingest.metrics.IngestMetrics;
import dev.flywheel.ingest.source.IncompatibleSchemaException;
import dev.flywheel.ingest.source.InvalidSourceException;
import dev.flywheel.ingest.source.LabelSource;
import dev.flywheel.ingest.source.SourceCatalog;
import dev.flywheel.ingest.source.SourceDefinition;
import dev.flywheel.registry.SchemaRegistryException;
import dev.flywheel.topics.DeadLetterHeaders;
import dev.flywheel.topics.RecordSize;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP routes of ingest: {@code POST /ingest/{source}}, {@code POST /sources}, {@code POST
 * /labels} and {@code GET /health}. Only wiring and validation; {@link IngestService} owns the
 * producer, the catalog and the server.
 *
 * <p>A batch is validated whole before anything is produced. The answers, in the order they are
 * checked: 404 unknown source, 401 missing or wrong bearer token, 415 content type other than
 * {@code application/json} or {@code application/x-ndjson}, 413 body over the limit, 400 malformed
 * JSON (with line and column), 422 invalid records (each with index, field and reason; nothing is
 * written; a record too large for the producer's {@code max.request.size} is invalid too, and so
 * is a record too large for the topic's {@code max.message.bytes} and a label whose {@code target}
 * no declared model learns, when models are declared), 503 Kafka or the schema registry
 * unavailable, or ingest shutting down (the batch's transaction is aborted, so nothing of it is
 * visible to {@code read_committed} consumers), 202 written and committed. Every error body is
 * JSON with an {@code error} message that says what to fix.
 *
 * <p>A record is too large for its topic when the record batch the producer would send for it
 * alone ({@link RecordBatchSize}: serialized, compressed as the producer compresses, with the
 * batch's header) is over the topic's {@code max.message.bytes} ({@link TopicMessageLimits},
 * read with the Admin client and cached): the broker would refuse it, so the batch is answered
 * 422 before a transaction is opened for it, naming the record, its size and the topic's limit,
 * since sending it again cannot succeed. Before refusing on a cached limit, the limit is read
 * again, so one raised meanwhile is honoured at once. When the limit cannot be read, or was
 * lowered since it was read, the broker refuses the record instead: the batch's transaction is
 * aborted and answered the same 422 (and the limit read again for the next batch).
 *
 * <p>Rejected input is kept: each invalid or too large record of a 422 (its JSON text) and the
 * body of a 400 go
 * to the dead-letter topic of the topic they were meant for ({@code <topic>.dlq}) with the headers
 * {@code flywheel.error}, {@code flywheel.source}, {@code flywheel.origin} ({@code
 * http:<path>#<index>}) and, for NDJSON, {@code flywheel.line}. The answer says how many were
 * kept ({@code deadLettered}) and where ({@code deadLetterTopic}).
 */
public final class IngestHttpApi {

  /** {@code application/json}: one object or an array of objects. */
  public static final String JSON_TYPE = "application/json";

  /** {@code application/x-ndjson}: one JSON object per line. */
  public static final String NDJSON_TYPE = "application/x-ndjson";

  /** What {@link Label#getSource()} is set to when a label posted over HTTP does not say. */
  public static final String HTTP_LABEL_SOURCE = "http";

  private static final Logger log = LoggerFactory.getLogger(IngestHttpApi.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final SourceCatalog catalog;
  private final TransactionalBatchWriter writer;
  private final DeadLetterWriter deadLetters;
  private final long maxBodyBytes;
  private final String sourcesToken;
  private final String labelsToken;
  private final Duration produceTimeout;
  private final Supplier<IngestHealth> health;
  private final IngestMetrics metrics;
  private final SourceDefinition labels;
  /** The targets labels may name; empty when no model is declared, and then any target goes. */
  private final SortedSet<String> labelTargets;
  private final int maxRequestSize;
  /** Each topic's {@code max.message.bytes}, when known. */
  private final TopicMessageLimits limits;
  /** The size the broker checks against {@link #limits}. */
  private final RecordBatchSize batchSize;
  /** One writer per source schema, for the size check; a writer is thread-safe once built. */
  private final Map<Schema, GenericDatumWriter<GenericRecord>> sizeWriters =
      new ConcurrentHashMap<>();

  /** Bytes before the Avro binary in the Confluent wire format: magic byte and schema id. */
  private static final int WIRE_HEADER_BYTES = 5;

  /**
   * A record whose size uncompressed (an upper bound of its record batch's size uncompressed) is
   * below its topic's limit by more than 1/{@value} of it plus {@link #CODEC_FRAMING_BYTES} is
   * not measured compressed: that is more than the framing any of Kafka's codecs adds to data it
   * cannot shrink, so its batch fits. A record within it is measured as it would be sent.
   */
  private static final int CODEC_FRAMING_SHARE = 256;
  private static final int CODEC_FRAMING_BYTES = 64;

  /**
   * @param catalog the sources
   * @param writer writes each valid batch as one transaction
   * @param deadLetters where rejected records and malformed bodies are kept
   * @param http the body limit and the tokens of {@code /sources} and {@code /labels}
   * @param produceTimeout how long a batch may wait for the broker's acknowledgements
   * @param health the service's health, computed when {@code GET /health} is asked
   * @param metrics where records accepted, rejected and dead-lettered are counted
   */
  public IngestHttpApi(SourceCatalog catalog, TransactionalBatchWriter writer,
      DeadLetterWriter deadLetters, IngestConfig.Http http, Duration produceTimeout,
      Supplier<IngestHealth> health, IngestMetrics metrics) {
    this(catalog, writer, deadLetters, http, produceTimeout, health, metrics,
        RecordSize.maxRequestSize(Map.of()));
  }

  /**
   * As the seven-argument constructor, for batch producers whose {@code max.request.size} is
   * {@code maxRequestSize} (see {@link RecordSize#maxRequestSize}): a record larger than that is
   * answered 422 instead of failing the batch's transaction.
   */
  public IngestHttpApi(SourceCatalog catalog, TransactionalBatchWriter writer,
      DeadLetterWriter deadLetters, IngestConfig.Http http, Duration produceTimeout,
      Supplier<IngestHealth> health, IngestMetrics metrics, int maxRequestSize) {
    this(catalog, writer, deadLetters, http, produceTimeout, health, metrics, maxRequestSize,
        Set.of());
  }

  /**
   * As the eight-argument constructor, accepting only labels whose {@code target} is one of
   * {@code labelTargets} (the targets of the models in {@code flywheel.yaml}, see {@link
   * IngestConfig#labelTargets()}): a label of another target is invalid (422), as no model would
   * ever learn from it. An empty set accepts every target.
   */
  public IngestHttpApi(SourceCatalog catalog, TransactionalBatchWriter writer,
      DeadLetterWriter deadLetters, IngestConfig.Http http, Duration produceTimeout,
      Supplier<IngestHealth> health, IngestMetrics metrics, int maxRequestSize,
      Set<String> labelTargets) {
    this(catalog, writer, deadLetters, http, produceTimeout, health, metrics, maxRequestSize,
        labelTargets, TopicMessageLimits.unknown(), RecordBatchSize.unmeasured());
  }

  /**
   * As the nine-argument constructor, with {@code limits} telling each topic's {@code
   * max.message.bytes}: a record whose {@code batchSize} (the record batch the batch producers
   * would send for it) is over its topic's limit is answered 422 before anything of the batch is
   * sent, and the 422 of a record the broker refused as too large names the limit.
   */
  public IngestHttpApi(SourceCatalog catalog, TransactionalBatchWriter writer,
      DeadLetterWriter deadLetters, IngestConfig.Http http, Duration produceTimeout,
      Supplier<IngestHealth> health, IngestMetrics metrics, int maxRequestSize,
      Set<String> labelTargets, TopicMessageLimits limits, RecordBatchSize batchSize) {
    this.limits = Objects.requireNonNull(limits, "limits");
    this.batchSize = Objects.requireNonNull(batchSize, "batchSize");
    this.labelTargets = new TreeSet<>(Objects.requireNonNull(labelTargets, "labelTargets"));
    this.maxRequestSize = maxRequestSize;
    this.catalog = Objects.requireNonNull(catalog, "catalog");
    this.writer = Objects.requireNonNull(writer, "writer");
    this.deadLetters = Objects.requireNonNull(deadLetters, "deadLetters");
    this.maxBodyBytes = http.maxBodyBytes();
    this.sourcesToken = http.sourcesToken();
    this.labelsToken = http.labelsToken();
    this.produceTimeout = Objects.requireNonNull(produceTimeout, "produceTimeout");
    this.health = Objects.requireNonNull(health, "health");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.labels = LabelSource.DEFINITION;
  }

  /** Adds the routes to a Javalin configuration. */
  public void routes(RoutesConfig routes) {
    routes(routes, () -> this, metrics);
  }

  /**
   * Adds the routes to a Javalin configuration, each answered by the API {@code api} supplies
   * when the request arrives, or 503 while it supplies null (the service has not started, or has
   * stopped). Each request's latency goes to {@code metrics} by route, method and status.
   */
  public static void routes(RoutesConfig routes, Supplier<IngestHttpApi> api,
      IngestMetrics metrics) {
    routes(routes, api, metrics, true);
  }

  /**
   * As {@link #routes(RoutesConfig, Supplier, IngestMetrics)}, without {@code GET /health} when
   * {@code withHealth} is false: for a shared server that answers {@code /health} for every
   * service itself.
   */
  public static void routes(RoutesConfig routes, Supplier<IngestHttpApi> api,
      IngestMetrics metrics, boolean withHealth) {
    routes.post("/ingest/{source}", handler(api, metrics, "/ingest/{source}",
        IngestHttpApi::ingest));
    routes.post("/sources", handler(api, metrics, "/sources", IngestHttpApi::addSource));
    routes.post("/labels", handler(api, metrics, "/labels", IngestHttpApi::postLabels));
    if (withHealth) {
      routes.get("/health", handler(api, metrics, "/health", IngestHttpApi::health));
    }
    routes.exception(SchemaRegistryException.class, (e, ctx) -> {
      log.warn("{} {}: schema registry error", ctx.method(), ctx.path(), e);
      error(ctx, 503, "the schema registry did not answer as expected: " + e.getMessage());
    });
    routes.exception(Exception.class, (e, ctx) -> {
      log.error("{} {} failed", ctx.method(), ctx.path(), e);
      error(ctx, 500, "internal error: " + e.getClass().getSimpleName() + ": " + e.getMessage());
    });
  }

  private static Handler handler(Supplier<IngestHttpApi> api, IngestMetrics metrics,
      String path, BiConsumer<IngestHttpApi, Context> route) {
    return ctx -> {
      long start = System.nanoTime();
      int status = 500;
      try {
        IngestHttpApi current = api.get();
        if (current == null) {
          error(ctx, 503, "the ingest service is not running; start it, or retry shortly");
        } else {
          route.accept(current, ctx);
        }
        status = ctx.statusCode();
      } catch (SchemaRegistryException e) {
        status = 503;
        throw e;
      } finally {
        metrics.httpRequest(path, ctx.method().name(), status, System.nanoTime() - start);
      }
    };
  }

  // ---------------------------------------------------------------- POST /ingest/{source}

  private void ingest(Context ctx) {
    String name = ctx.pathParam("source");
    Optional<SourceDefinition> found = catalog.find(name);
    if (found.isEmpty()) {
      error(ctx, 404, "unknown source '" + name + "'; add it with POST /sources or in"
          + " flywheel.yaml");
      return;
    }
    SourceDefinition source = found.get();
    if (!source.authorizes(ctx.header("Authorization"))) {
      ctx.header("WWW-Authenticate", "Bearer realm=\"flywheel-ingest\"");
      error(ctx, 401, ctx.header("Authorization") == null
          ? "source '" + name + "' needs a bearer token: send 'Authorization: Bearer <token>'"
          : "the bearer token is not valid for source '" + name + "'");
      return;
    }
    String topic = catalog.topic(source.name()).name();
    Optional<List<JsonBatch.Item>> items = readBatch(ctx, topic, source.name());
    if (items.isEmpty()) {
      return;
    }
    writeBatch(ctx, source, topic, items.get(), null);
  }

  // ---------------------------------------------------------------- POST /labels

  private void postLabels(Context ctx) {
    if (!bearerMatches(labelsToken, ctx.header("Authorization"))) {
      unauthorized(ctx, "POST /labels needs the labels bearer token (ingest.labelsToken)");
      return;
    }
    String topic = catalog.topics().labels().name();
    Optional<List<JsonBatch.Item>> items = readBatch(ctx, topic, null);
    if (items.isEmpty()) {
      return;
    }
    writeBatch(ctx, labels, topic, items.get(), HTTP_LABEL_SOURCE);
  }

  // ---------------------------------------------------------------- shared batch path

  private Optional<List<JsonBatch.Item>> readBatch(Context ctx, String topic, String sourceName) {
    String type = mediaType(ctx.contentType());
    if (!JSON_TYPE.equals(type) && !NDJSON_TYPE.equals(type)) {
      error(ctx, 415, "content type " + (type == null ? "missing" : "'" + type + "'")
          + "; send " + JSON_TYPE + " (an object or an array of objects) or " + NDJSON_TYPE
          + " (one object per line)");
      return Optional.empty();
    }
    Optional<byte[]> body = readBody(ctx);
    if (body.isEmpty()) {
      return Optional.empty();
    }
    try {
      List<JsonBatch.Item> items = JSON_TYPE.equals(type)
          ? JsonBatch.parseJson(body.get()) : JsonBatch.parseNdjson(body.get());
      if (items.isEmpty()) {
        error(ctx, 400, "the body holds no records");
        return Optional.empty();
      }
      return Optional.of(items);
    } catch (JsonBatch.MalformedBodyException e) {
      ObjectNode out = errorBody(e.getMessage());
      out.put("line", e.line);
      out.put("column", e.column);
      DeadLetter.Builder letter = DeadLetter.of(topic, body.get())
          .error(e.getMessage() + " (line " + e.line + ", column " + e.column + ")")
          .origin(origin(ctx, null))
          .source(sourceName);
      if (e.line > 0) {
        letter.header(DeadLetterHeaders.LINE, Long.toString(e.line));
      }
      String metricSource = sourceName == null ? LabelSource.NAME : sourceName;
      metrics.rejected(metricSource, IngestMetrics.HTTP).increment();
      keep(ctx, out, List.of(letter.build()), metricSource);
      send(ctx, 400, out);
      return Optional.empty();
    }
  }

  private void writeBatch(Context ctx, SourceDefinition source, String topic,
      List<JsonBatch.Item> items, String labelSource) {
    Schema schema = source.schema();
    List<ProducerRecord<String, GenericRecord>> records = new ArrayList<>(items.size());
    ArrayNode errors = JSON.createArrayNode();
    List<DeadLetter> rejected = new ArrayList<>();
    SortedSet<String> unknownTargets = new TreeSet<>();
    int untargeted = 0;
    int invalid = 0;
    int overTopicLimit = 0;
    TopicLimit topicLimit = new TopicLimit(topic);
    for (JsonBatch.Item item : items) {
      JsonNode json = item.json();
      if (labelSource != null && json instanceof ObjectNode object && !object.has("source")) {
        object.put("source", labelSource);
      }
      Conversion conversion = JsonToAvro.convert(json, schema);
      List<FieldError> problems = new ArrayList<>(conversion.errors());
      ProducerRecord<String, GenericRecord> record = null;
      if (conversion.valid()) {
        try {
          record = new ProducerRecord<>(topic, null, source.timestampOf(conversion.record()),
              source.keyOf(conversion.record()), conversion.record());
        } catch (IllegalArgumentException e) {
          problems.add(new FieldError(source.timeField(), e.getMessage()));
        }
      }
      if (problems.isEmpty() && labelSource != null) {
        Optional<String> unknown = unknownTarget(record.value());
        if (unknown.isPresent() && !json.has(LabelSource.TARGET_FIELD)) {
          untargeted++;
          problems.add(new FieldError(LabelSource.TARGET_FIELD, "the label gives no target, so"
              + " it defaults to '" + unknown.get() + "', which no model learns: the models in"
              + " flywheel.yaml learn " + known(labelTargets) + "; add \""
              + LabelSource.TARGET_FIELD + "\": <one of those> to the label"));
        } else if (unknown.isPresent()) {
          unknownTargets.add(unknown.get());
          problems.add(new FieldError(LabelSource.TARGET_FIELD, "no model learns target '"
              + unknown.get() + "': the models in flywheel.yaml learn " + known(labelTargets)
              + "; correct the label's target, or declare a model with target " + unknown.get()
              + " in flywheel.yaml and restart ingest"));
        }
      }
      OptionalInt size = problems.isEmpty() ? recordSize(record) : OptionalInt.empty();
      if (problems.isEmpty()) {
        tooLarge(record, size).ifPresent(problems::add);
      }
      RecordTooLargeException overLimit = null;
      if (problems.isEmpty()) {
        overLimit = overTopicLimit(record, size, topicLimit).orElse(null);
        if (overLimit != null) {
          overTopicLimit++;
          problems.add(new FieldError(FieldError.ROOT, overLimit.getMessage()));
        }
      }
      if (problems.isEmpty()) {
        records.add(record);
      } else {
        invalid++;
        // a record over the topic's limit is kept as one the broker refused is, with its error
        reject(ctx, topic, item, source, labelSource, problems, overLimit, errors, rejected);
      }
    }
    if (invalid > 0) {
      answerInvalid(ctx, source, topic, items.size(), schema, invalid, overTopicLimit,
          unknownTargets, untargeted, errors, rejected, labelSource);
      return;
    }
    produce(ctx, source, topic, items, records, labelSource);
  }

  /**
   * Answers 422 for a batch of {@code total} records of which {@code invalid} are, {@code
   * overTopicLimit} of them as too large for the topic and the others as not matching the schema
   * (or, for labels, naming targets no model learns): nothing is written.
   */
  private void answerInvalid(Context ctx, SourceDefinition source, String topic, int total,
      Schema schema, int invalid, int overTopicLimit, SortedSet<String> unknownTargets,
      int untargeted, ArrayNode errors, List<DeadLetter> rejected, String labelSource) {
    List<String> parts = new ArrayList<>();
    int otherwise = invalid - overTopicLimit;
    if (otherwise > 0) {
      List<String> targetProblems = new ArrayList<>();
      if (!unknownTargets.isEmpty()) {
        targetProblems.add("unknown target(s) " + known(unknownTargets));
      }
      if (untargeted > 0) {
        targetProblems.add(untargeted + " give no target, which defaults to '"
            + defaultTarget(schema) + "'");
      }
      parts.add(targetProblems.isEmpty()
          ? otherwise + " of " + total + " records do not match schema "
              + schema.getFullName() + " of '" + source.name() + "'"
          : otherwise + " of " + total + " labels are invalid: "
              + String.join(", and ", targetProblems) + ", while the models in flywheel.yaml"
              + " learn " + known(labelTargets));
    }
    if (overTopicLimit > 0) {
      parts.add(overTopicLimit + " of " + total + " records are too large for topic " + topic
          + ", over its max.message.bytes, so Kafka would refuse them");
    }
    String message = String.join("; ", parts) + "; nothing was written";
    if (overTopicLimit > 0) {
      message += ", and sending the same batch again cannot succeed: raise the limit the errors"
          + " name (the topic's max.message.bytes) or split those records";
    }
    answerRejected(ctx, errorBody(message), invalid, errors, rejected,
        metricSource(source, labelSource));
  }

  /**
   * The problem of a record the batch producer would refuse with {@code RecordTooLargeException}
   * (which would fail the whole batch with a 503 a retry cannot fix), if it is that large.
   */
  private Optional<FieldError> tooLarge(ProducerRecord<String, GenericRecord> record,
      OptionalInt measured) {
    if (measured.isEmpty() || measured.getAsInt() <= maxRequestSize) {
      return Optional.empty(); // small enough, or not measurable here: the serializer decides
    }
    int size = measured.getAsInt();
    return Optional.of(new FieldError(FieldError.ROOT, "the record is " + size + " bytes as a"
        + " Kafka record, over the " + maxRequestSize + " bytes ingest's producer accepts"
        + " (max.request.size): split it into smaller records, or raise max.request.size for"
        + " ingest (FLYWHEEL_KAFKA_MAX_REQUEST_SIZE) and max.message.bytes of topic "
        + record.topic()));
  }

  /**
   * The size of {@code record} as a Kafka record, uncompressed, as the producer measures it
   * against {@code max.request.size}; empty when it cannot be measured here.
   */
  private OptionalInt recordSize(ProducerRecord<String, GenericRecord> record) {
    GenericRecord value = record.value();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    bytes.write(new byte[WIRE_HEADER_BYTES], 0, WIRE_HEADER_BYTES);
    try {
      BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(bytes, null);
      sizeWriters.computeIfAbsent(value.getSchema(),
          schema -> new GenericDatumWriter<>(schema, GenericData.get())).write(value, encoder);
      encoder.flush();
    } catch (IOException | RuntimeException e) {
      return OptionalInt.empty();
    }
    return OptionalInt.of(RecordSize.upperBound(
        record.key() == null ? null : record.key().getBytes(UTF_8), bytes.toByteArray(), null));
  }

  /**
   * The error of a record over its topic's {@code max.message.bytes}, which the broker would
   * refuse with {@code RecordTooLargeException}, failing the batch's transaction: when the record
   * batch the producer sends for it alone is larger than the limit. Empty when the record fits,
   * or when the limit or the record's batch cannot be measured here (then the broker decides).
   *
   * <p>Only a record that may be over the limit (uncompressed, with room for a codec's framing)
   * is serialized and compressed again to be measured; a record over a cached limit is measured
   * against the limit read again, so that a limit raised since is honoured at once.
   */
  private Optional<RecordTooLargeException> overTopicLimit(
      ProducerRecord<String, GenericRecord> record, OptionalInt size, TopicLimit topicLimit) {
    OptionalInt limit = topicLimit.cached();
    if (limit.isEmpty() || size.isEmpty() || size.getAsInt()
        + size.getAsInt() / CODEC_FRAMING_SHARE + CODEC_FRAMING_BYTES <= limit.getAsInt()) {
      return Optional.empty();
    }
    OptionalInt batch = batchSize.of(record);
    if (batch.isEmpty() || batch.getAsInt() <= limit.getAsInt()) {
      return Optional.empty();
    }
    limit = topicLimit.confirmed();
    if (limit.isEmpty() || batch.getAsInt() <= limit.getAsInt()) {
      return Optional.empty();
    }
    int bytes = batch.getAsInt();
    String topic = record.topic();
    // the exception the broker would answer with, so the dead letter says what it would say
    return Optional.of(new RecordTooLargeException("the record of " + bytes + " bytes (as the"
        + " record batch ingest's producer sends it, " + batchSize.compressionType()
        + "-compressed) is over max.message.bytes of topic " + topic + " (now "
        + limit.getAsInt() + " bytes), so Kafka would refuse it: raise max.message.bytes of topic "
        + topic + " to at least " + bytes + ", or split the record into smaller ones"));
  }

  /**
   * A topic's {@code max.message.bytes} for the records of one batch: taken from {@link #limits}
   * when the first record needs it, and read again at most once, before a record is refused.
   */
  private final class TopicLimit {
    private final String topic;
    private OptionalInt limit;
    private boolean confirmed;

    TopicLimit(String topic) {
      this.topic = topic;
    }

    /** The cached limit; empty when unknown. */
    OptionalInt cached() {
      if (limit == null) {
        limit = limits.get(topic);
      }
      return limit;
    }

    /** The limit as read now (once per batch); empty when it cannot be read. */
    OptionalInt confirmed() {
      if (!confirmed) {
        limit = limits.refresh(topic);
        confirmed = true;
      }
      return limit;
    }
  }

  /**
   * The reason given for a record Kafka refused as too large although it passed the check against
   * the producer's {@code max.request.size}: in practice the broker, over the topic's {@code
   * max.message.bytes} ({@code limit}, when known).
   */
  private String refusedReason(String topic, Size size, OptionalInt limit,
      RecordTooLargeException cause) {
    String sizeText = size.bytes() == 0 ? "" : " of " + size.bytes() + " bytes (" + (size.asSent()
        ? "as the record batch ingest's producer sends it, " + batchSize.compressionType()
            + "-compressed" : "as a Kafka record, before compression") + ")";
    String limitText = limit.isPresent() ? " (now " + limit.getAsInt() + " bytes)" : "";
    String message = String.valueOf(cause.getMessage());
    StringBuilder reason = new StringBuilder("Kafka refused the record" + sizeText
        + " as too large for topic " + topic + " (RecordTooLargeException: " + message + "): ");
    if (message.contains(ProducerConfig.MAX_REQUEST_SIZE_CONFIG)) {
      // the producer itself, although the record passed the check against its limit
      reason.append("raise max.request.size for ingest (FLYWHEEL_KAFKA_MAX_REQUEST_SIZE) and");
    } else {
      reason.append("raise");
    }
    reason.append(" max.message.bytes of topic ").append(topic).append(limitText);
    if (size.bytes() > 0) {
      reason.append(" to at least ").append(size.bytes());
    }
    reason.append(", or split the record into smaller ones");
    return reason.toString();
  }

  /** The target of a label, when targets are declared and it is not one of them. */
  private Optional<String> unknownTarget(GenericRecord label) {
    String target = String.valueOf(label.get(LabelSource.TARGET_FIELD));
    return labelTargets.isEmpty() || labelTargets.contains(target)
        ? Optional.empty() : Optional.of(target);
  }

  /** The target a label without one gets: the default of the Label schema's target field. */
  private static String defaultTarget(Schema labelSchema) {
    return String.valueOf(labelSchema.getField(LabelSource.TARGET_FIELD).defaultVal());
  }

  private static String known(Set<String> targets) {
    return targets.stream().map(t -> "'" + t + "'").collect(Collectors.joining(", "));
  }

  private static String metricSource(SourceDefinition source, String labelSource) {
    return labelSource == null ? source.name() : LabelSource.NAME;
  }

  /**
   * Writes the batch ({@code records}, converted from {@code items} in the same order) in one
   * transaction and answers 202, 503, or 422 when Kafka refused records of it as too large or for
   * their event time.
   */
  private void produce(Context ctx, SourceDefinition source, String topic,
      List<JsonBatch.Item> items, List<ProducerRecord<String, GenericRecord>> records,
      String labelSource) {
    String metricSource = metricSource(source, labelSource);
    List<RecordMetadata> written;
    try {
      written = writer.write(records);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      error(ctx, 503, "interrupted while writing; retry the batch");
      return;
    } catch (TransactionalBatchWriter.BatchFailedException e) {
      if (e.aborted() && !e.tooLarge().isEmpty()) {
        refusedAsTooLarge(ctx, source, topic, items, records, labelSource, e.tooLarge());
        return;
      }
      if (e.aborted() && !e.badTimestamp().isEmpty()) {
        refusedForTimestamp(ctx, source, topic, items, records, labelSource, e.badTimestamp());
        return;
      }
      if (e.shuttingDown()) {
        error(ctx, 503, "ingest is shutting down; none of the batch was written: retry it (on"
            + " another ingest instance, or once this one is back)");
        return;
      }
      log.warn("{} {}: writing a batch of {} failed (aborted: {})", ctx.method(), ctx.path(),
          records.size(), e.aborted(), e.getCause() == null ? e : e.getCause());
      error(ctx, 503, "Kafka did not accept the batch (" + e.getMessage() + "); "
          + (e.aborted() ? "none of it was written (its transaction was aborted), retry the batch"
              : "its transaction could not be confirmed either way: read_committed consumers see"
                  + " all of the batch or none of it, and retrying may write it twice"));
      return;
    }
    metrics.accepted(metricSource, IngestMetrics.HTTP).increment(written.size());
    TreeMap<Integer, long[]> ranges = new TreeMap<>();
    for (RecordMetadata metadata : written) {
      ranges.merge(metadata.partition(), new long[] {metadata.offset(), metadata.offset()},
          (a, b) -> new long[] {Math.min(a[0], b[0]), Math.max(a[1], b[1])});
    }
    ObjectNode out = JSON.createObjectNode();
    out.put("count", records.size());
    ArrayNode partitions = out.putArray("partitions");
    ranges.forEach((partition, range) -> {
      ObjectNode p = partitions.addObject();
      p.put("partition", partition);
      p.put("firstOffset", range[0]);
      p.put("lastOffset", range[1]);
    });
    send(ctx, 202, out);
  }

  /**
   * Answers 422 for a batch that was not written because Kafka refused a record of it as too
   * large (a retry of the same batch could never succeed), keeping the records too large on the
   * dead-letter topic as the 422 of invalid records does.
   *
   * <p>Which records are too large is decided by size: once the broker refuses one, the producer
   * fails the sends of the transaction it had not yet made with the same error, so {@code refused}
   * may hold records that are not too large themselves. Named are those of {@code refused} over
   * the topic's {@code max.message.bytes}, each measured as the record batch the producer sends
   * for it alone ({@link RecordBatchSize}, what the broker checks) or, when it cannot be measured
   * so, or the producer refused it over its {@code max.request.size}, before compression; when
   * none is over it by that measure or the limit cannot be read, the largest of them.
   */
  private void refusedAsTooLarge(Context ctx, SourceDefinition source, String topic,
      List<JsonBatch.Item> items, List<ProducerRecord<String, GenericRecord>> records,
      String labelSource, List<TransactionalBatchWriter.RefusedRecord> refused) {
    // the cached limit did not predict this refusal (or was unknown): read it again, for this
    // answer and for the batches that follow
    OptionalInt limit = limits.refresh(topic);
    Map<Integer, Size> sizes = new TreeMap<>();
    for (TransactionalBatchWriter.RefusedRecord record : refused) {
      ProducerRecord<String, GenericRecord> sent = records.get(record.index());
      boolean byProducer = String.valueOf(record.cause().getMessage())
          .contains(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
      OptionalInt asSent = byProducer ? OptionalInt.empty() : batchSize.of(sent);
      sizes.put(record.index(), asSent.isPresent() ? new Size(asSent.getAsInt(), true)
          : new Size(recordSize(sent).orElse(0), false));
    }
    List<TransactionalBatchWriter.RefusedRecord> named = new ArrayList<>();
    if (limit.isPresent()) {
      int max = limit.getAsInt();
      refused.stream().filter(r -> sizes.get(r.index()).bytes() > max).forEach(named::add);
    }
    if (named.isEmpty()) {
      refused.stream().max(Comparator.comparingInt(
          (TransactionalBatchWriter.RefusedRecord r) -> sizes.get(r.index()).bytes()))
          .ifPresent(named::add);
    }
    ArrayNode errors = JSON.createArrayNode();
    List<DeadLetter> rejected = new ArrayList<>();
    for (TransactionalBatchWriter.RefusedRecord record : named) {
      JsonBatch.Item item = items.get(record.index());
      String reason = refusedReason(topic, sizes.get(record.index()), limit, record.cause());
      reject(ctx, topic, item, source, labelSource,
          List.of(new FieldError(FieldError.ROOT, reason)), record.cause(), errors, rejected);
    }
    log.warn("{} {}: Kafka refused record(s) {} of a batch of {} as too large for topic {}; the"
        + " batch was aborted", ctx.method(), ctx.path(),
        named.stream().map(r -> Integer.toString(r.index())).collect(Collectors.joining(", ")),
        items.size(), topic);
    ObjectNode out = errorBody("Kafka refused " + named.size() + " of " + items.size()
        + " records as too large for topic " + topic + "; nothing was written, and sending the"
        + " same batch again cannot succeed: raise the limit the errors name (the topic's"
        + " max.message.bytes) or split those records");
    answerRejected(ctx, out, named.size(), errors, rejected, metricSource(source, labelSource));
  }

  /** The range the broker accepts, in its refusal "... should be within [from, to]". */
  private static final Pattern TIMESTAMP_RANGE =
      Pattern.compile("within \\[(-?\\d+), ?(-?\\d+)\\]");

  /**
   * Answers 422 for a batch that was not written because the broker refused records of it for
   * their timestamp, the event time ingest stamps them with (a retry of the same batch could
   * never succeed; a 503 would have it retried for ever), keeping those records on the dead-letter
   * topic as the 422 of invalid records does. Each is named with its event time and the range the
   * broker accepted, which follows the topic's {@code message.timestamp.after.max.ms} (1 hour by
   * default) and {@code message.timestamp.before.max.ms}.
   */
  private void refusedForTimestamp(Context ctx, SourceDefinition source, String topic,
      List<JsonBatch.Item> items, List<ProducerRecord<String, GenericRecord>> records,
      String labelSource, List<TransactionalBatchWriter.RefusedTimestamp> refused) {
    ArrayNode errors = JSON.createArrayNode();
    List<DeadLetter> rejected = new ArrayList<>();
    String field = source.timeField() == null ? FieldError.ROOT : source.timeField();
    for (TransactionalBatchWriter.RefusedTimestamp record : refused) {
      JsonBatch.Item item = items.get(record.index());
      Long timestamp = records.get(record.index()).timestamp();
      String message = String.valueOf(record.cause().getMessage());
      Matcher range = TIMESTAMP_RANGE.matcher(message);
      String accepted = range.find() ? accepted(range.group(1), range.group(2)) : "";
      String reason = "Kafka refused the record's event time "
          + (timestamp == null ? "" : Instant.ofEpochMilli(timestamp) + " ")
          + "for topic " + topic + accepted + ": an event time may be at most the topic's"
          + " message.timestamp.after.max.ms ahead of the broker's clock (1 hour by default) and"
          + " message.timestamp.before.max.ms behind it; correct the event time, or raise those"
          + " settings of topic " + topic + " (" + record.cause().getClass().getSimpleName()
          + ": " + message + ")";
      reject(ctx, topic, item, source, labelSource, List.of(new FieldError(field, reason)),
          record.cause(), errors, rejected);
    }
    log.warn("{} {}: Kafka refused record(s) {} of a batch of {} for their timestamp on topic {};"
        + " the batch was aborted", ctx.method(), ctx.path(),
        refused.stream().map(r -> Integer.toString(r.index())).collect(Collectors.joining(", ")),
        items.size(), topic);
    ObjectNode out = errorBody("Kafka refused " + refused.size() + " of " + items.size()
        + " records for their event time on topic " + topic + "; nothing was written, and"
        + " sending the same batch again cannot succeed: correct the event times the errors name,"
        + " or raise the topic's message.timestamp.after.max.ms");
    answerRejected(ctx, out, refused.size(), errors, rejected, metricSource(source, labelSource));
  }

  /**
   * The range of event times the broker accepted, from its bounds in epoch milliseconds: " (it
   * accepted event times up to ...)", with the lower bound only when there is one in practice
   * (message.timestamp.before.max.ms is unbounded by default); empty when they are not numbers.
   */
  private static String accepted(String fromMillis, String toMillis) {
    try {
      long from = Long.parseLong(fromMillis);
      long to = Long.parseLong(toMillis);
      return " (it accepted event times " + (from > 0 ? "from " + Instant.ofEpochMilli(from)
          + " " : "") + "up to " + Instant.ofEpochMilli(to) + ")";
    } catch (RuntimeException e) {
      return "";
    }
  }

  /**
   * A record's size in bytes for the answer to its refusal: as the record batch the producer sends
   * for it ({@code asSent}, compressed), or as a Kafka record before compression; 0 when unknown.
   */
  private record Size(int bytes, boolean asSent) {}

  /**
   * Rejects one record of a batch for {@code problems}: its JSON text goes to {@code rejected},
   * as the dead letter of {@code topic} (with {@code cause}, when there is one), and each problem
   * to {@code errors} with the record's index (and line, for NDJSON).
   */
  private void reject(Context ctx, String topic, JsonBatch.Item item, SourceDefinition source,
      String labelSource, List<FieldError> problems, Throwable cause, ArrayNode errors,
      List<DeadLetter> rejected) {
    DeadLetter.Builder letter = DeadLetter.of(topic, item.text())
        .error(String.join("; ", problems.stream().map(FieldError::toString).toList()))
        .origin(origin(ctx, item))
        .source(labelSource == null ? source.name() : null);
    if (cause != null) {
      letter.cause(cause);
    }
    if (item.line() > 0) {
      letter.header(DeadLetterHeaders.LINE, Long.toString(item.line()));
    }
    rejected.add(letter.build());
    for (FieldError problem : problems) {
      ObjectNode entry = errors.addObject();
      entry.put("index", item.index());
      if (item.line() > 0) {
        entry.put("line", item.line());
      }
      entry.put("field", problem.field());
      entry.put("reason", problem.reason());
    }
  }

  /** Answers 422 {@code out} with the batch's {@code invalid} records, kept on their DLQ. */
  private void answerRejected(Context ctx, ObjectNode out, int invalid, ArrayNode errors,
      List<DeadLetter> rejected, String metricSource) {
    out.put("invalid", invalid);
    out.set("errors", errors);
    metrics.rejected(metricSource, IngestMetrics.HTTP).increment(invalid);
    keep(ctx, out, rejected, metricSource);
    send(ctx, 422, out);
  }

  // ---------------------------------------------------------------- POST /sources

  private void addSource(Context ctx) {
    if (!bearerMatches(sourcesToken, ctx.header("Authorization"))) {
      unauthorized(ctx, "POST /sources needs the sources bearer token (ingest.sourcesToken)");
      return;
    }
    if (!JSON_TYPE.equals(mediaType(ctx.contentType()))) {
      error(ctx, 415, "send the source as " + JSON_TYPE + ": {\"name\", \"schema\", \"key\","
          + " \"time\"}");
      return;
    }
    Optional<byte[]> body = readBody(ctx);
    if (body.isEmpty()) {
      return;
    }
    JsonNode request;
    try {
      request = JSON.readTree(body.get());
    } catch (JsonProcessingException e) {
      ObjectNode out = errorBody("malformed JSON: " + e.getOriginalMessage());
      out.put("line", e.getLocation() == null ? 0 : e.getLocation().getLineNr());
      out.put("column", e.getLocation() == null ? 0 : e.getLocation().getColumnNr());
      send(ctx, 400, out);
      return;
    } catch (IOException e) {
      error(ctx, 400, "cannot read the body: " + e.getMessage());
      return;
    }
    if (request == null || !request.isObject()) {
      error(ctx, 400, "send a JSON object {\"name\", \"schema\", \"key\", \"time\"}");
      return;
    }
    if (request.has("token")) {
      error(ctx, 422, "bearer tokens are set in flywheel.yaml, not over HTTP");
      return;
    }
    String name = text(request, "name");
    Optional<String> existingToken = catalog.declared().stream()
        .filter(s -> s.name().equals(name)).findFirst().flatMap(SourceDefinition::bearerToken);
    SourceDefinition.Builder builder = SourceDefinition.builder(name)
        .keyField(text(request, "key")).timeField(text(request, "time"))
        .bearerToken(existingToken.orElse(null));
    JsonNode schemaNode = request.get("schema");
    if (schemaNode == null || schemaNode.isNull()) {
      unprocessable(ctx, name, List.of("the schema is missing: give the Avro schema as a JSON"
          + " object or string"));
      return;
    }
    try {
      builder.schema(new Schema.Parser().parse(
          schemaNode.isTextual() ? schemaNode.textValue() : schemaNode.toString()));
    } catch (SchemaParseException e) {
      unprocessable(ctx, name, List.of("the schema is not a valid Avro schema: "
          + e.getMessage()));
      return;
    }
    SourceDefinition source;
    try {
      source = builder.build();
    } catch (InvalidSourceException e) {
      unprocessable(ctx, name, e.problems());
      return;
    }
    if (sourcesToken == null && !source.authorizes(ctx.header("Authorization"))) {
      unauthorized(ctx, "source '" + name + "' has a bearer token; send it to change the source");
      return;
    }
    try {
      SourceCatalog.Registration registration = catalog.add(source);
      ObjectNode out = JSON.createObjectNode();
      out.put("name", source.name());
      out.put("topic", registration.topic());
      out.put("subject", registration.subject());
      out.put("schemaId", registration.schemaId());
      out.put("version", registration.version());
      out.put("key", source.keyField());
      out.put("time", source.timeField());
      send(ctx, 201, out);
    } catch (IncompatibleSchemaException e) {
      ObjectNode out = errorBody(e.getMessage());
      ArrayNode fields = out.putArray("fields");
      e.fields().forEach(fields::add);
      ArrayNode messages = out.putArray("registryMessages");
      e.registryMessages().forEach(messages::add);
      send(ctx, 409, out);
    } catch (InvalidSourceException e) {
      unprocessable(ctx, name, e.problems());
    }
  }

  private void unprocessable(Context ctx, String name, List<String> problems) {
    ObjectNode out = errorBody("source '" + name + "' is invalid: " + String.join("; ", problems));
    ArrayNode list = out.putArray("problems");
    problems.forEach(list::add);
    send(ctx, 422, out);
  }

  // ---------------------------------------------------------------- GET /health

  private void health(Context ctx) {
    IngestHealth now = health.get();
    ObjectNode out = JSON.createObjectNode();
    out.put("status", now.status());
    now.problem().ifPresent(p -> out.put("reason", p));
    if (now.cdcRunning() != null) {
      ObjectNode cdc = out.putObject("cdc");
      cdc.put("running", now.cdcRunning());
      ArrayNode tables = cdc.putArray("tables");
      for (CdcTableStatus table : now.cdcTables()) {
        ObjectNode entry = tables.addObject();
        entry.put("table", table.table().qualifiedName());
        entry.put("source", table.table().source());
        entry.put("status", table.capturing() ? "CAPTURING" : "STOPPED");
        table.stopReason().ifPresent(reason -> entry.put("reason", reason));
      }
    }
    send(ctx, now.httpStatus(), out);
  }

  // ---------------------------------------------------------------- helpers

  private Optional<byte[]> readBody(Context ctx) {
    long declared = ctx.req().getContentLengthLong();
    if (declared > maxBodyBytes) {
      tooLarge(ctx, declared + " bytes");
      return Optional.empty();
    }
    try (InputStream in = ctx.req().getInputStream()) {
      byte[] body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBodyBytes + 1));
      if (body.length > maxBodyBytes) {
        tooLarge(ctx, "more than " + maxBodyBytes + " bytes");
        return Optional.empty();
      }
      return Optional.of(body);
    } catch (IOException e) {
      error(ctx, 400, "cannot read the body: " + e.getMessage());
      return Optional.empty();
    }
  }

  /**
   * Writes rejected input to its dead-letter topic and waits for the acknowledgements, so that the
   * answer can say whether it was kept: {@code deadLetterTopic} and {@code deadLettered} (how many
   * records were kept) are added to {@code answer}.
   */
  private void keep(Context ctx, ObjectNode answer, List<DeadLetter> letters,
      String metricSource) {
    if (letters.isEmpty()) {
      return;
    }
    long deadline = System.nanoTime() + produceTimeout.toNanos();
    int kept = 0;
    String dlqTopic = null;
    try {
      List<Future<RecordMetadata>> sent = new ArrayList<>();
      for (DeadLetter letter : letters) {
        sent.add(deadLetters.write(letter));
      }
      for (Future<RecordMetadata> future : sent) {
        dlqTopic = future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)
            .topic();
        kept++;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      log.warn("{} {}: {} of {} rejected records could not be written to their dead-letter topic",
          ctx.method(), ctx.path(), letters.size() - kept, letters.size(), e);
    }
    metrics.deadLettered(metricSource, IngestMetrics.HTTP).increment(kept);
    if (dlqTopic != null) {
      answer.put("deadLetterTopic", dlqTopic);
    }
    answer.put("deadLettered", kept);
  }

  /**
   * The {@link DeadLetterHeaders#ORIGIN} of rejected HTTP input: {@code http:<path>} for a whole
   * body, {@code http:<path>#<index>} for one record of a batch (0-based).
   */
  static String origin(Context ctx, JsonBatch.Item item) {
    return "http:" + ctx.path() + (item == null ? "" : "#" + item.index());
  }

  /**
   * Whether an {@code Authorization} header carries {@code Bearer <token>} (compared in constant
   * time); always true when {@code token} is null.
   */
  static boolean bearerMatches(String token, String authorization) {
    if (token == null) {
      return true;
    }
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return false;
    }
    return MessageDigest.isEqual(authorization.substring(7).trim().getBytes(UTF_8),
        token.getBytes(UTF_8));
  }

  private static void unauthorized(Context ctx, String message) {
    ctx.header("WWW-Authenticate", "Bearer realm=\"flywheel-ingest\"");
    error(ctx, 401, message);
  }

  private void tooLarge(Context ctx, String size) {
    error(ctx, 413, "the body is " + size + "; the limit is " + maxBodyBytes
        + " bytes (ingest.maxBodyBytes): split the batch");
  }

  private static String mediaType(String contentType) {
    if (contentType == null || contentType.isBlank()) {
      return null;
    }
    int semicolon = contentType.indexOf(';');
    return (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).trim()
        .toLowerCase(Locale.ROOT);
  }

  private static String text(JsonNode node, String field) {
    JsonNode value = node.get(field);
    return value == null || !value.isTextual() ? null : value.textValue();
  }

  private static ObjectNode errorBody(String message) {
    ObjectNode out = JSON.createObjectNode();
    out.put("error", message);
    return out;
  }

  private static void error(Context ctx, int status, String message) {
    send(ctx, status, errorBody(message));
  }

  private static void send(Context ctx, int status, JsonNode body) {
    try {
      ctx.status(status).contentType(JSON_TYPE).result(JSON.writeValueAsBytes(body));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write a JSON answer", e);
    }
  }
}
