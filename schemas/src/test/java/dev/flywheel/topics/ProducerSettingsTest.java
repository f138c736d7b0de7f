package dev.flywheel.topics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;

class ProducerSettingsTest {

  @Test
  void shouldForceIdempotenceAndFullAcksAndKeepOneRequestInFlight() {
    // Given cluster properties that would weaken delivery
    Map<String, Object> cluster = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "b:9092",
        ProducerConfig.ACKS_CONFIG, "1", ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);

    // When a producer's settings are made from them
    Map<String, Object> props = ProducerSettings.delivery(cluster);

    // Then delivery is idempotent with acks=all and one request in flight, the rest kept
    assertThat(props).containsEntry(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true)
        .containsEntry(ProducerConfig.ACKS_CONFIG, "all")
        .containsEntry(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1)
        .containsEntry(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "b:9092");
    // and a new map, which the caller may change
    props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    assertThat(props).containsEntry(ProducerConfig.LINGER_MS_CONFIG, 5);
  }

  @Test
  void shouldLeaveTheRequestsInFlightToAUserWhoSetsThem() {
    assertThat(ProducerSettings.delivery(
            Map.of(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5)))
        .containsEntry(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
  }
}
