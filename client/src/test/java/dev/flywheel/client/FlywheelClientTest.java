package dev.flywheel.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * What the client refuses when it is built, and what it keeps of its subscriptions; without a
 * broker (the handlers' consumers are Kafka's {@link MockConsumer}).
 */
class FlywheelClientTest {

  @Test
  void shouldRefuseATransactionalIdSayingTheSendsAreNotTransactional() {
    // Given a builder given a transactional.id among its Kafka properties
    FlywheelClient.Builder builder = builder().kafka(Map.of("transactional.id", "app-1"));

    // When it builds, then it refuses, saying what to do instead
    assertThatThrownBy(builder::build).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("transactional.id")
        .hasMessageContaining("remove it")
        .hasMessageContaining("POST /ingest/{source}");
  }

  @Test
  void shouldRefuseAGroupIdAmongTheKafkaPropertiesNamingTheBuilderMethodForIt() {
    // Given a builder given a group.id among its Kafka properties
    FlywheelClient.Builder builder = builder().kafka(Map.of("group.id", "fraud-app"));

    // When it builds, then it refuses, naming groupId(...) instead
    assertThatThrownBy(builder::build).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("group.id")
        .hasMessageContaining("groupId(\"fraud-app\")");
  }

  @Test
  void shouldForgetASubscriptionOnceItIsClosed() {
    // Given a client with one handler
    try (FlywheelClient client = builder().consumers(props -> promotedConsumer()).build()) {
      Subscription subscription = client.onPromoted((promoted, at) -> { });
      assertThat(client.subscriptions()).containsExactly(subscription);

      // When the handler's subscription is closed
      subscription.close();

      // Then the client no longer holds it
      assertThat(client.subscriptions()).isEmpty();
    }
  }

  private static FlywheelClient.Builder builder() {
    return FlywheelClient.builder().bootstrapServers("127.0.0.1:1")
        .schemaRegistryUrl("http://127.0.0.1:1");
  }

  /** A consumer of flywheel.model.promoted, one partition, empty. */
  private static MockConsumer<String, byte[]> promotedConsumer() {
    String topic = "flywheel.model.promoted";
    TopicPartition tp = new TopicPartition(topic, 0);
    MockConsumer<String, byte[]> consumer = new MockConsumer<>("latest");
    consumer.updatePartitions(topic, List.of(new PartitionInfo(topic, 0, null, null, null)));
    consumer.updateBeginningOffsets(Map.of(tp, 0L));
    consumer.updateEndOffsets(Map.of(tp, 0L));
    return consumer;
  }
}
