package dev.flywheel.streams;

import java.util.Map;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the source record whose processing threw to {@code <source topic>.dlq}, with the original
 * key and value bytes as read and the exception as the reason, then lets the processor carry on:
 * one bad record never stops a processor. Kafka Streams counts each in {@code dropped-records}.
 */
public final class DeadLetterProcessingHandler implements ProcessingExceptionHandler {

  private static final Logger LOG = LoggerFactory.getLogger(DeadLetterProcessingHandler.class);

  private DeadLetters deadLetters;

  @Override
  public void configure(Map<String, ?> configs) {
    deadLetters = DeadLetters.from(configs);
  }

  @Override
  public ProcessingHandlerResponse handle(ErrorHandlerContext context, Record<?, ?> record,
      Exception exception) {
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
}
