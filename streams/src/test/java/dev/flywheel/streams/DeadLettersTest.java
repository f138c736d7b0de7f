package dev.flywheel.streams;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

/** How {@link DeadLetters} creates a dead-letter topic that does not exist yet. */
class DeadLettersTest {

  @Test
  void shouldCreateADlqWithTheReplicationFactorStreamsPropsSets() {
    // Given a processor's properties built with Flywheel's kafka.replicationFactor of 3
    Properties props = StreamsProps.builder("flywheel-test").bootstrapServers("b:9092")
        .replicationFactor(3).build();

    // When its dead letters say how a missing dead-letter topic is created
    DeadLetters deadLetters = DeadLetters.from(asMap(props));

    // Then it is replicated three times, as the changelogs, not by the broker's default
    assertThat(deadLetters.newTopic("flywheel.labels.dlq").replicationFactor())
        .isEqualTo((short) 3);
  }

  @Test
  void shouldCreateADlqWithAReplicationFactorAUserSetsAsText() {
    // Given a processor whose user sets replication.factor in kafka.properties (text)
    Properties props = StreamsProps.builder("flywheel-test").bootstrapServers("b:9092")
        .replicationFactor(3).overrides(Map.of(StreamsConfig.REPLICATION_FACTOR_CONFIG, "2"))
        .build();

    // Then its dead-letter topics get that factor
    assertThat(DeadLetters.from(asMap(props)).newTopic("t.dlq").replicationFactor())
        .isEqualTo((short) 2);
  }

  @Test
  void shouldLeaveTheReplicationToTheBrokerWhenNoneIsSet() {
    // Given a processor that sets no replication factor, or Kafka Streams' -1
    DeadLetters unset = DeadLetters.from(Map.of("bootstrap.servers", "b:9092"));
    DeadLetters brokerDefault = DeadLetters.from(Map.of("bootstrap.servers", "b:9092",
        StreamsConfig.REPLICATION_FACTOR_CONFIG, -1));

    // Then its dead-letter topics take the broker's default.replication.factor
    assertThat(unset.newTopic("t.dlq").replicationFactor()).isEqualTo((short) -1);
    assertThat(brokerDefault.newTopic("t.dlq").replicationFactor()).isEqualTo((short) -1);
    assertThat(unset.newTopic("t.dlq").numPartitions()).isEqualTo(-1);
  }

  private static Map<String, Object> asMap(Properties props) {
    Map<String, Object> map = new HashMap<>();
    props.forEach((k, v) -> map.put(k.toString(), v));
    return map;
  }
}
