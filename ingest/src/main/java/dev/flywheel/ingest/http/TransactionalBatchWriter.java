package dev.flywheel.ingest.http;

import dev.flywheel.errors.Causes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.InvalidTimestampException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes each HTTP batch as one Kafka transaction, so a batch is all or nothing: when a record of
 * it fails (the broker refuses it, a topic is gone, Kafka does not answer in time) the transaction
 * is aborted, and {@code read_committed} consumers — every Flywheel processor — never see any of
 * the batch.
 *
 * <p>A fixed pool of transactional producers ({@code transactional.id = <prefix>-<slot>}, each
 * idempotent with {@code acks=all}) lets that many batches be written at once; a request waits
 * for a free producer. A producer whose transaction could not be aborted cleanly (or that was
 * fenced) is closed and replaced by a new one with the same {@code transactional.id}, whose {@code
 * initTransactions} aborts whatever the old one left open. What the {@code instrument} function
 * attaches to a producer (its metrics) is attached once its transactions are initialized, and
 * closed with it, so a producer replaced again and again while the broker is away leaves nothing
 * behind. Thread-safe.
 *
 * <p>What a failed batch reports ({@link BatchFailedException#aborted()}):
 *
 * <ul>
 *   <li>a send failed before the commit, or a record of the batch failed: the producer asks the
 *       broker to commit only once every record is acknowledged, so it never asked, and the
 *       transaction cannot commit. It is aborted, by this producer or, when the broker cannot be
 *       reached, by the replacement producer's {@code initTransactions} (or the coordinator's
 *       transaction timeout). Aborted, even though the abort itself may have failed;
 *   <li>the commit timed out: it may still complete, so it is called again (the producer keeps
 *       the same commit pending) until it completes or fails, for up to the timeout once more;
 *   <li>the commit failed otherwise with every record acknowledged (interrupted, the producer
 *       closed, fenced), or is still pending after that: the commit may have been asked for.
 *       Aborted only if the abort completes; otherwise the outcome is unknown.
 * </ul>
 *
 * <p>An aborted batch whose sends failed as too large says which ({@link
 * BatchFailedException#tooLarge()}), and so does one whose sends the broker refused for their
 * timestamps ({@link BatchFailedException#badTimestamp()}, an event time further ahead than the
 * topic's {@code message.timestamp.after.max.ms}): sending it again cannot succeed. Once {@link #close()} is
 * called, no producer is created any more: a batch still waiting for one fails as {@link
 * BatchFailedException#shuttingDown()}.
 */
public final class TransactionalBatchWriter implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(TransactionalBatchWriter.class);

  private final Function<String, Producer<String, GenericRecord>> factory;
  private final Function<? super Producer<String, GenericRecord>, ? extends AutoCloseable>
      instrument;
  private final BlockingQueue<Slot> free;
  private final List<Slot> slots = new ArrayList<>();
  private final Duration timeout;
  private volatile boolean closed;

  /** How long a failed batch waits for the outcome of its sends when one was too large. */
  private static final Duration TOO_LARGE_WAIT = Duration.ofSeconds(5);

  /** Why a batch fails once {@link #close()} was called. */
  static final String SHUTTING_DOWN = "ingest is shutting down";

  /**
   * Creates the pool and initializes every producer's transactions, attaching nothing to them.
   *
   * @see #TransactionalBatchWriter(Function, Function, String, int, Duration)
   */
  public TransactionalBatchWriter(Function<String, Producer<String, GenericRecord>> factory,
      String transactionalIdPrefix, int size, Duration timeout) {
    this(factory, producer -> () -> { }, transactionalIdPrefix, size, timeout);
  }

  /**
   * Creates the pool and initializes every producer's transactions.
   *
   * @param factory creates a producer with the given {@code transactional.id}
   * @param instrument called with each producer once its transactions are initialized (such as
   *     to bind its metrics); what it returns is closed when that producer is closed, whether
   *     replaced or by {@link #close()}. A producer whose {@code initTransactions} fails is closed
   *     without being passed to it
   * @param transactionalIdPrefix the prefix of the {@code transactional.id}s
   * @param size how many producers, so how many batches at once
   * @param timeout how long a batch may wait for a free producer, and for its commit
   * @throws org.apache.kafka.common.KafkaException when a producer cannot initialize its
   *     transactions (Kafka unreachable, or the principal lacks the transactional-id ACL)
   */
  public TransactionalBatchWriter(Function<String, Producer<String, GenericRecord>> factory,
      Function<? super Producer<String, GenericRecord>, ? extends AutoCloseable> instrument,
      String transactionalIdPrefix, int size, Duration timeout) {
    this.factory = Objects.requireNonNull(factory, "factory");
    this.instrument = Objects.requireNonNull(instrument, "instrument");
    Objects.requireNonNull(transactionalIdPrefix, "transactionalIdPrefix");
    if (size < 1) {
      throw new IllegalArgumentException("size must be positive, got " + size);
    }
    this.timeout = Objects.requireNonNull(timeout, "timeout");
    this.free = new ArrayBlockingQueue<>(size);
    try {
      for (int i = 0; i < size; i++) {
        Slot slot = new Slot(transactionalIdPrefix + "-" + i);
        slot.producer();
        slots.add(slot);
        free.add(slot);
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /**
   * Writes {@code records} in one transaction and returns their metadata in order once it is
   * committed.
   *
   * @throws BatchFailedException when the batch could not be written; {@link
   *     BatchFailedException#aborted()} says whether it is certain that none of it is visible
   * @throws InterruptedException when interrupted while waiting for a free producer
   */
  public List<RecordMetadata> write(List<ProducerRecord<String, GenericRecord>> records)
      throws BatchFailedException, InterruptedException {
    if (closed) {
      throw shuttingDown();
    }
    Slot slot = free.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
    if (slot == null) {
      throw new BatchFailedException("all " + slots.size() + " producers stayed busy for "
          + timeout.toSeconds() + " s (raise ingest.producers, or retry)", true, null);
    }
    try {
      return write(slot, records);
    } finally {
      free.add(slot);
    }
  }

  private List<RecordMetadata> write(Slot slot, List<ProducerRecord<String, GenericRecord>> records)
      throws BatchFailedException {
    Producer<String, GenericRecord> producer;
    try {
      producer = slot.producer();
    } catch (RuntimeException e) {
      if (closed) {
        // the pool closed while this batch waited for a producer: none is created any more
        throw shuttingDown();
      }
      throw new BatchFailedException("cannot start a Kafka producer: " + e.getMessage(), true, e);
    }
    boolean committing = false;
    List<Future<RecordMetadata>> sent = new ArrayList<>(records.size());
    try {
      producer.beginTransaction();
      for (ProducerRecord<String, GenericRecord> record : records) {
        Future<RecordMetadata> future = producer.send(record);
        sent.add(future);
        if (future.isDone()) {
          // refused at once (e.g. no metadata within max.block.ms while the broker is away): fail
          // the batch now rather than wait as long again for each record left
          future.get();
        }
      }
      committing = true;
      commit(slot, producer);
      List<RecordMetadata> written = new ArrayList<>(sent.size());
      for (Future<RecordMetadata> future : sent) {
        written.add(future.get()); // complete: the commit flushed every send
      }
      return written;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      slot.discard();
      throw new BatchFailedException("interrupted while writing", false, e);
    } catch (ExecutionException | RuntimeException e) {
      Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
      if (committing && cause instanceof TimeoutException) {
        // still pending after the commit was called again: it may yet complete on the broker
        slot.discard();
        throw new BatchFailedException(describe(cause), false, cause);
      }
      boolean neverAskedToCommit = !committing || anyFailed(sent);
      boolean aborted = abort(slot, producer) || neverAskedToCommit;
      throw new BatchFailedException(describe(cause), aborted, cause, false,
          aborted ? refusedAsTooLarge(sent, cause) : List.of(),
          aborted ? refusedForTimestamp(sent, cause) : List.of());
    }
  }

  /**
   * The records of a failed batch whose sends failed with {@code RecordTooLargeException} (of the
   * broker, over the topic's {@code max.message.bytes}, or of the producer, over its {@code
   * max.request.size}), and those the producer failed with that same error after the broker
   * refused one (see {@link BatchFailedException#tooLarge()}). When the batch failed for that
   * reason but no such send is complete yet (a send completes just after the producer enters its
   * error state), waits for the sends a short while.
   */
  private List<RefusedRecord> refusedAsTooLarge(List<Future<RecordMetadata>> sent,
      Throwable cause) {
    return refused(sent, Causes.anyOf(cause, RecordTooLargeException.class),
        e -> e instanceof RecordTooLargeException,
        (index, e) -> new RefusedRecord(index, (RecordTooLargeException) e));
  }

  /**
   * The records of a failed batch whose sends the broker refused for their timestamp: failed with
   * {@code InvalidTimestampException}, or, when the broker refused several records of one
   * partition's batch, with {@code InvalidRecordException} giving the timestamp reason (the
   * producer fails the other records of that partition's batch with a plain KafkaException, and
   * they are not listed). Waits for the sends a short while as {@link #refusedAsTooLarge} does.
   */
  private List<RefusedTimestamp> refusedForTimestamp(List<Future<RecordMetadata>> sent,
      Throwable cause) {
    return refused(sent, Causes.anyOf(cause, InvalidTimestampException.class)
            || isTimestampRefusal(cause), TransactionalBatchWriter::isTimestampRefusal,
        (index, e) -> new RefusedTimestamp(index, (KafkaException) e));
  }

  /**
   * The sends of {@code sent} that failed with an error {@code isRefusal} accepts, as {@code
   * refusal} makes them. When the batch failed for that reason ({@code because}) but no such send
   * is complete yet (a send completes just after the producer enters its error state), waits for
   * the sends a short while.
   */
  private <R> List<R> refused(List<Future<RecordMetadata>> sent, boolean because,
      Predicate<Throwable> isRefusal, BiFunction<Integer, Throwable, R> refusal) {
    long deadline = System.nanoTime() + Math.min(timeout.toNanos(), TOO_LARGE_WAIT.toNanos());
    List<R> refused = new ArrayList<>();
    for (int i = 0; i < sent.size(); i++) {
      Future<RecordMetadata> future = sent.get(i);
      try {
        if (future.isDone()) {
          future.get();
        } else if (because && refused.isEmpty()) {
          future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
      } catch (ExecutionException e) {
        if (isRefusal.test(e.getCause())) {
          refused.add(refusal.apply(i, e.getCause()));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } catch (CancellationException | java.util.concurrent.TimeoutException e) {
        // not complete: not known to be refused
      }
    }
    return List.copyOf(refused);
  }

  /** Whether {@code e} is the broker refusing a record for its timestamp. */
  private static boolean isTimestampRefusal(Throwable e) {
    return e instanceof InvalidTimestampException
        || (e instanceof InvalidRecordException && e.getMessage() != null
            && e.getMessage().startsWith("Timestamp ") && e.getMessage().contains("out of range"));
  }

  /**
   * A record of a batch whose send the broker refused for its timestamp: its index in the batch,
   * and the error, whose message gives the timestamp and the range the broker accepts.
   */
  public record RefusedTimestamp(int index, KafkaException cause) {}

  /** A record of a batch whose send failed as too large: its index in the batch, and the error. */
  public record RefusedRecord(int index, RecordTooLargeException cause) {}

  /** Whether a send of the batch has already failed. */
  private static boolean anyFailed(List<Future<RecordMetadata>> sent) {
    for (Future<RecordMetadata> future : sent) {
      if (future.isDone()) {
        try {
          future.get();
        } catch (ExecutionException | CancellationException e) {
          return true;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
    return false;
  }

  /**
   * Commits; a commit that times out is called again, for up to {@link #timeout} more, since the
   * producer keeps it pending and refuses anything else until it is.
   */
  private void commit(Slot slot, Producer<String, GenericRecord> producer) {
    long deadline = 0;
    while (true) {
      try {
        producer.commitTransaction();
        return;
      } catch (TimeoutException e) {
        long now = System.nanoTime();
        if (deadline == 0) {
          deadline = now + timeout.toNanos();
          log.info("producer {}: the commit timed out ({}); calling it again for up to {} s",
              slot.id, e.getMessage(), timeout.toSeconds());
        } else if (now - deadline >= 0) {
          throw e;
        }
      }
    }
  }

  /** Aborts the open transaction; replaces the producer when that fails. */
  private boolean abort(Slot slot, Producer<String, GenericRecord> producer) {
    try {
      producer.abortTransaction();
      return true;
    } catch (RuntimeException e) {
      // fenced, fatal or timed out: a new producer with the same transactional.id aborts what
      // this one left open when it initializes
      log.warn("producer {} could not abort its transaction ({}); replacing it", slot.id,
          e.toString());
      slot.discard();
      return false;
    }
  }

  private static String describe(Throwable cause) {
    return cause.getClass().getSimpleName() + ": " + cause.getMessage();
  }

  private static BatchFailedException shuttingDown() {
    return new BatchFailedException(SHUTTING_DOWN, true, null, true);
  }

  /**
   * Closes every producer; batches being written fail, and batches still waiting for a producer
   * fail without one being created ({@link BatchFailedException#shuttingDown()}). Idempotent.
   */
  @Override
  public void close() {
    // before any slot is discarded: a slot discarded now creates no producer again
    closed = true;
    for (Slot slot : slots) {
      slot.discard();
    }
  }

  /** One pooled producer, created again after it was discarded. */
  private final class Slot {
    final String id;
    private Producer<String, GenericRecord> producer;
    /** What {@link #instrument} attached to {@link #producer}; closed with it. */
    private AutoCloseable instrumentation;

    Slot(String id) {
      this.id = id;
    }

    /** @throws IllegalStateException when the pool is closed and the producer discarded */
    synchronized Producer<String, GenericRecord> producer() {
      if (producer == null) {
        if (closed) {
          throw new IllegalStateException(SHUTTING_DOWN);
        }
        Producer<String, GenericRecord> created = factory.apply(id);
        AutoCloseable attached;
        try {
          created.initTransactions();
          attached = Objects.requireNonNull(instrument.apply(created), "instrument returned null");
        } catch (RuntimeException e) {
          created.close(Duration.ZERO);
          throw e;
        }
        producer = created;
        instrumentation = attached;
      }
      return producer;
    }

    synchronized void discard() {
      if (producer != null) {
        // first, so nothing reads the metrics of a closed producer
        try {
          instrumentation.close();
        } catch (Exception e) {
          log.debug("closing what was attached to producer {} failed", id, e);
        }
        instrumentation = null;
        try {
          producer.close(Duration.ofSeconds(5));
        } catch (RuntimeException e) {
          log.debug("closing producer {} failed", id, e);
        }
        producer = null;
      }
    }
  }

  /** A batch that was not written. */
  public static final class BatchFailedException extends Exception {
    private final boolean aborted;
    private final boolean shuttingDown;
    private final List<RefusedRecord> tooLarge;
    private final List<RefusedTimestamp> badTimestamp;

    BatchFailedException(String message, boolean aborted, Throwable cause) {
      this(message, aborted, cause, false);
    }

    BatchFailedException(String message, boolean aborted, Throwable cause,
        boolean shuttingDown) {
      this(message, aborted, cause, shuttingDown, List.of());
    }

    BatchFailedException(String message, boolean aborted, Throwable cause,
        boolean shuttingDown, List<RefusedRecord> tooLarge) {
      this(message, aborted, cause, shuttingDown, tooLarge, List.of());
    }

    BatchFailedException(String message, boolean aborted, Throwable cause,
        boolean shuttingDown, List<RefusedRecord> tooLarge, List<RefusedTimestamp> badTimestamp) {
      super(message, cause);
      this.aborted = aborted;
      this.shuttingDown = shuttingDown;
      this.tooLarge = List.copyOf(tooLarge);
      this.badTimestamp = List.copyOf(badTimestamp);
    }

    /**
     * The records of an aborted batch the broker refused for their timestamp (an event time
     * further ahead of its clock than the topic's {@code message.timestamp.after.max.ms}, or
     * further behind than {@code message.timestamp.before.max.ms}), by index in the batch: sending
     * the batch again cannot succeed. Empty when no send failed so, and always when the outcome
     * is unknown.
     */
    public List<RefusedTimestamp> badTimestamp() {
      return badTimestamp;
    }

    /**
     * The records of an aborted batch whose sends failed with {@code RecordTooLargeException}, by
     * index in the batch (in order): one of them at least is too large for Kafka, so sending the
     * batch again cannot succeed. Once the broker refuses a record, the producer fails the sends
     * of the transaction it had not made yet with that same error, so records that are not too
     * large themselves may be among them: tell them apart by size. Empty when no send failed so,
     * and always when the outcome is unknown.
     */
    public List<RefusedRecord> tooLarge() {
      return tooLarge;
    }

    /**
     * True when the batch was refused because the writer is closed (ingest is shutting down):
     * nothing of it was sent, and another instance, or this one once restarted, can take it.
     */
    public boolean shuttingDown() {
      return shuttingDown;
    }

    /**
     * True when none of the batch is visible to {@code read_committed} consumers (its transaction
     * was aborted, or never began); false when the outcome is unknown (the commit timed out, or
     * the abort failed and is completed by the producer that replaces it).
     */
    public boolean aborted() {
      return aborted;
    }
  }
}
