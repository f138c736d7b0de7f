package dev.flywheel.servingsink;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.slf4j.LoggerFactory;

/** What one class logs while a test runs, to count what it said. Close it to stop recording. */
final class LogLines implements AutoCloseable {

  private final Logger logger;
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  private LogLines(Class<?> source) {
    this.logger = (Logger) LoggerFactory.getLogger(source);
    appender.start();
    logger.addAppender(appender);
  }

  /** Starts recording what {@code source} logs. */
  static LogLines of(Class<?> source) {
    return new LogLines(source);
  }

  /** How many messages logged so far at {@code level} contain {@code text}. */
  long count(Level level, String text) {
    synchronized (appender.list) {
      return appender.list.stream().filter(e -> e.getLevel() == level
          && e.getFormattedMessage().contains(text)).count();
    }
  }

  @Override
  public void close() {
    logger.detachAppender(appender);
    appender.stop();
  }
}
