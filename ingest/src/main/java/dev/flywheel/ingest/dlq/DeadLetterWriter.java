package dev.flywheel.ingest.dlq;

import dev.flywheel.topics.DeadLetterHeaders;
import dev.flywheel.topics.RecordSize;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Writes rejected records to dead-letter topics: a {@link DeadLetter} for topic {@code T} goes to
 * {@code topics.dlq(T)} ({@code T.dlq}) with its original key and value bytes and the headers of
 * {@link DeadLetterHeaders}: always {@code flywheel.error}, {@code flywheel.origin}, {@code
 * flywheel.failed.at}, {@code flywheel.processor}; {@code flywheel.error.class} and {@code
 * flywheel.source} when known; and the letter's extra headers.
 *
 * <pre>{@code
 * try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props,
 *         new ByteArraySerializer(), new ByteArraySerializer())) {
 *   DeadLetterWriter dlq = new DeadLetterWriter(producer, topics, "flywheel-produce");
 *   dlq.write(letter).get();       // or keep the future and flush the producer later
 * }
 * }</pre>
 *
 * <p>A dead letter larger than the producer's {@code max.request.size} (given to the constructor;
 * Kafka's default 1 MiB otherwise) would be refused by the producer, so its value is cut to fit:
 * the record then carries {@value DeadLetterHeaders#VALUE_TRUNCATED} {@code = true} and
 * {@value DeadLetterHeaders#VALUE_SIZE}, the original value's size in bytes; when even an empty
 * value leaves it too large, the key is cut too ({@value DeadLetterHeaders#KEY_TRUNCATED}, {@value
 * DeadLetterHeaders#KEY_SIZE}), and {@value DeadLetterHeaders#ERROR} is kept to its first 16 KiB
 * ({@link DeadLetterHeaders#fit}). The other headers are kept whole.
 *
 * <p>The producer belongs to the caller, who flushes and closes it; an idempotent producer with
 * {@code acks=all} keeps a dead letter as safely as any record. The dead-letter topic must exist
 * ({@code SourceCatalog.add} creates the one of each source's data topic). Thread-safe when the
 * producer is.
 */
public final class DeadLetterWriter {

  private final Producer<byte[], byte[]> producer;
  private final Topics topics;
  private final String processor;
  private final Clock clock;
  private final int maxRequestSize;

  /**
   * @param producer the producer to write with; the caller owns it
   * @param topics the catalogue naming the dead-letter topics
   * @param processor who rejects records, for {@link DeadLetterHeaders#PROCESSOR}, e.g. {@code
   *     flywheel-ingest-http}
   */
  public DeadLetterWriter(Producer<byte[], byte[]> producer, Topics topics, String processor) {
    this(producer, topics, processor, Clock.systemUTC());
  }

  /** As the three-argument constructor, with the clock that stamps {@code flywheel.failed.at}. */
  public DeadLetterWriter(Producer<byte[], byte[]> producer, Topics topics, String processor,
      Clock clock) {
    this(producer, topics, processor, clock, RecordSize.maxRequestSize(Map.of()));
  }

  /**
   * As the three-argument constructor, for a producer whose {@code max.request.size} is {@code
   * maxRequestSize} (see {@link RecordSize#maxRequestSize}): larger dead letters are truncated.
   */
  public DeadLetterWriter(Producer<byte[], byte[]> producer, Topics topics, String processor,
      int maxRequestSize) {
    this(producer, topics, processor, Clock.systemUTC(), maxRequestSize);
  }

  /** As the four-argument constructors, with both the clock and the size limit. */
  public DeadLetterWriter(Producer<byte[], byte[]> producer, Topics topics, String processor,
      Clock clock, int maxRequestSize) {
    this.producer = Objects.requireNonNull(producer, "producer");
    this.topics = Objects.requireNonNull(topics, "topics");
    this.processor = Objects.requireNonNull(processor, "processor");
    this.clock = Objects.requireNonNull(clock, "clock");
    if (maxRequestSize <= 0) {
      throw new IllegalArgumentException("maxRequestSize must be positive, got " + maxRequestSize);
    }
    this.maxRequestSize = maxRequestSize;
  }

  /**
   * Sends {@code letter} to the dead-letter topic of its topic.
   *
   * @return the send's future, as {@link Producer#send} returns it
   * @throws IllegalArgumentException when the letter's topic is itself a dead-letter topic
   */
  public Future<RecordMetadata> write(DeadLetter letter) {
    ProducerRecord<byte[], byte[]> record = toRecord(letter);
    CompletableFuture<RecordMetadata> written = new CompletableFuture<>();
    producer.send(record, (meta, error) -> {
      if (error == null) {
        written.complete(meta);
      } else if (error instanceof RecordTooLargeException && record.value() != null
          && record.value().length > 0) {
        // the dead-letter topic takes less than the producer's max.request.size (its
        // max.message.bytes is lower): the letter is kept without its value, so that a refused
        // record is never lost for want of room to say why
        producer.send(withoutValue(record), (again, failed) -> {
          if (failed == null) {
            written.complete(again);
          } else {
            written.completeExceptionally(failed);
          }
        });
      } else {
        written.completeExceptionally(error);
      }
    });
    return written;
  }

  /** The record with an empty value, marked truncated, with its original value's size. */
  private static ProducerRecord<byte[], byte[]> withoutValue(ProducerRecord<byte[], byte[]> r) {
    RecordHeaders headers = new RecordHeaders(r.headers().toArray());
    if (headers.lastHeader(DeadLetterHeaders.VALUE_TRUNCATED) == null) {
      add(headers, DeadLetterHeaders.VALUE_TRUNCATED, "true");
      add(headers, DeadLetterHeaders.VALUE_SIZE, Integer.toString(r.value().length));
    }
    return new ProducerRecord<>(r.topic(), null, null, r.key(), new byte[0], headers);
  }

  /**
   * The record {@link #write} sends.
   *
   * @throws IllegalArgumentException when the letter's topic is itself a dead-letter topic
   */
  public ProducerRecord<byte[], byte[]> toRecord(DeadLetter letter) {
    Topic<byte[], byte[]> dlq = topics.dlq(letter.topic());
    RecordHeaders headers = new RecordHeaders();
    add(headers, DeadLetterHeaders.ERROR, letter.error());
    if (letter.errorClass() != null) {
      add(headers, DeadLetterHeaders.ERROR_CLASS, letter.errorClass());
    }
    if (letter.source() != null) {
      add(headers, DeadLetterHeaders.SOURCE, letter.source());
    }
    add(headers, DeadLetterHeaders.ORIGIN, letter.origin());
    add(headers, DeadLetterHeaders.PROCESSOR, processor);
    add(headers, DeadLetterHeaders.FAILED_AT, Long.toString(clock.millis()));
    for (Map.Entry<String, String> extra : letter.extraHeaders().entrySet()) {
      headers.remove(extra.getKey());
      add(headers, extra.getKey(), extra.getValue());
    }
    DeadLetterHeaders.Fitted fitted =
        DeadLetterHeaders.fit(letter.key(), letter.value(), headers, maxRequestSize);
    return new ProducerRecord<>(dlq.name(), null, null, fitted.key(), fitted.value(), headers);
  }

  private static void add(RecordHeaders headers, String name, String value) {
    headers.add(name, value.getBytes(StandardCharsets.UTF_8));
  }
}
