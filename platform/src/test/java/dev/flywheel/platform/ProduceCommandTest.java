package dev.flywheel.platform;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ProduceCommandTest {

  @Test
  void shouldPassTheClustersSecurityToTheFileProducerButNeverWeakenItsDelivery() {
    // Given cluster-wide client properties that would weaken delivery, beside security settings
    Map<String, Object> kafka = Map.of(
        "bootstrap.servers", "kafka-1:9093",
        "security.protocol", "SASL_SSL",
        "sasl.mechanism", "SCRAM-SHA-512",
        "acks", "1",
        "enable.idempotence", "false");

    // When they are laid over the file producer's settings
    Map<String, Object> overrides = ProduceCommand.securityAndTuning(kafka);

    // Then security passes and acks and idempotence stay the file producer's own
    assertThat(overrides)
        .containsEntry("security.protocol", "SASL_SSL")
        .containsEntry("sasl.mechanism", "SCRAM-SHA-512")
        .containsEntry("bootstrap.servers", "kafka-1:9093")
        .doesNotContainKeys("acks", "enable.idempotence");
  }
}
