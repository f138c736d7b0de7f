package dev.flywheel.streams;

import dev.flywheel.errors.Causes;
import dev.flywheel.registry.SchemaRegistryException;
import java.util.Map;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the source record whose processing threw to {@code <source topic>.dlq}, with the original
 * key and value bytes as read and the exception as the reason, then lets the processor carry on:
 * one bad record never stops a processor. Kafka Streams counts each in {@code dropped-records}.
 *
 * <p>An error that comes from the Kafka clients or the schema registry rather than from the
 * record ({@link #fromTheClients}: a timeout, a leader that moved, the transactional producer
 * refusing a send while a timed-out commit waits to be called again, a registry that did not
 * answer) fails the stream thread instead. Skipping
 * the record, or the punctuation, would drop its output or leave a store change without its
 * changelog record; failing lets Kafka Streams close the tasks dirty, restore them from their
 * changelogs and process again from the last commit, and {@link ReplaceFailedThreads} starts a
 * new thread.
 */
public final class DeadLetterProcessingHandler implements ProcessingExceptionHandler {

  private static final Logger LOG = LoggerFactory.getLogger(DeadLetterProcessingHandler.class);
  private static final String TRANSACTION_MANAGER =
      "org.apache.kafka.clients.producer.internals.TransactionManager";

  private DeadLetters deadLetters;

  @Override
  public void configure(Map<String, ?> configs) {
    deadLetters = DeadLetters.from(configs);
  }

  @Override
  public ProcessingHandlerResponse handle(ErrorHandlerContext context, Record<?, ?> record,
      Exception exception) {
    if (fromTheClients(exception)) {
      LOG.warn("Processor {} failed because of the Kafka clients, not the record ({}); failing"
          + " the stream thread so that its tasks restart from the last commit",
          context.processorNodeId(), exception.toString());
      return ProcessingHandlerResponse.FAIL;
    }
    if (context.topic() == null) {
      LOG.error("Processor {} failed outside any source record (a punctuation); nothing to"
          + " dead-letter, carrying on", context.processorNodeId(), exception);
      return ProcessingHandlerResponse.CONTINUE;
    }
    LOG.warn("Processor {} failed on {}/{}/{}; sent to {}.dlq", context.processorNodeId(),
        context.topic(), context.partition(), context.offset(), context.topic(), exception);
    deadLetters.send(context.topic(), context.partition(), context.offset(), context.timestamp(),
        context.sourceRawKey(), context.sourceRawValue(), context.headers(), exception);
    return ProcessingHandlerResponse.CONTINUE;
  }

  /**
   * Whether {@code e} (or a cause) comes from the state of the clients rather than from the
   * record: a {@link RetriableException} (such as a timeout), an exception the transactional
   * producer's {@code TransactionManager} threw because of the transaction's state, or a schema
   * registry that did not answer ({@link SchemaRegistryException#isRetriableCause}).
   */
  static boolean fromTheClients(Throwable e) {
    return SchemaRegistryException.isRetriableCause(e)
        || Causes.any(e, t -> t instanceof RetriableException || fromTheTransactionManager(t));
  }

  private static boolean fromTheTransactionManager(Throwable t) {
    StackTraceElement[] stack = t.getStackTrace();
    return (t instanceof IllegalStateException || t instanceof KafkaException) && stack.length > 0
        && stack[0].getClassName().equals(TRANSACTION_MANAGER);
  }
}
