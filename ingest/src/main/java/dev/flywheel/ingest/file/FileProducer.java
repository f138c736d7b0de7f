package dev.flywheel.ingest.file;

import dev.flywheel.ingest.dlq.DeadLetter;
import dev.flywheel.ingest.dlq.DeadLetterWriter;
import dev.flywheel.ingest.json.Conversion;
import dev.flywheel.ingest.json.FieldError;
import dev.flywheel.ingest.json.JsonToAvro;
import dev.flywheel.ingest.metrics.IngestMetrics;
import dev.flywheel.ingest.source.LabelSource;
import dev.flywheel.ingest.source.SourceDefinition;
import dev.flywheel.topics.DeadLetterHeaders;
import dev.flywheel.topics.RecordSize;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.InvalidTimestampException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Produces the records of a JSON Lines ({@code .jsonl}, {@code .ndjson}) or CSV ({@code .csv}) file
 * to a source's data topic: what {@code flywheel produce <source> --file F} runs.
 *
 * <pre>{@code
 * FileProducer producer = FileProducer.builder()
 *     .bootstrapServers("127.0.0.1:9092")
 *     .topics(topics)                               // names the data and dead-letter topics
 *     .source(catalog.find("card-tx").orElseThrow()) // the source with its latest schema
 *     .build();
 * FileProducerSummary summary = producer.produce(Path.of("events.jsonl"));
 * }</pre>
 *
 * <p>With {@link Builder#labels()} instead of a source it produces {@link dev.flywheel.events.Label}
 * events ({@code event_id}, {@code event_time}, {@code value}, optional {@code target}, {@code
 * entity_id}, {@code labelled_event_time}, {@code source}) to {@code topics.labels()}, keyed by
 * {@code event_id}, with the same validation, dead letters (on {@code flywheel.labels.dlq}) and
 * summary; a label without {@code source} gets {@code source: "file"}:
 *
 * <pre>{@code
 * FileProducerSummary summary = FileProducer.builder()
 *     .bootstrapServers("127.0.0.1:9092")
 *     .topics(topics)
 *     .labels()
 *     .build()
 *     .produce(Path.of("labels.csv"));
 * }</pre>
 *
 * <p>Each record is converted with {@link JsonToAvro} against the source's schema. A valid one
 * goes to {@code topics.data(source)}, keyed by the source's key field, with its event time as the
 * record timestamp, in file order. An invalid one (unreadable, or not fitting the schema) goes to
 * {@code topics.dlq(topics.data(source))} with its original text as the value and the {@link
 * DeadLetterHeaders} error (every field and reason), source, origin ({@code file:line}), file,
 * line, processor and failed-at (through {@link DeadLetterWriter}), and is listed in the summary
 * with every reason.
 *
 * <p>Delivery: one idempotent producer with {@code acks=all} writes both topics, so a record is
 * written once and records of one key stay in file order (with one request in flight, the
 * default; a second producer, made only when needed, sends again the records the broker refused
 * for sharing a batch with a line of a refused event time, see {@link #refusable}); batching ({@code linger.ms}, {@code
 * batch.size}, lz4) is tuned for throughput and can be overridden with {@link
 * Builder#producerConfig}. {@link #produce} returns only when every record sent has been
 * acknowledged or has failed. A record the broker refuses for its event time (further ahead of
 * its clock than the topic's {@code message.timestamp.after.max.ms}, 1 hour by default) is an
 * invalid line like any other, dead-lettered with the reason; the records the broker refused
 * only for being in its batch are sent again at once, one at a time, before anything read after
 * them is sent to their partition, so records of one key stay in file order (with the default
 * one request in flight). If the broker refuses a record for good
 * otherwise, the run stops reading,
 * flushes what it sent and reports the failure in the summary. {@link #stop()} (Ctrl-C) does the
 * same without a failure. A run that is stopped or crashes leaves what was acknowledged on the
 * topic: run it again and those records are produced again (the file producer does not remember
 * where it was), which consumers that key by event id absorb.
 *
 * <p>A second thread reads, parses and converts the file a few batches ahead of the thread that
 * serializes and sends, which keeps file order. One run at a time per instance; {@link #stop()}
 * may be called from any thread.
 */
public final class FileProducer {

  /** How many records pass between two {@link ProgressListener} calls. */
  public static final int PROGRESS_INTERVAL_RECORDS = 4096;

  /** How many invalid records a summary lists unless {@link Builder#maxListedInvalid} says. */
  public static final int DEFAULT_MAX_LISTED_INVALID = 1000;

  /** The {@link DeadLetterHeaders#PROCESSOR} of the records it sends to a dead-letter topic. */
  public static final String PROCESSOR = "flywheel-produce";

  /** What the {@code source} field of a label read from a file is set to when it does not say. */
  public static final String FILE_LABEL_SOURCE = "file";

  private static final Logger log = LoggerFactory.getLogger(FileProducer.class);

  private final String bootstrapServers;
  private final Topics topics;
  private final SourceDefinition source;
  private final boolean labels;
  private final Map<String, Object> producerOverrides;
  private final ProgressListener progress;
  private final int maxListedInvalid;
  private final IngestMetrics metrics;
  private volatile boolean stopRequested;

  private FileProducer(Builder builder) {
    this.bootstrapServers = builder.bootstrapServers;
    this.topics = builder.topics;
    this.source = builder.labels ? LabelSource.DEFINITION : builder.source;
    this.labels = builder.labels;
    this.producerOverrides = Map.copyOf(builder.producerConfig);
    this.progress = builder.progress;
    this.maxListedInvalid = builder.maxListedInvalid;
    this.metrics = new IngestMetrics(builder.meterRegistry);
  }

  /** Starts a file producer; bootstrap servers, topics and a source (or labels) are required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The producer settings a run uses: idempotence, {@code acks=all} and batching tuned for
   * throughput, then the {@linkplain Builder#producerConfig overrides}.
   */
  public Map<String, Object> producerConfig() {
    Map<String, Object> config = new HashMap<>();
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    config.put(ProducerConfig.CLIENT_ID_CONFIG, "flywheel-produce-" + source.name());
    config.putAll(throughputDefaults());
    config.putAll(producerOverrides);
    return config;
  }

  /**
   * The settings of {@link #producerConfig()} that are not Kafka's defaults: an idempotent
   * producer with {@code acks=all} (each record written once, in order per partition), 20 ms of
   * linger and 256 KiB batches so that requests carry many records, lz4 compression, and one
   * request in flight: with several, a first batch to a partition the broker has not opened yet
   * can be refused for good (KAFKA-15591; docs/guarantees.md). Public so that the benchmark gives
   * Kafka's own producer the same settings.
   */
  public static Map<String, Object> throughputDefaults() {
    return Map.of(
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
        ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.LINGER_MS_CONFIG, 20,
        ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024,
        ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4",
        ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
  }

  /**
   * Asks a running {@link #produce} to stop reading, flush what it sent and return its summary
   * (with {@code stopped} set). Safe from any thread, such as a shutdown hook; a later run starts
   * afresh.
   */
  public void stop() {
    stopRequested = true;
  }

  /**
   * Produces every record of {@code file}, returning when all are acknowledged, the run was
   * {@linkplain #stop() stopped} or a send failed. The format follows the file name ({@link
   * FileFormat#of}).
   *
   * @throws IllegalArgumentException if the file's extension is not one the producer reads
   * @throws MalformedFileException if the file cannot be read in its format (a CSV file without
   *     a header)
   * @throws IOException if the file cannot be read
   * @throws org.apache.kafka.common.KafkaException if the producer cannot be created or a record
   *     cannot be serialized (the registry refuses the schema)
   */
  public FileProducerSummary produce(Path file) throws IOException {
    Objects.requireNonNull(file, "file");
    FileFormat format = FileFormat.of(file);
    long fileBytes = Files.size(file);
    stopRequested = false;
    // a CSV row longer than a request could not be produced: the reader stops it there, so a
    // stray quote neither swallows the rest of the file nor fills the memory
    try (RecordReader reader = format.open(file, source.schema(),
        RecordSize.maxRequestSize(producerConfig()))) {
      return run(file, fileBytes, reader);
    }
  }

  /** The topic the records go to: the source's data topic, or the labels topic. */
  public String topic() {
    return labels ? topics.labels().name() : topics.data(source.name()).name();
  }

  @SuppressWarnings("unchecked")
  private FileProducerSummary run(Path file, long fileBytes, RecordReader reader)
      throws IOException {
    String topic = topic();
    Serializer<String> keySerializer;
    Serializer<GenericRecord> valueSerializer;
    if (labels) {
      keySerializer = topics.labels().keySerde().serializer();
      // the Label serializer writes generic records of the Label schema just as Label objects
      valueSerializer = (Serializer<GenericRecord>) (Serializer<?>)
          topics.labels().valueSerde().serializer();
    } else {
      Topic<String, GenericRecord> data = topics.data(source.name());
      keySerializer = data.keySerde().serializer();
      valueSerializer = data.valueSerde().serializer();
    }
    String fileName = file.toString();
    Counter acceptedMeter = metrics.accepted(source.name(), IngestMetrics.FILE);
    Counter rejectedMeter = metrics.rejected(source.name(), IngestMetrics.FILE);
    Counter deadLetterMeter = metrics.deadLettered(source.name(), IngestMetrics.FILE);

    long start = System.nanoTime();
    AtomicLong produced = new AtomicLong();
    AtomicLong deadLettered = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    AtomicLong lastAckNanos = new AtomicLong(start);
    AtomicReference<Exception> failure = new AtomicReference<>();
    Callback onData = (metadata, e) -> {
      if (e == null) {
        produced.incrementAndGet();
        acceptedMeter.increment();
        lastAckNanos.set(System.nanoTime());
      } else {
        failed.incrementAndGet();
        failure.compareAndSet(null, e);
      }
    };
    Callback onDeadLetter = (metadata, e) -> {
      if (e == null) {
        deadLettered.incrementAndGet();
        deadLetterMeter.increment();
        lastAckNanos.set(System.nanoTime());
      } else {
        failure.compareAndSet(null, e);
      }
    };

    // sends the broker refused for their timestamp: dead-lettered on this thread, not in the
    // producer's callback
    Queue<Refused> refusals = new ConcurrentLinkedQueue<>();

    long read = 0;
    long invalid = 0;
    List<InvalidLine> listed = new ArrayList<>();
    boolean stopped = false;
    long lastLine = 0;
    try (ReadAhead<Prepared> ahead = new ReadAhead<>(reader, this::prepare,
        "flywheel-produce-read-" + source.name());
        Resender resender = new Resender(resendConfig());
        Producer<byte[], byte[]> producer = new KafkaProducer<>(producerConfig(),
            new ByteArraySerializer(), new ByteArraySerializer())) {
      int maxRequestSize = RecordSize.maxRequestSize(producerConfig());
      Object inFlight = producerConfig().get(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION);
      if (inFlight != null && Integer.parseInt(String.valueOf(inFlight).trim()) > 1) {
        log.warn("produce {}: {}={}: records of one key may be written out of file order around a"
            + " line the broker refuses for its event time", fileName,
            ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, inFlight);
      }
      DeadLetterWriter deadLetters = new DeadLetterWriter(producer, topics, PROCESSOR,
          maxRequestSize);
      try {
        List<Prepared> batch;
        reading:
        while ((batch = ahead.next()) != null) {
          for (Prepared prepared : batch) {
            read++;
            SourceLine line = prepared.line();
            lastLine = line.lineNumber();
            if (prepared.errors().isEmpty()) {
              ProducerRecord<byte[], byte[]> record =
                  serialize(prepared, topic, keySerializer, valueSerializer);
              Optional<FieldError> tooLarge = tooLarge(record, maxRequestSize);
              if (tooLarge.isPresent()) {
                prepared = Prepared.invalid(line, List.of(tooLarge.get()));
              } else {
                producer.send(record, refusable(line, record, refusals, resender, onData));
              }
            }
            if (!prepared.errors().isEmpty()) {
              invalid++;
              rejectedMeter.increment();
              deadLetter(producer, deadLetters, topic, fileName, line, prepared.errors(), listed,
                  onDeadLetter);
            }
            invalid += handleRefusals(refusals, producer, deadLetters, topic, fileName, listed,
                onDeadLetter, rejectedMeter);
            if (read % PROGRESS_INTERVAL_RECORDS == 0) {
              progress.onProgress(new ProgressListener.Progress(reader.bytesRead(), fileBytes,
                  read, produced.get(), invalid, System.nanoTime() - start));
            }
            if (failure.get() != null) {
              break reading;
            }
            if (stopRequested || Thread.currentThread().isInterrupted()) {
              stopped = true;
              break reading;
            }
          }
        }
        // refusals may arrive until every send is acknowledged: dead-letter them
        flush(producer);
        while (!refusals.isEmpty()) {
          invalid += handleRefusals(refusals, producer, deadLetters, topic, fileName, listed,
              onDeadLetter, rejectedMeter);
          flush(producer);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        stopped = true;
      } finally {
        flush(producer);
      }
    }
    long elapsedNanos = lastAckNanos.get() - start;
    Exception sendFailure = failure.get();
    if (sendFailure != null) {
      log.error("producing {} to {} stopped: a record was refused", fileName, topic,
          sendFailure);
    }
    progress.onProgress(new ProgressListener.Progress(reader.bytesRead(), fileBytes, read,
        produced.get(), invalid, elapsedNanos));
    return new FileProducerSummary(file, source.name(), topic, read, produced.get(),
        invalid, listed, deadLettered.get(), failed.get(),
        sendFailure == null ? null : sendFailure.getClass().getSimpleName() + ": "
            + sendFailure.getMessage(),
        stopped, lastLine, Duration.ofNanos(Math.max(0, elapsedNanos)));
  }

  /**
   * Converts {@code line} to the source's schema and takes its key and event time; runs on the
   * read-ahead thread.
   */
  private Prepared prepare(SourceLine line) {
    if (!line.readable()) {
      return Prepared.invalid(line, List.of(new FieldError(FieldError.ROOT, line.error())));
    }
    Conversion conversion = JsonToAvro.convert(line.value(), source.schema());
    if (!conversion.valid()) {
      return Prepared.invalid(line, conversion.errors());
    }
    GenericRecord record = (GenericRecord) conversion.record();
    if (labels && record.get(LabelSource.SOURCE_FIELD) == null) {
      record.put(LabelSource.SOURCE_FIELD, FILE_LABEL_SOURCE);
    }
    try {
      return new Prepared(line, record, source.keyOf(record), source.timestampOf(record),
          List.of());
    } catch (IllegalArgumentException e) {
      String field = e.getMessage().contains("'" + source.keyField() + "'") ? source.keyField()
          : source.timeField();
      return Prepared.invalid(line, List.of(new FieldError(field, e.getMessage())));
    }
  }

  /**
   * A send of {@code line}'s record the broker refused for its timestamp (an event time further
   * ahead than the topic's {@code message.timestamp.after.max.ms}).
   */
  private record Refused(SourceLine line, ProducerRecord<byte[], byte[]> record,
      Exception cause) {}

  /**
   * The callback of {@code line}'s send: {@code onData}, except that a refusal for the record's
   * timestamp is queued on {@code refusals} for the sending thread, to dead-letter the line rather
   * than stop the run, and a record refused only for being in a batch with such a record is sent
   * again by {@code resender} before the callback returns.
   *
   * <p>Sending it again here, on the producer's I/O thread, is what keeps file order per key: with
   * one request in flight, the batches behind the refused one in its partition (which hold the
   * lines read after it) are sent only once this batch's callbacks have returned, so the records
   * sent again are written before them. Sent from the reading thread instead, they would land
   * after those lines.
   */
  private static Callback refusable(SourceLine line, ProducerRecord<byte[], byte[]> record,
      Queue<Refused> refusals, Resender resender, Callback onData) {
    return (metadata, e) -> {
      if (isTimestampRefusal(e)) {
        refusals.add(new Refused(line, record, e));
      } else if (e != null && e.getClass() == KafkaException.class
          && String.valueOf(e.getMessage()).contains(PART_OF_AN_INVALID_BATCH)) {
        int partition = metadata != null && metadata.partition() >= 0 ? metadata.partition()
            : record.partition() == null ? -1 : record.partition();
        resender.sendAgain(record, partition, refusable(line, record, refusals, resender, onData));
      } else {
        onData.onCompletion(metadata, e);
      }
    };
  }

  /** What the producer fails a record with that the broker refused only for its batch's sake. */
  private static final String PART_OF_AN_INVALID_BATCH = "part of a batch which had one";

  /**
   * Whether {@code e} is the broker refusing a record for its timestamp: InvalidTimestampException,
   * or InvalidRecordException with the timestamp reason when it refused several of one batch.
   */
  private static boolean isTimestampRefusal(Exception e) {
    return e instanceof InvalidTimestampException
        || (e instanceof InvalidRecordException && e.getMessage() != null
            && e.getMessage().startsWith("Timestamp ") && e.getMessage().contains("out of range"));
  }

  /**
   * Dead-letters the lines the broker refused for their timestamp; returns how many lines were
   * dead-lettered.
   */
  private int handleRefusals(Queue<Refused> refusals, Producer<byte[], byte[]> producer,
      DeadLetterWriter deadLetters, String topic, String fileName, List<InvalidLine> listed,
      Callback onDeadLetter, Counter rejectedMeter) {
    int deadLettered = 0;
    for (Refused refused = refusals.poll(); refused != null; refused = refusals.poll()) {
      deadLettered++;
      rejectedMeter.increment();
      String field = labels || source.timeField() == null ? FieldError.ROOT : source.timeField();
      deadLetter(producer, deadLetters, topic, fileName, refused.line(), List.of(new FieldError(
          field, "Kafka refused the event time " + Instant.ofEpochMilli(refused.record()
              .timestamp()) + " for topic " + topic + ": an event time may be at most the"
              + " topic's message.timestamp.after.max.ms ahead of the broker's clock (1 hour by"
              + " default) and message.timestamp.before.max.ms behind it; correct the event time,"
              + " or raise those settings of topic " + topic + " ("
              + refused.cause().getClass().getSimpleName() + ": " + refused.cause().getMessage()
              + ")")), listed, onDeadLetter);
    }
    return deadLettered;
  }

  /** Sends {@code line} to the dead-letter topic for {@code errors}, and lists it. */
  private void deadLetter(Producer<byte[], byte[]> producer, DeadLetterWriter deadLetters,
      String topic, String fileName, SourceLine line, List<FieldError> errors,
      List<InvalidLine> listed, Callback onDeadLetter) {
    InvalidLine bad = new InvalidLine(line.lineNumber(), errors);
    if (listed.size() < maxListedInvalid) {
      listed.add(bad);
    }
    producer.send(deadLetters.toRecord(DeadLetter.of(topic, Utf8Input.bytes(line.text()))
        .error(bad.describeErrors())
        .source(labels ? null : source.name())
        .origin(DeadLetterHeaders.origin(fileName, line.lineNumber()))
        .header(DeadLetterHeaders.FILE, fileName)
        .header(DeadLetterHeaders.LINE, Long.toString(line.lineNumber()))
        .build()), onDeadLetter);
  }

  /** The Kafka record of a valid {@code prepared} line for {@code topic}, serialized. */
  private static ProducerRecord<byte[], byte[]> serialize(Prepared prepared, String topic,
      Serializer<String> keySerializer, Serializer<GenericRecord> valueSerializer) {
    RecordHeaders headers = new RecordHeaders();
    byte[] keyBytes = keySerializer.serialize(topic, headers, prepared.key());
    byte[] valueBytes = valueSerializer.serialize(topic, headers, prepared.record());
    return new ProducerRecord<>(topic, null, prepared.timestamp(), keyBytes, valueBytes, headers);
  }

  /**
   * Why the producer would refuse {@code record} as too large, if it would: an invalid line like
   * any other (dead-lettered, cut to fit, and counted), not a send failure that stops the run.
   */
  private static Optional<FieldError> tooLarge(ProducerRecord<byte[], byte[]> record,
      int maxRequestSize) {
    int size = RecordSize.upperBound(record.key(), record.value(), record.headers().toArray());
    if (size <= maxRequestSize) {
      return Optional.empty();
    }
    return Optional.of(new FieldError(FieldError.ROOT, "the record is " + size + " bytes as a"
        + " Kafka record, over the " + maxRequestSize + " bytes the producer accepts"
        + " (max.request.size): split it into smaller records, or raise max.request.size"
        + " (and max.message.bytes of topic " + record.topic() + ")"));
  }

  /**
   * The settings of the producer that sends again the records refused only for their batch's
   * sake: those of the run's producer, without linger, since each is sent on its own.
   */
  private Map<String, Object> resendConfig() {
    Map<String, Object> config = producerConfig();
    config.put(ProducerConfig.CLIENT_ID_CONFIG,
        config.getOrDefault(ProducerConfig.CLIENT_ID_CONFIG, "flywheel-produce") + "-again");
    config.put(ProducerConfig.LINGER_MS_CONFIG, 0);
    return config;
  }

  /**
   * Sends records again, one at a time and each to its partition, waiting for the broker's answer
   * to each before returning; called from the run producer's callback (see {@link #refusable}), so
   * that producer sends nothing more of that partition meanwhile. Its producer is created on the
   * first record, so a run without refusals opens no second connection.
   */
  static final class Resender implements AutoCloseable {

    private final Map<String, Object> config;
    private Producer<byte[], byte[]> producer;
    private boolean closed;

    Resender(Map<String, Object> config) {
      this.config = config;
    }

    /**
     * Sends {@code record} again to {@code partition} (or where the partitioner puts it, when
     * negative) and waits until {@code callback} has had the answer.
     */
    void sendAgain(ProducerRecord<byte[], byte[]> record, int partition, Callback answer) {
      // the first completion counts: a send given up after the wait below may still be answered
      java.util.concurrent.atomic.AtomicBoolean completed =
          new java.util.concurrent.atomic.AtomicBoolean();
      Callback callback = (metadata, e) -> {
        if (completed.compareAndSet(false, true)) {
          answer.onCompletion(metadata, e);
        }
      };
      ProducerRecord<byte[], byte[]> again = new ProducerRecord<>(record.topic(),
          partition < 0 ? null : partition, record.timestamp(), record.key(), record.value(),
          record.headers());
      try {
        java.util.concurrent.Future<?> sent = producer().send(again, callback);
        if (Thread.currentThread().getName().endsWith(clientId())) {
          // called back by this producer's own network thread (a record it sent again refused
          // for its batch's sake, which one record alone cannot be): waiting would wait for
          // itself; its callback follows as it does for any send
          return;
        }
        // the producer's own deadline for the answer, plus a margin: never wait for ever
        sent.get(deliveryTimeoutMs() + 5_000L, java.util.concurrent.TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.ExecutionException e) {
        // the callback had the failure
      } catch (java.util.concurrent.TimeoutException e) {
        callback.onCompletion(null, new org.apache.kafka.common.errors.TimeoutException(
            "no answer to a record sent again within " + deliveryTimeoutMs() + " ms"));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        callback.onCompletion(null, new InterruptException(e));
      } catch (KafkaException e) {
        callback.onCompletion(null, e);
      }
    }

    private String clientId() {
      return String.valueOf(config.get(ProducerConfig.CLIENT_ID_CONFIG));
    }

    private long deliveryTimeoutMs() {
      Object value = config.get(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG);
      return value == null ? 120_000L : Long.parseLong(String.valueOf(value).trim());
    }

    private synchronized Producer<byte[], byte[]> producer() {
      if (closed) {
        throw new KafkaException("the run is over: its records are not sent again");
      }
      if (producer == null) {
        producer = new KafkaProducer<>(config, new ByteArraySerializer(),
            new ByteArraySerializer());
      }
      return producer;
    }

    @Override
    public synchronized void close() {
      closed = true;
      if (producer != null) {
        producer.close();
      }
    }
  }

  /**
   * A line made ready to send: the record with its key and event time, or why it is invalid.
   *
   * @param errors empty exactly when {@code record} is set
   */
  private record Prepared(SourceLine line, GenericRecord record, String key, long timestamp,
      List<FieldError> errors) {

    static Prepared invalid(SourceLine line, List<FieldError> errors) {
      return new Prepared(line, null, null, -1, errors);
    }
  }

  /** Flushes even when the reading thread was interrupted (Ctrl-C), then restores the flag. */
  private static void flush(Producer<?, ?> producer) {
    boolean interrupted = Thread.interrupted();
    try {
      producer.flush();
    } catch (InterruptException e) {
      interrupted = true;
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Reads, parses and converts the file on its own thread, in batches of {@link #BATCH_RECORDS},
   * a few batches ahead, so that this work on the next lines overlaps serializing and sending the
   * current ones. The consumer sees every line in file order.
   */
  static final class ReadAhead<T> implements AutoCloseable {

    private static final int BATCH_RECORDS = 512;
    private static final int BATCHES_AHEAD = 16;
    private static final long JOIN_TIMEOUT_MS = 10_000;

    /** Handed over last, whether the file was read to its end or reading failed. */
    private final List<T> end = List.of();
    private final BlockingQueue<List<T>> queue = new ArrayBlockingQueue<>(BATCHES_AHEAD);
    private final Thread thread;
    private volatile boolean closed;
    private volatile Throwable failure;

    ReadAhead(RecordReader reader, Function<SourceLine, T> prepare, String threadName) {
      thread = new Thread(() -> readAll(reader, prepare), threadName);
      thread.setDaemon(true);
      thread.start();
    }

    private void readAll(RecordReader reader, Function<SourceLine, T> prepare) {
      try {
        List<T> batch = new ArrayList<>(BATCH_RECORDS);
        SourceLine line;
        while (!closed && (line = reader.next()) != null) {
          batch.add(prepare.apply(line));
          if (batch.size() == BATCH_RECORDS) {
            hand(batch);
            batch = new ArrayList<>(BATCH_RECORDS);
          }
        }
        if (!batch.isEmpty()) {
          hand(batch);
        }
      } catch (Throwable e) {
        // any failure, an OutOfMemoryError too (the batch is garbage by now): the consumer waits
        // for the end, so it must always get it, and then the failure
        failure = e;
      }
      try {
        hand(end);
      } catch (InterruptedException e) {
        // closed while handing over the end: nobody is waiting for it
      }
    }

    /** Queues {@code batch}, waiting for room unless the consumer has closed. */
    private void hand(List<T> batch) throws InterruptedException {
      while (!closed) {
        if (queue.offer(batch, 100, TimeUnit.MILLISECONDS)) {
          return;
        }
      }
    }

    /**
     * The next batch in file order, or null at the end of the file.
     *
     * @throws IOException as the reader threw it, or wrapping an interruption of the reading
     * @throws RuntimeException as reading or preparing a line threw it
     * @throws Error as reading or preparing a line threw it (an OutOfMemoryError)
     * @throws InterruptedException if the calling thread is interrupted while waiting
     */
    List<T> next() throws IOException, InterruptedException {
      List<T> batch = queue.take();
      if (batch != end) {
        return batch;
      }
      queue.put(end); // stay at the end for further calls
      Throwable e = failure;
      if (e instanceof IOException io) {
        throw io;
      }
      if (e instanceof RuntimeException runtime) {
        throw runtime;
      }
      if (e instanceof Error error) {
        throw error;
      }
      if (e != null) {
        throw new IOException("reading the file stopped: " + e, e);
      }
      return null;
    }

    /** Stops reading ahead and waits for the reading thread, so the reader can be closed. */
    @Override
    public void close() {
      closed = true;
      queue.clear();
      try {
        thread.join(JOIN_TIMEOUT_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Builds a {@link FileProducer}; {@link #build()} says what is required. */
  public static final class Builder {

    private String bootstrapServers;
    private Topics topics;
    private SourceDefinition source;
    private boolean labels;
    private final Map<String, Object> producerConfig = new HashMap<>();
    private ProgressListener progress = ProgressListener.NONE;
    private int maxListedInvalid = DEFAULT_MAX_LISTED_INVALID;
    private MeterRegistry meterRegistry = Metrics.globalRegistry;

    private Builder() {}

    /**
     * Where the file producer's meters go: {@value IngestMetrics#ACCEPTED}, {@value
     * IngestMetrics#REJECTED} and {@value IngestMetrics#DLQ_WRITES} with {@code path=file} and
     * the source (or {@code labels}); default {@link Metrics#globalRegistry}.
     */
    public Builder meterRegistry(MeterRegistry meterRegistry) {
      this.meterRegistry = Objects.requireNonNull(meterRegistry, "meterRegistry");
      return this;
    }

    /** The Kafka bootstrap servers, e.g. {@code 127.0.0.1:9092}; required. */
    public Builder bootstrapServers(String bootstrapServers) {
      this.bootstrapServers = bootstrapServers;
      return this;
    }

    /**
     * The topic catalogue that names the data and dead-letter topics and serializes values (its
     * serde factory's registry must hold the source's schema); required.
     */
    public Builder topics(Topics topics) {
      this.topics = topics;
      return this;
    }

    /** The source, with the schema records are converted to (its latest); required. */
    public Builder source(SourceDefinition source) {
      this.source = source;
      return this;
    }

    /**
     * Produce {@link dev.flywheel.events.Label} events to {@code topics.labels()} instead of a
     * source's records: {@code flywheel produce labels --file labels.csv}. Replaces {@link
     * #source}.
     */
    public Builder labels() {
      this.labels = true;
      return this;
    }

    /**
     * Producer settings laid over {@link FileProducer#throughputDefaults()}, such as security
     * settings or another {@code linger.ms}. Serializers are the file producer's own.
     */
    public Builder producerConfig(Map<String, ?> overrides) {
      producerConfig.putAll(Objects.requireNonNull(overrides, "overrides"));
      producerConfig.remove(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG);
      producerConfig.remove(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG);
      return this;
    }

    /** Told of progress while a file is produced; default: nobody. */
    public Builder progress(ProgressListener progress) {
      this.progress = Objects.requireNonNull(progress, "progress");
      return this;
    }

    /**
     * How many invalid records a summary lists with their reasons (default {@value
     * FileProducer#DEFAULT_MAX_LISTED_INVALID}); all of them go to the dead-letter topic anyway.
     *
     * @throws IllegalArgumentException if negative
     */
    public Builder maxListedInvalid(int maxListedInvalid) {
      if (maxListedInvalid < 0) {
        throw new IllegalArgumentException(
            "maxListedInvalid cannot be negative, got " + maxListedInvalid);
      }
      this.maxListedInvalid = maxListedInvalid;
      return this;
    }

    /**
     * Creates the file producer; nothing connects until {@link FileProducer#produce}.
     *
     * @throws IllegalStateException naming what is missing
     */
    public FileProducer build() {
      List<String> missing = new ArrayList<>();
      if (bootstrapServers == null || bootstrapServers.isBlank()) {
        missing.add("bootstrapServers");
      }
      if (topics == null) {
        missing.add("topics");
      }
      if (source == null && !labels) {
        missing.add("source (or labels())");
      }
      if (!missing.isEmpty()) {
        throw new IllegalStateException("a FileProducer needs " + String.join(", ", missing));
      }
      return new FileProducer(this);
    }
  }
}
