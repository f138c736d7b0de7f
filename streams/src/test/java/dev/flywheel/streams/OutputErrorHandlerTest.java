package dev.flywheel.streams;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProductionExceptionHandler.ProductionExceptionHandlerResponse;
import org.apache.kafka.streams.errors.ProductionExceptionHandler.SerializationExceptionOrigin;
import org.junit.jupiter.api.Test;

class OutputErrorHandlerTest {

  private final OutputErrorHandler handler = new OutputErrorHandler();

  @Test
  void shouldBeTheProductionHandlerOfEveryProcessor() {
    // Given the properties every Flywheel processor is built with
    // When they are built
    // Then an output that cannot be written goes to this handler
    assertThat(StreamsProps.builder("app").bootstrapServers("localhost:9092").build()
        .get(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG))
        .isEqualTo(OutputErrorHandler.class);
  }

  @Test
  void shouldFailRatherThanDropAnOutputTheProducerRefused() {
    // Given an output over max.request.size, sent while in/0/7 was processed
    ProducerRecord<byte[], byte[]> output = new ProducerRecord<>("out", new byte[] {'k'},
        new byte[2048]);

    // When the producer refuses it
    ProductionExceptionHandlerResponse response = handler.handle(context("in"), output,
        new RecordTooLargeException("The message is 2097243 bytes when serialized"));

    // Then the stream thread fails, so that the transaction aborts
    assertThat(response).isEqualTo(ProductionExceptionHandlerResponse.FAIL);
  }

  @Test
  void shouldFailRatherThanDropAnOutputThatCannotBeSerialized() {
    // Given an output of a punctuation whose value the registry refuses
    ProducerRecord<String, String> output = new ProducerRecord<>("out", "k", "v");

    // When its serializer throws
    ProductionExceptionHandlerResponse response = handler.handleSerializationException(
        context(null), output, new SerializationException("409 incompatible"),
        SerializationExceptionOrigin.VALUE);

    // Then the stream thread fails, so that the transaction aborts
    assertThat(response).isEqualTo(ProductionExceptionHandlerResponse.FAIL);
  }

  private static ErrorHandlerContext context(String topic) {
    return TestErrorContext.of(topic, "out-sink", null);
  }
}
