package dev.flywheel.streams;

import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What Flywheel's Kafka Streams processors do when a stream thread fails: log it and replace the
 * thread. Under exactly-once its tasks close dirty, their open transaction is aborted, and the
 * new thread restores them from their changelogs and processes again from the last commit, so a
 * transient failure (see {@link DeadLetterProcessingHandler}) never stops a processor. Set with
 * {@code streams.setUncaughtExceptionHandler(new ReplaceFailedThreads("feature-streams"))}.
 */
public final class ReplaceFailedThreads implements StreamsUncaughtExceptionHandler {

  private static final Logger LOG = LoggerFactory.getLogger(ReplaceFailedThreads.class);

  private final String processor;

  /** @param processor named in the log line */
  public ReplaceFailedThreads(String processor) {
    this.processor = processor;
  }

  @Override
  public StreamThreadExceptionResponse handle(Throwable exception) {
    LOG.error("{}: a stream thread failed; replacing it", processor, exception);
    return StreamThreadExceptionResponse.REPLACE_THREAD;
  }
}
