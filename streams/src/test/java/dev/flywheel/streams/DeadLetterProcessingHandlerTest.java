package dev.flywheel.streams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.registry.SchemaRegistryException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler.ProcessingHandlerResponse;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.api.Record;
import org.junit.jupiter.api.Test;

class DeadLetterProcessingHandlerTest {

  @Test
  void shouldTakeRetriableClientErrorsForTheClientsEvenWhenWrapped() {
    // Given retriable client errors, bare and wrapped as Kafka Streams wraps them
    // When they are classified
    // Then they come from the clients, not from the record
    assertThat(DeadLetterProcessingHandler.fromTheClients(new TimeoutException("t"))).isTrue();
    assertThat(DeadLetterProcessingHandler.fromTheClients(
        new StreamsException(new NotLeaderOrFollowerException("moved")))).isTrue();
  }

  @Test
  void shouldTakeTheTransactionalProducersRefusalForTheClients() {
    // Given a real transactional producer that was never initialised
    KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:1",
        ProducerConfig.TRANSACTIONAL_ID_CONFIG, "never-initialised",
        ProducerConfig.MAX_BLOCK_MS_CONFIG, 1000),
        new StringSerializer(), new StringSerializer());
    // When it is asked to commit, which its TransactionManager refuses before initTransactions
    IllegalStateException refused = null;
    try {
      producer.commitTransaction();
    } catch (IllegalStateException e) {
      refused = e;
    } finally {
      producer.close(Duration.ZERO);
    }
    assertThat(refused).isNotNull();
    assertThat(refused.getStackTrace()[0].getClassName()).endsWith(".TransactionManager");

    // Then that refusal comes from the clients
    assertThat(DeadLetterProcessingHandler.fromTheClients(refused)).isTrue();
  }

  @Test
  void shouldTakeASchemaRegistryThatDidNotAnswerForTheClientsButNotOneThatRefusedTheRecord() {
    // Given a read that failed because the registry did not answer, and one whose schema id the
    // registry does not know, each wrapped as the deserializer and Kafka Streams wrap them
    SchemaRegistryException away = new SchemaRegistryException("GET /schemas/ids/1: no answer",
        SchemaRegistryException.NO_RESPONSE, SchemaRegistryException.NO_RESPONSE, null, null);
    SchemaRegistryException unknown = new SchemaRegistryException("GET /schemas/ids/77: 404",
        404, SchemaRegistryException.SCHEMA_NOT_FOUND, "Schema 77 not found", null);

    // When they are classified
    // Then the first comes from the clients, and the second from the record
    assertThat(DeadLetterProcessingHandler.fromTheClients(
        new StreamsException(new SerializationException("cannot deserialize", away)))).isTrue();
    assertThat(DeadLetterProcessingHandler.fromTheClients(
        new StreamsException(new SerializationException("unknown schema id 77", unknown))))
        .isFalse();
  }

  @Test
  void shouldLeaveErrorsAboutTheRecordToTheDeadLetterTopic() {
    // Given errors a record's content causes
    // When they are classified
    // Then none comes from the clients
    assertThat(DeadLetterProcessingHandler.fromTheClients(
        new IllegalArgumentException("amount is not a number"))).isFalse();
    assertThat(DeadLetterProcessingHandler.fromTheClients(
        new IllegalStateException("the application failed on 7"))).isFalse();
    assertThat(DeadLetterProcessingHandler.fromTheClients(
        new SerializationException("not avro"))).isFalse();
    assertThat(DeadLetterProcessingHandler.fromTheClients(
        new StreamsException(new ArithmeticException("/ by zero")))).isFalse();
  }

  @Test
  void shouldTakeTheRecordCollectorsReportOfAnOutputItCannotSerializeForAnOutputError() {
    // Given a topology whose output serializer throws, run by Kafka Streams' own record collector
    // with Kafka's default production handler, and a processing handler that keeps what it gets
    Serializer<String> refusing = (topic, key) -> {
      throw new SerializationException("the registry refused the schema of " + topic);
    };
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream("in", Consumed.with(Serdes.String(), Serdes.String()))
        .mapValues(v -> v.toUpperCase(), Named.as("upper"))
        .to("out", Produced.with(Serdes.serdeFrom(refusing, Serdes.String().deserializer()),
            Serdes.String()));
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "classification");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, Keep.class);
    Keep.seen.clear();

    // When a record is processed
    try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props)) {
      TestInputTopic<String, String> in = driver.createInputTopic("in",
          Serdes.String().serializer(), Serdes.String().serializer());
      try {
        in.pipeInput("k", "v");
      } catch (StreamsException expected) {
        // the processing handler said FAIL
      }
    }

    // Then what the processing handler got is an output error, not the record's
    assertThat(Keep.seen).hasSize(1);
    assertThat(DeadLetterProcessingHandler.fromWritingAnOutput(Keep.seen.get(0))).isTrue();
    assertThat(DeadLetterProcessingHandler.fromTheClients(Keep.seen.get(0))).isFalse();
  }

  @Test
  void shouldTakeASendTheRecordCollectorReportsRefusedForAnOutputErrorEvenWhenWrapped() {
    // Given the exception Kafka Streams' record collector keeps for a send the producer refused
    // and throws from the task's next send, bare and wrapped by a processor that forwarded
    StreamsException refused = collectorSendError(new RecordTooLargeException(
        "The message is 2097243 bytes when serialized which is larger than 1048576"));

    // When they are classified
    // Then both are output errors
    assertThat(DeadLetterProcessingHandler.fromWritingAnOutput(refused)).isTrue();
    assertThat(DeadLetterProcessingHandler.fromWritingAnOutput(
        new IllegalStateException("forward failed", refused))).isTrue();
  }

  @Test
  void shouldLeaveAProcessorsOwnStreamsExceptionToTheDeadLetterTopic() {
    // Given a StreamsException a processor throws itself, even around a client exception
    StreamsException own = new StreamsException("cannot enrich",
        new RecordTooLargeException("the lookup answered too much"));

    // When it is classified
    // Then it is not an output error
    assertThat(DeadLetterProcessingHandler.fromWritingAnOutput(own)).isFalse();
    assertThat(DeadLetterProcessingHandler.fromWritingAnOutput(
        new IllegalArgumentException("amount is not a number"))).isFalse();
  }

  @Test
  void shouldFailNotDeadLetterTheRecordInProcessWhenAnOutputCannotBeWritten() {
    // Given a handler with no dead-letter topic to write to, and the record collector reporting
    // an earlier output refused while record in/0/7 is processed
    DeadLetterProcessingHandler handler = new DeadLetterProcessingHandler();
    StreamsException refused = collectorSendError(new RecordTooLargeException("too large"));

    // When it handles that failure
    ProcessingHandlerResponse response = handler.handle(context("in"),
        new Record<>("b", "b", 0L), refused);

    // Then it fails the stream thread (and dead-letters nothing: it has nowhere to)
    assertThat(response).isEqualTo(ProcessingHandlerResponse.FAIL);
  }

  @Test
  void shouldFailAPunctuationRatherThanCommitPartOfIt() {
    // Given a handler with no dead-letter topic to write to
    DeadLetterProcessingHandler handler = new DeadLetterProcessingHandler();

    // When a punctuation (no source record, no topic) throws halfway through its outputs
    ProcessingHandlerResponse response = handler.handle(context(null), null,
        new IllegalArgumentException("the schedule of model m is not a duration"));

    // Then it fails the stream thread, so that its transaction aborts
    assertThat(response).isEqualTo(ProcessingHandlerResponse.FAIL);
  }

  /** Keeps what Kafka Streams passes to the processing handler, and fails. */
  public static final class Keep implements ProcessingExceptionHandler {
    static final List<Exception> seen = new CopyOnWriteArrayList<>();

    @Override
    public void configure(Map<String, ?> configs) {}

    @Override
    public ProcessingHandlerResponse handle(ErrorHandlerContext context, Record<?, ?> record,
        Exception exception) {
      seen.add(exception);
      return ProcessingHandlerResponse.FAIL;
    }
  }

  /**
   * A StreamsException as Kafka 4.1's RecordCollectorImpl.recordSendError creates it: its message
   * and cause, created in that method. A send refused by the broker cannot be had without one;
   * DeadLetterHandlersIT has the record collector report real ones.
   */
  private static StreamsException collectorSendError(Exception cause) {
    StreamsException e = new StreamsException(String.format(
        "Error encountered sending record to topic out for task 0_0 due to:%n%s%n"
            + "Exception handler choose to FAIL the processing, no more records would be sent.",
        cause), cause);
    StackTraceElement[] stack = e.getStackTrace();
    StackTraceElement[] collector = new StackTraceElement[stack.length + 1];
    collector[0] = new StackTraceElement(DeadLetterProcessingHandler.RECORD_COLLECTOR,
        "recordSendError", "RecordCollectorImpl.java", 502);
    System.arraycopy(stack, 0, collector, 1, stack.length);
    e.setStackTrace(collector);
    return e;
  }

  private static ErrorHandlerContext context(String topic) {
    return TestErrorContext.of(topic, "upper", new byte[] {'b'});
  }
}
