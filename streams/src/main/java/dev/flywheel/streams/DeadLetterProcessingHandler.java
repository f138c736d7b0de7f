package dev.flywheel.streams;

import dev.flywheel.errors.Causes;
import dev.flywheel.registry.SchemaRegistryException;
import java.util.Arrays;
import java.util.Map;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the source record whose processing threw to {@code <source topic>.dlq}, with the original
 * key and value bytes as read and the exception as the reason, then lets the processor carry on:
 * one bad record never stops a processor. Kafka Streams counts each in {@code dropped-records}.
 *
 * <p>Three failures are not the record's fault and fail the stream thread instead, so that Kafka
 * Streams aborts the transaction (state changes, changelog records and outputs together), closes
 * the tasks dirty, restores them from their changelogs and processes again from the last commit;
 * {@link ReplaceFailedThreads} starts a new thread:
 *
 * <ul>
 *   <li>an error that comes from the Kafka clients or the schema registry ({@link
 *       #fromTheClients}: a timeout, a leader that moved, the transactional producer refusing a
 *       send while a timed-out commit waits to be called again, a registry that did not answer);
 *   <li>an output that cannot be written ({@link #fromWritingAnOutput}): an output, or a
 *       changelog record, its serializer throws on (a schema the registry refuses), or one the
 *       producer or broker refused (over {@code max.request.size} or the topic's {@code
 *       max.message.bytes}, a topic the processor may not write). Kafka Streams reports a refused
 *       send on the next send of the task, that is while processing a later record, which is
 *       innocent; and by the time a serializer throws, the record's state change and its
 *       changelog record are already written. Carrying on would commit the state without the
 *       output, or send the next record to the dead-letter topic in the other's place;
 *   <li>any failure of a punctuation: there is no source record to dead-letter, and carrying on
 *       would commit the outputs and state changes the punctuation made before it threw, without
 *       the rest.
 * </ul>
 *
 * <p>The thread then fails again on every start until the cause is removed (the topic's limit
 * raised, the schema made compatible, the bug fixed); {@link OutputErrorHandler} logs which
 * output and which source record, and {@code failed-stream-threads} keeps rising meanwhile.
 */
public final class DeadLetterProcessingHandler implements ProcessingExceptionHandler {

  private static final Logger LOG = LoggerFactory.getLogger(DeadLetterProcessingHandler.class);
  private static final String TRANSACTION_MANAGER =
      "org.apache.kafka.clients.producer.internals.TransactionManager";
  /**
   * Kafka Streams' record collector: every output and changelog record of a task is serialized
   * and sent through it, and it creates every exception it throws for them (Kafka 4.1,
   * {@code RecordCollectorImpl}): {@code recordSendError} for a send the producer or broker
   * refused (thrown by the next send, flush or commit of the task), {@code handleException} for
   * a serializer that threw, {@code createStreamsExceptionForClassCastException} for a serializer
   * given the wrong type, and {@code send} for a topic whose partitions cannot be looked up.
   */
  static final String RECORD_COLLECTOR =
      "org.apache.kafka.streams.processor.internals.RecordCollectorImpl";
  /**
   * The collector's producer, which wraps in a {@code StreamsException} what the Kafka producer
   * throws from {@code send} itself (a producer already in an error state, or closed).
   */
  static final String STREAMS_PRODUCER =
      "org.apache.kafka.streams.processor.internals.StreamsProducer";

  private DeadLetters deadLetters;

  @Override
  public void configure(Map<String, ?> configs) {
    deadLetters = DeadLetters.from(configs);
  }

  @Override
  public ProcessingHandlerResponse handle(ErrorHandlerContext context, Record<?, ?> record,
      Exception exception) {
    if (context.topic() == null) {
      LOG.error("Processor {} failed in a punctuation; failing the stream thread so that the"
          + " punctuation's transaction aborts rather than commit part of its outputs and state",
          context.processorNodeId(), exception);
      return ProcessingHandlerResponse.FAIL;
    }
    if (fromTheClients(exception)) {
      LOG.warn("Processor {} failed because of the Kafka clients, not the record ({}); failing"
          + " the stream thread so that its tasks restart from the last commit",
          context.processorNodeId(), exception.toString());
      return ProcessingHandlerResponse.FAIL;
    }
    if (fromWritingAnOutput(exception)) {
      LOG.error("Processor {} could not write an output or changelog record while processing"
          + " {}/{}/{}; that record is not dead-lettered (a refused send is reported on the next"
          + " send, so it may not be the record whose output was refused). Failing the stream"
          + " thread so that the transaction aborts; it fails again until the cause is removed",
          context.processorNodeId(), context.topic(), context.partition(), context.offset(),
          exception);
      return ProcessingHandlerResponse.FAIL;
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

  /**
   * Whether {@code e} (or a cause) is Kafka Streams reporting an output or changelog record that
   * could not be written: an exception created by the record collector or its producer ({@link
   * #RECORD_COLLECTOR}, {@link #STREAMS_PRODUCER}), whatever the record being processed when it
   * surfaced. Both throw a plain {@link StreamsException} whose cause is the producer's or the
   * serializer's exception, as a processor might itself, so where it was created tells them
   * apart, not its type or cause.
   */
  static boolean fromWritingAnOutput(Throwable e) {
    return Causes.any(e, t -> t instanceof StreamsException
        && createdIn(t, RECORD_COLLECTOR, STREAMS_PRODUCER));
  }

  private static boolean createdIn(Throwable t, String... classNames) {
    StackTraceElement[] stack = t.getStackTrace();
    return stack.length > 0 && Arrays.asList(classNames).contains(stack[0].getClassName());
  }

  private static boolean fromTheTransactionManager(Throwable t) {
    StackTraceElement[] stack = t.getStackTrace();
    return (t instanceof IllegalStateException || t instanceof KafkaException) && stack.length > 0
        && stack[0].getClassName().equals(TRANSACTION_MANAGER);
  }
}
