package dev.flywheel.trainingtrigger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.events.TrainingRequested;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** The manual request's producer gives up before the HTTP answer, and the answer is honest. */
class ManualRequestSendTest {

  private static final String TOPIC = "flywheel.training.requests";

  private final TrainingRequested request = ManualRequests.of("fraud-detector", "new features",
      "alice", Map.of(), Instant.parse("2026-11-23T10:00:00Z"));

  @Test
  void shouldGiveUpOnARequestBeforeTheServiceAnswersWhateverTheKafkaPropertiesSay() {
    // Given Kafka properties with the producer's long default waits
    Map<String, Object> props = TrainingTriggerService.requestProducerProps(Map.of(
        "bootstrap.servers", "127.0.0.1:1", ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000,
        ProducerConfig.MAX_BLOCK_MS_CONFIG, 60_000, ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG,
        30_000, ProducerConfig.LINGER_MS_CONFIG, 100));
    // When the request producer's properties are made
    long maxBlock = ((Number) props.get(ProducerConfig.MAX_BLOCK_MS_CONFIG)).longValue();
    long delivery = ((Number) props.get(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG)).longValue();
    // Then metadata wait plus delivery fit in the answer's wait, so nothing is written after a 503
    assertThat(maxBlock + delivery).isLessThanOrEqualTo(
        TrainingTriggerService.SEND_TIMEOUT.toMillis());
    // And a producer accepts them (delivery.timeout.ms >= linger.ms + request.timeout.ms)
    try (KafkaProducer<String, String> p = new KafkaProducer<>(props, new StringSerializer(),
        new StringSerializer())) {
      assertThat(p.metrics()).isNotEmpty();
    }
  }

  @Test
  void shouldSayARequestMayStillBeWrittenWhenTheBrokerDidNotAcknowledgeItInTime() {
    // Given a producer whose send will expire unacknowledged
    MockProducer<String, TrainingRequested> producer = mock();
    CompletableFuture<String> answer = CompletableFuture.supplyAsync(() ->
        TrainingTriggerService.send(producer, TOPIC, request));
    await().atMost(Duration.ofSeconds(10)).until(() -> producer.history().size() == 1);
    // When its delivery times out
    producer.errorNext(new TimeoutException("Expiring 1 record(s) for " + TOPIC + "-0"));
    // Then the answer says it may have been written, and how to check before asking again
    assertThat(answer.join()).contains("may have been written", request.getEventId())
        .doesNotContain("safe to send it again");
  }

  @Test
  void shouldSayARequestWasNotWrittenWhenTheTopicCannotBeReached() {
    // Given a producer that gets no metadata of the topic
    MockProducer<String, TrainingRequested> producer = mock();
    producer.partitionsForException = new TimeoutException("Topic " + TOPIC
        + " not present in metadata after 5000 ms.");
    // When a request is sent
    String answer = TrainingTriggerService.send(producer, TOPIC, request);
    // Then it is not written, and the answer says a retry is safe
    assertThat(producer.history()).isEmpty();
    assertThat(answer).contains("was not written", "safe to send it again");
  }

  private static MockProducer<String, TrainingRequested> mock() {
    Serializer<TrainingRequested> none = (topic, value) -> new byte[0];
    return new MockProducer<>(false, null, new StringSerializer(), none);
  }
}
