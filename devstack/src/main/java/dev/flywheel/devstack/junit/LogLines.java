package dev.flywheel.devstack.junit;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.slf4j.LoggerFactory;

/**
 * What one class logs while a test runs: to count what it said, or to wait on a step that leaves
 * no other trace (e.g. "following the training command"). Close it to stop recording. Needs
 * Logback as the SLF4J binding of the test (devstack's dependency on it is optional).
 *
 * <pre>{@code
 * try (LogLines log = LogLines.of(PromotionFollower.class)) {
 *   ...
 *   assertThat(log.count(Level.WARN, "removed alias champion")).isEqualTo(1);
 * }
 * }</pre>
 */
public final class LogLines implements AutoCloseable {

  private final Logger logger;
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  private LogLines(Class<?> source) {
    this.logger = (Logger) LoggerFactory.getLogger(source);
    appender.start();
    logger.addAppender(appender);
  }

  /** Starts recording what {@code source} logs. */
  public static LogLines of(Class<?> source) {
    return new LogLines(source);
  }

  /** How many messages logged so far at {@code level} contain {@code text}. */
  public long count(Level level, String text) {
    synchronized (appender.list) {
      return appender.list.stream().filter(e -> e.getLevel() == level
          && e.getFormattedMessage().contains(text)).count();
    }
  }

  /** Whether a message logged so far contains {@code text}. */
  public boolean contain(String text) {
    synchronized (appender.list) {
      return appender.list.stream().anyMatch(e -> e.getFormattedMessage().contains(text));
    }
  }

  @Override
  public void close() {
    logger.detachAppender(appender);
    appender.stop();
  }
}
