package dev.flywheel.streams;

import java.util.Locale;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code production.exception.handler} of every Flywheel processor: an output or changelog
 * record that cannot be written always fails the stream thread, and is logged with what the
 * operator needs to find it: the topic it was for, its size, the source record and the cause.
 *
 * <p>Failing is Kafka's default too; this handler only says more. Dropping the output instead
 * would commit the state change that produced it, and the input's offset, without it. The
 * transaction aborts, and the thread fails again on every start until the cause is removed (the
 * topic's {@code max.message.bytes} or the producer's {@code max.request.size} raised, the
 * processor allowed to write the topic, the output's schema made acceptable to the registry).
 * Kafka Streams reports a refused send on the task's next send, so {@link
 * DeadLetterProcessingHandler} sees it too, while processing a later record, and fails rather
 * than dead-letter that record.
 *
 * <p>For a send the broker refuses, the source record named is the one being processed when the
 * producer reported it, which may be later than the one whose output it was: the callback runs
 * after the send.
 */
public final class OutputErrorHandler implements ProductionExceptionHandler {

  private static final Logger LOG = LoggerFactory.getLogger(OutputErrorHandler.class);

  @Override
  public void configure(Map<String, ?> configs) {}

  @Override
  public ProductionExceptionHandlerResponse handle(ErrorHandlerContext context,
      ProducerRecord<byte[], byte[]> record, Exception exception) {
    LOG.error("Could not write a record to {} (key and value {} bytes; processor {}, task {}; source record"
        + " in process {}): {}. Failing the stream thread so that the transaction aborts; it"
        + " fails again until the cause is removed", record.topic(), size(record),
        context.processorNodeId(), context.taskId(), source(context), exception.toString(),
        exception);
    return ProductionExceptionHandlerResponse.FAIL;
  }

  @Override
  public ProductionExceptionHandlerResponse handleSerializationException(
      ErrorHandlerContext context, ProducerRecord record, Exception exception,
      SerializationExceptionOrigin origin) {
    LOG.error("Could not serialize the {} of a record for {} (processor {}, task {}; source record"
        + " {}): {}. Failing the stream thread so that the transaction aborts; it fails again"
        + " until the cause is removed", origin.toString().toLowerCase(Locale.ROOT),
        record.topic(), context.processorNodeId(), context.taskId(), source(context),
        exception.toString(), exception);
    return ProductionExceptionHandlerResponse.FAIL;
  }

  private static String source(ErrorHandlerContext context) {
    return context.topic() == null ? "none (a punctuation)"
        : context.topic() + "/" + context.partition() + "/" + context.offset();
  }

  private static int size(ProducerRecord<byte[], byte[]> record) {
    return (record.key() == null ? 0 : record.key().length)
        + (record.value() == null ? 0 : record.value().length);
  }
}
