package dev.flywheel.streams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.registry.SchemaRegistryException;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.errors.StreamsException;
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
}
