package dev.flywheel.streams;

import java.time.Duration;
import java.util.function.LongSupplier;
import org.apache.kafka.common.utils.ExponentialBackoff;
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
 */
public final class ReplaceFailedThreads implements StreamsUncaughtExceptionHandler {

  private static final Logger LOG = LoggerFactory.getLogger(ReplaceFailedThreads.class);

  /** How long without a failure before the pause starts again from 1 s. */
  static final Duration QUIET = Duration.ofMinutes(5);

  private static final ExponentialBackoff BACKOFF = new ExponentialBackoff(1_000, 2, 5_000, 0.2);

  /** Waits the given milliseconds. */
  interface Sleeper {
    void sleep(long millis) throws InterruptedException;
  }

  private final String processor;
  private final LongSupplier nanoTime;
  private final Sleeper sleeper;
  private int failuresInARow;
  private long lastFailureNanos;

  /** @param processor named in the log line */
  public ReplaceFailedThreads(String processor) {
    this(processor, System::nanoTime, Thread::sleep);
  }

  ReplaceFailedThreads(String processor, LongSupplier nanoTime, Sleeper sleeper) {
    this.processor = processor;
    this.nanoTime = nanoTime;
    this.sleeper = sleeper;
  }

  @Override
  public StreamThreadExceptionResponse handle(Throwable exception) {
    long pause = nextPauseMillis();
    LOG.error("{}: a stream thread failed; replacing it in {} ms", processor, pause, exception);
    try {
      sleeper.sleep(pause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // keep the flag; replace at once
    }
    return StreamThreadExceptionResponse.REPLACE_THREAD;
  }

  private synchronized long nextPauseMillis() {
    long now = nanoTime.getAsLong();
    if (failuresInARow > 0 && now - lastFailureNanos > QUIET.toNanos()) {
      failuresInARow = 0;
    }
    lastFailureNanos = now;
    return BACKOFF.backoff(failuresInARow++);
  }
}
