package dev.flywheel.topics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.serialization.Serdes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TopicTest {

  @Test
  void shouldCopyItsConfigsSoLaterChangesToTheSourceMapDoNotLeakIn() {
    // Given a topic made from a mutable map
    Map<String, String> configs = new HashMap<>(Map.of("cleanup.policy", "delete"));
    Topic<String, String> topic = topic("t", configs);

    // When the source map changes
    configs.put("retention.ms", "1");

    // Then the topic's configs do not, and cannot be changed through the topic either
    assertThat(topic.configs()).containsExactly(Map.entry("cleanup.policy", "delete"));
    assertThatThrownBy(() -> topic.configs().put("retention.ms", "1"))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void shouldDescribeItselfAsTheNewTopicTheAdminClientCreates() {
    // Given a topic with 6 partitions, replication factor 3 and two configs
    Topic<String, String> topic = new Topic<>("orders", Serdes.String(), Serdes.String(), 6,
        (short) 3, Map.of("cleanup.policy", "delete", "retention.ms", "-1"));

    // When it becomes a NewTopic
    NewTopic newTopic = topic.toNewTopic();

    // Then every setting carries over
    assertThat(newTopic.name()).isEqualTo("orders");
    assertThat(newTopic.numPartitions()).isEqualTo(6);
    assertThat(newTopic.replicationFactor()).isEqualTo((short) 3);
    assertThat(newTopic.configs()).isEqualTo(Map.of("cleanup.policy", "delete", "retention.ms", "-1"));
  }

  @Test
  void shouldKnowWhetherItIsCompacted() {
    assertThat(topic("a", Map.of("cleanup.policy", "compact")).compacted()).isTrue();
    assertThat(topic("b", Map.of("cleanup.policy", "delete, compact")).compacted()).isTrue();
    assertThat(topic("c", Map.of("cleanup.policy", "delete")).compacted()).isFalse();
    assertThat(topic("d", Map.of()).compacted()).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {"", ".", "..", "a b", "a/b", "a:b"})
  void shouldRefuseANameKafkaDoesNotAccept(String name) {
    assertThatThrownBy(() -> topic(name, Map.of())).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("topic name");
  }

  @Test
  void shouldRefuseFewerThanOnePartitionOrReplica() {
    assertThatThrownBy(() -> new Topic<>("t", Serdes.String(), Serdes.String(), 0, (short) 1,
        Map.of())).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("partition");
    assertThatThrownBy(() -> new Topic<>("t", Serdes.String(), Serdes.String(), 1, (short) 0,
        Map.of())).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("replication factor");
  }

  private static Topic<String, String> topic(String name, Map<String, String> configs) {
    return new Topic<>(name, Serdes.String(), Serdes.String(), 1, (short) 1, configs);
  }
}
