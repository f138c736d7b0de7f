package dev.flywheel.topics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What TopicBootstrap decides before it talks to a cluster; TopicBootstrapIT covers the rest. */
class TopicBootstrapTest {

  /** An Admin client pointed at a port nothing listens on: any request would time out. */
  private final Admin unreachable = Admin.create(Map.of(
      AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:1",
      AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "1000",
      AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "1000"));

  @AfterEach
  void closeAdmin() {
    unreachable.close(Duration.ZERO);
  }

  @Test
  void shouldRefuseOneNameListedTwiceWithDifferentSettings() {
    // Given two descriptions of one topic that disagree on partitions
    Topic<String, String> three = topic("orders", 3, Map.of());
    Topic<String, String> six = topic("orders", 6, Map.of());

    // When the bootstrap is asked to ensure both
    // Then it refuses before contacting the cluster, naming the topic
    assertThatThrownBy(() -> new TopicBootstrap(unreachable).ensure(List.of(three, six)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'orders' is listed twice");
  }

  @Test
  void shouldDoNothingForNoTopics() {
    // When the bootstrap is asked to ensure no topics
    TopicBootstrap.Result result = new TopicBootstrap(unreachable).ensure(List.of());

    // Then it reports nothing, without contacting the cluster
    assertThat(result.created()).isEmpty();
    assertThat(result.alreadyPresent()).isEmpty();
    assertThat(result.consistent()).isTrue();
  }

  @Test
  void shouldRefuseANonPositiveTimeout() {
    assertThatThrownBy(() -> new TopicBootstrap(unreachable, Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("timeout");
  }

  @Test
  void shouldDescribeTheOutcomeOneFactALine() {
    // Given a result with creations, present topics and two mismatches
    TopicBootstrap.Result result = new TopicBootstrap.Result(
        List.of("flywheel.labels", "flywheel.features"),
        List.of("flywheel.predictions"),
        List.of(new TopicBootstrap.Mismatch("flywheel.predictions", "partitions", "3", "1"),
            new TopicBootstrap.Mismatch("flywheel.predictions", "retention.ms", "2592000000",
                "604800000")));

    // When it is described
    String text = result.describe();

    // Then a person reads what happened and what differs
    assertThat(text).isEqualTo("""
        created 2 topics: flywheel.labels, flywheel.features
        1 topic already present: flywheel.predictions
        2 differences from the catalogue (existing topics are never changed):
          flywheel.predictions: partitions is 1, the catalogue expects 3
          flywheel.predictions: retention.ms is 604800000, the catalogue expects 2592000000""");
    assertThat(result).hasToString(text);
    assertThat(result.consistent()).isFalse();
  }

  @Test
  void shouldSayWhenEverythingAgrees() {
    TopicBootstrap.Result result =
        new TopicBootstrap.Result(List.of(), List.of("flywheel.labels"), List.of());

    assertThat(result.describe()).isEqualTo("""
        created no topics
        1 topic already present: flywheel.labels
        every existing topic agrees with the catalogue""");
  }

  @Test
  void shouldCompareCleanupPoliciesAsSetsAndOtherConfigsAsText() {
    assertThat(TopicConfigs.sameValue("cleanup.policy", "compact,delete", "delete, compact"))
        .isTrue();
    assertThat(TopicConfigs.sameValue("cleanup.policy", "compact", "delete")).isFalse();
    assertThat(TopicConfigs.sameValue("retention.ms", "-1", "-1")).isTrue();
    assertThat(TopicConfigs.sameValue("retention.ms", "-1", "604800000")).isFalse();
    assertThat(TopicConfigs.sameValue("retention.ms", "-1", null)).isFalse();
  }

  private static Topic<String, String> topic(String name, int partitions,
      Map<String, String> configs) {
    return new Topic<>(name, Serdes.String(), Serdes.String(), partitions, (short) 1, configs);
  }
}
