package dev.flywheel.streams;

import dev.flywheel.errors.Causes;
import dev.flywheel.registry.SchemaRegistryClient;
import dev.flywheel.registry.SchemaRegistryException;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.AvroSerdeFactory;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import org.apache.kafka.common.utils.ExponentialBackoff;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What Flywheel's Kafka Streams processors do when a stream thread fails: log it and replace the
 * thread. Under exactly-once its tasks close dirty, their open transaction is aborted, and the
 * new thread restores them from their changelogs and processes again from the last commit, so a
 * transient failure (see {@link DeadLetterProcessingHandler}) never stops a processor. Set with
 * {@code streams.setUncaughtExceptionHandler(new ReplaceFailedThreads("feature-streams"))}.
 *
 * <p>Failures in a row are replaced after a growing pause: 1 s, doubling up to 5 s (±20%), the
 * count starting again after {@link #QUIET} without one. A cause that persists (the schema
 * registry away, a broker unreachable) so costs a restore and a rebalance every 5 s or so, not a
 * tight loop. (The failed thread's consumer leaves the group when it closes, see {@link
 * StreamsProps}, so nothing else paces the replacements.) The pause is short on purpose: the
 * failing thread waits in this handler before Kafka Streams closes its tasks, so for its length
 * the thread still holds its partitions and, under exactly-once, its open transaction, which holds
 * back what {@code read_committed} readers of its output topics see. At 6 s at most it stays
 * below the producers' transaction timeout (10 s in Kafka Streams), and a {@code close()} waits
 * for it within its own timeout.
 *
 * <p>A failure because the schema registry does not answer ({@link
 * SchemaRegistryException#isRetriableCause}) is different: under exactly-once every replacement
 * closes the thread's tasks dirty, which wipes their stores, and the new thread restores them in
 * full from their changelogs before it meets the same unreadable record and fails again. With a
 * registry away for minutes and large stores, that is a full restore every few seconds. So with
 * {@link #untilRegistryAnswers}, such a thread is replaced once the registry answers again
 * (probed every second), or after {@link #OUTAGE_WAIT} at the most, or within a second once Kafka Streams
 * is shutting down: a restore at most once a minute while the registry is away, and a new thread
 * within about a second of its return. Its open transaction is aborted by the broker 10 to 20 s
 * after it began (the transaction timeout, checked every 10 s), which releases {@code
 * read_committed} readers of its outputs.
 *
 * <p>Replacing never gives up, so a processor recovers by itself once the cause is fixed. But a
 * failure that comes back on every start (an output or dead-letter topic that cannot be written,
 * a bad RocksDB setting, a missing topic) would otherwise loop quietly while Kafka Streams stays
 * {@code RUNNING} or {@code REBALANCING}. So the handler counts the failures in a row and keeps
 * the last one's cause ({@link #failures()}); from {@link #UNHEALTHY_AFTER} in a row {@link
 * #healthProblem()} says so, and every Flywheel processor reports it on {@code /health}. The count
 * starts again once a replaced thread has run {@link #QUIET} without failing: a cause that comes
 * back on every start fails again within seconds (the pauses above, at most {@link #OUTAGE_WAIT}
 * for a registry outage), long before that.
 */
public final class ReplaceFailedThreads implements StreamsUncaughtExceptionHandler {

  private static final Logger LOG = LoggerFactory.getLogger(ReplaceFailedThreads.class);

  /**
   * How long without a failure before the pause starts again from 1 s and the failures no longer
   * count as in a row.
   */
  static final Duration QUIET = Duration.ofMinutes(5);

  private static final ExponentialBackoff BACKOFF = new ExponentialBackoff(1_000, 2, 5_000, 0.2);

  /**
   * The longest a thread failed by a registry outage waits for the registry before it is
   * replaced: well below the consumer's {@code max.poll.interval.ms} (5 minutes in Kafka Streams),
   * past which the thread would leave the group.
   */
  static final Duration OUTAGE_WAIT = Duration.ofSeconds(60);

  /** Failures in a row from which {@link #healthProblem()} reports the processor unhealthy. */
  public static final int UNHEALTHY_AFTER = 5;

  /**
   * How long after the last failed thread was replaced (after its pause and any wait for the
   * registry) {@link #healthProblem} still reports a run of failures: longer than a replaced thread
   * takes to meet the same record again in most cases, so that a cause that persists is reported
   * without a gap, while a processor whose replaced thread has run this long without failing is
   * healthy again. A replacement that restores large stores for longer than this before failing
   * again is reported only from its failure on.
   */
  static final Duration STILL_FAILING = Duration.ofSeconds(90);

  /** The most characters of the last failure's cause kept for {@link #healthProblem()}. */
  static final int CAUSE_CHARS = 500;

  /**
   * The failures of stream threads in a row, none more than {@link #QUIET} after the one before
   * (or after the last, if it is the last), and the last one's cause.
   *
   * @param inARow failed threads in a row; 0 when none failed within {@link #QUIET}
   * @param lastCause the last failure's messages, outermost first; null when {@code inARow} is 0
   */
  public record Failures(int inARow, String lastCause) {}

  /** How often the registry is asked whether it answers again. */
  static final long PROBE_MILLIS = 1_000;

  /** Waits the given milliseconds. */
  interface Sleeper {
    void sleep(long millis) throws InterruptedException;
  }

  private final String processor;
  private final LongSupplier nanoTime;
  private final Sleeper sleeper;
  private int failuresInARow;
  private long lastFailureNanos;
  /** When the last failed thread was replaced: after its pause and any wait for the registry. */
  private long lastReplacedNanos;
  private String lastCause;
  private volatile Predicate<Throwable> outage = e -> false;
  private volatile BooleanSupplier outageOver = () -> true;
  private volatile BooleanSupplier stopping = () -> false;
  /** Where the registry is asked whether it answers again: one daemon thread, made when needed. */
  private Executor probes = task -> probeThread().execute(task);
  private ExecutorService probeThread;

  /** @param processor named in the log line */
  public ReplaceFailedThreads(String processor) {
    this(processor, System::nanoTime, Thread::sleep);
  }

  ReplaceFailedThreads(String processor, LongSupplier nanoTime, Sleeper sleeper) {
    this.processor = processor;
    this.nanoTime = nanoTime;
    this.sleeper = sleeper;
  }

  /**
   * Replaces a thread failed because the schema registry does not answer only once {@code
   * registry} answers again (or after {@link #OUTAGE_WAIT}, or when {@code streams} shuts down),
   * rather than after the usual pause; see the class comment. Returns this handler.
   */
  public ReplaceFailedThreads untilRegistryAnswers(SchemaRegistryClient registry,
      KafkaStreams streams) {
    return waitingOut(SchemaRegistryException::isRetriableCause, () -> answers(registry),
        () -> streams.state().hasStartedOrFinishedShuttingDown());
  }

  /**
   * As {@link #untilRegistryAnswers(SchemaRegistryClient, KafkaStreams)} with the registry client
   * of {@code serdes} when it has one (Flywheel's {@link AvroSerdes}); else this handler as it is.
   */
  public ReplaceFailedThreads untilRegistryAnswers(AvroSerdeFactory serdes,
      KafkaStreams streams) {
    return serdes instanceof AvroSerdes avro ? untilRegistryAnswers(avro.client(), streams) : this;
  }

  /**
   * Replaces a thread whose failure {@code outage} matches once {@code over} says the outage is
   * over (asked every {@link #PROBE_MILLIS}), after {@link #OUTAGE_WAIT}, or once {@code
   * stopping} is true, whichever comes first; never before the usual pause.
   */
  ReplaceFailedThreads waitingOut(Predicate<Throwable> outage, BooleanSupplier over,
      BooleanSupplier stopping) {
    this.outage = outage;
    this.outageOver = over;
    this.stopping = stopping;
    return this;
  }

  @Override
  public StreamThreadExceptionResponse handle(Throwable exception) {
    long pause = nextPauseMillis(exception);
    try {
      if (outage.test(exception) && refusedTheClient(exception)) {
        // the registry answers, but not this client, or not for this schema: asking it whether
        // it answers says nothing about that, so the whole wait is waited, not a restore every
        // few seconds until access is granted or the settings fixed
        LOG.error("{}: a stream thread failed as the schema registry refused it (credentials,"
            + " access to a subject, or a URL that is not a registry); replacing it in {} s",
            processor, OUTAGE_WAIT.toSeconds(), exception);
        waitOut(pause, false);
      } else if (outage.test(exception)) {
        LOG.error("{}: a stream thread failed as the schema registry does not answer; replacing"
            + " it once the registry answers again, within {} s at the most", processor,
            OUTAGE_WAIT.toSeconds(), exception);
        waitOut(pause, true);
      } else {
        LOG.error("{}: a stream thread failed; replacing it in {} ms", processor, pause,
            exception);
        sleeper.sleep(pause);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // keep the flag; replace at once
    }
    replaced();
    return StreamThreadExceptionResponse.REPLACE_THREAD;
  }

  /**
   * Waits until the registry answers, the longest wait is over or Kafka Streams shuts down. The
   * registry is asked on {@link #probes}, not on the stream thread: a call to a registry that
   * accepts connections and then hangs takes the client's timeouts and retries (a minute or
   * more), and the deadline and a shutdown must be seen every {@link #PROBE_MILLIS} meanwhile. A
   * probe still running when the wait ends is left to finish on its daemon thread.
   */
  private void waitOut(long pause, boolean probing) throws InterruptedException {
    long deadline = nanoTime.getAsLong() + OUTAGE_WAIT.toNanos();
    sleeper.sleep(pause);
    CompletableFuture<Boolean> probe = null;
    while (!stopping.getAsBoolean() && nanoTime.getAsLong() < deadline) {
      if (!probing) {
        sleeper.sleep(PROBE_MILLIS);
        continue;
      }
      if (probe == null) {
        probe = CompletableFuture.supplyAsync(this::over, probes);
      }
      if (probe.isDone()) {
        if (probe.join()) {
          LOG.info("{}: the schema registry answers again; replacing the failed stream thread",
              processor);
          return;
        }
        probe = null;
      }
      sleeper.sleep(PROBE_MILLIS);
    }
    if (probing && !stopping.getAsBoolean()) {
      LOG.warn("{}: the schema registry still does not answer after {} s; replacing the failed"
          + " stream thread, which restores its tasks' stores again", processor,
          OUTAGE_WAIT.toSeconds());
    }
  }

  private synchronized ExecutorService probeThread() {
    if (probeThread == null) {
      probeThread = Executors.newSingleThreadExecutor(task -> {
        Thread thread = new Thread(task, "flywheel-" + processor + "-registry-probe");
        thread.setDaemon(true);
        return thread;
      });
    }
    return probeThread;
  }

  /** Asks the registry on {@code probes} instead of a thread of its own (tests: on the caller). */
  ReplaceFailedThreads probingOn(Executor probes) {
    this.probes = probes;
    return this;
  }

  private boolean over() {
    try {
      return outageOver.getAsBoolean();
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static boolean refusedTheClient(Throwable exception) {
    return Causes.any(exception,
        t -> t instanceof SchemaRegistryException e && e.isSetupProblem());
  }

  static boolean answers(SchemaRegistryClient registry) {
    try {
      registry.listSubjects();
      return true;
    } catch (SchemaRegistryException e) {
      // a refusal of the records' own request is the registry answering; one of the client
      // itself (credentials, access, a URL that is not a registry) fails every thread alike
      // until it is fixed, so it is waited out as an outage is
      return !e.isRetriable() && !e.isSetupProblem();
    }
  }

  /**
   * The stream threads failed in a row and the last one's cause; none once a thread has run
   * {@link #QUIET} since the last failure.
   */
  public synchronized Failures failures() {
    if (failuresInARow == 0 || nanoTime.getAsLong() - lastFailureNanos > QUIET.toNanos()) {
      return new Failures(0, null);
    }
    return new Failures(failuresInARow, lastCause);
  }

  /**
   * What to report on {@code /health} once {@link #UNHEALTHY_AFTER} or more stream threads failed
   * in a row (each is still replaced) and the last within {@link #STILL_FAILING}, or empty: a
   * processor whose replaced thread has run that long without failing is reported healthy again,
   * though the run of failures counts on for the back-off until {@link #QUIET}.
   */
  public Optional<String> healthProblem() {
    Failures failures = failures();
    if (failures.inARow() < UNHEALTHY_AFTER || sinceLastFailureNanos() > STILL_FAILING.toNanos()) {
      return Optional.empty();
    }
    return Optional.of(processor + ": a stream thread failed " + failures.inARow()
        + " times in a row, last: " + failures.lastCause() + "; it is replaced each time,"
        + " see the log");
  }

  /** Time since the last failed thread was replaced (not since it failed: see STILL_FAILING). */
  private synchronized long sinceLastFailureNanos() {
    return nanoTime.getAsLong() - Math.max(lastFailureNanos, lastReplacedNanos);
  }

  private synchronized void replaced() {
    lastReplacedNanos = nanoTime.getAsLong();
  }

  private synchronized long nextPauseMillis(Throwable exception) {
    long now = nanoTime.getAsLong();
    if (failuresInARow > 0 && now - lastFailureNanos > QUIET.toNanos()) {
      failuresInARow = 0;
    }
    lastFailureNanos = now;
    lastCause = cause(exception);
    return BACKOFF.backoff(failuresInARow++);
  }

  private static String cause(Throwable exception) {
    String text = DeadLetters.describe(exception);
    return text.length() <= CAUSE_CHARS ? text : text.substring(0, CAUSE_CHARS) + "...";
  }
}
