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
 * <p>Failures in a row are replaced after a growing pause: 1 s, doubling up to 30 s (±20%), the
 * count starting again after {@link #QUIET} without one. The failing thread waits in this
 * handler, so its partitions wait with it: a cause that persists (the schema registry away, a
 * broker unreachable) costs a restore and a rebalance every 30 s at most, not in a tight loop.
 * (The failed thread's consumer leaves the group when it closes, see {@link StreamsProps}, so
 * nothing else paces the replacements.)
 */
public final class ReplaceFailedThreads implements StreamsUncaughtExceptionHandler {

  private static final Logger LOG = LoggerFactory.getLogger(ReplaceFailedThreads.class);

  /** How long without a failure before the pause starts again from 1 s. */
  static final Duration QUIET = Duration.ofMinutes(5);

  private static final ExponentialBackoff BACKOFF = new ExponentialBackoff(1_000, 2, 30_000, 0.2);

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
      Thread.currentThread().interrupt(); // closing: replace at once, Streams stops it anyway
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
