package dev.flywheel.trainingtrigger;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.slf4j.LoggerFactory;

/**
 * What one class logs while a test runs, for tests to wait on a step that leaves no other trace
 * (e.g. "following the training command"). Close it to stop recording.
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
