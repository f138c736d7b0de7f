package dev.flywheel.platform;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a long-running command ({@code flywheel up}, {@code flywheel run}, {@code flywheel demo
 * --keep}) runs until Ctrl-C, SIGTERM or {@link #stop()}. A signal only asks the command's thread
 * to stop, waits until it has stopped what it started, then ends the JVM with the command's
 * status: a JVM ended by a signal would otherwise report 128 + the signal's number even after a
 * clean stop.
 */
public final class UntilStopped {

  /** The command's work: start, {@link UntilStopped#awaitStop()}, stop; returns its status. */
  @FunctionalInterface
  public interface Work {
    int run() throws InterruptedException;
  }

  private static final Logger log = LoggerFactory.getLogger(UntilStopped.class);

  private final Duration shutdownTimeout;
  private final CountDownLatch stopRequested = new CountDownLatch(1);
  private final CountDownLatch finished = new CountDownLatch(1);
  private volatile int exitCode = 1;

  /** @param shutdownTimeout how long a signal waits for the work to stop before exiting */
  public UntilStopped(Duration shutdownTimeout) {
    this.shutdownTimeout = shutdownTimeout;
  }

  /** Runs {@code work} with a shutdown hook that stops it; returns its status. */
  public int run(String what, Work work) throws InterruptedException {
    Thread hook = new Thread(() -> {
      stop();
      try {
        if (!finished.await(shutdownTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
          log.warn("{} did not stop within {} s; exiting anyway", what,
              shutdownTimeout.toSeconds());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      System.out.flush();
      System.err.flush();
      Runtime.getRuntime().halt(exitCode);
    }, what.replace(' ', '-') + "-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      exitCode = work.run();
    } finally {
      finished.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running; it ends the JVM with exitCode
      }
    }
    return exitCode;
  }

  /** Blocks until {@link #stop()} or a signal. */
  public void awaitStop() throws InterruptedException {
    stopRequested.await();
  }

  /** Asks the work to stop. Safe from any thread. */
  public void stop() {
    stopRequested.countDown();
  }
}
