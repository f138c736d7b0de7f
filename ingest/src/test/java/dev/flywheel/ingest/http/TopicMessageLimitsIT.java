package dev.flywheel.ingest.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link TopicMessageLimits#of} reads what the broker checks a topic's record batches against. */
@WithDevstack
class TopicMessageLimitsIT {

  private Admin admin;
  private UniqueNames names;
  private TopicMessageLimits limits;

  @BeforeEach
  void connect(Devstack devstack, UniqueNames names) {
    this.names = names;
    admin = Admin.create(Map.of("bootstrap.servers", devstack.bootstrapServers()));
    limits = TopicMessageLimits.of(admin);
  }

  @AfterEach
  void close() {
    admin.close();
  }

  @Test
  void shouldReadATopicsOwnMaxMessageBytes() throws Exception {
    // Given a topic with its own max.message.bytes
    String topic = names.topic("own");
    admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1)
        .configs(Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, "4096")))).all().get();

    // When its limit is read
    // Then it is the topic's
    assertThat(limits.get(topic)).hasValue(4096);
  }

  @Test
  void shouldReadTheBrokersMessageMaxBytesForATopicWithoutItsOwn() throws Exception {
    // Given a topic without max.message.bytes of its own
    String topic = names.topic("default");
    admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();

    // When its limit is read
    // Then it is the broker's message.max.bytes, as the broker describes its own config
    Node broker = admin.describeCluster().nodes().get().iterator().next();
    ConfigResource brokerConfig = new ConfigResource(ConfigResource.Type.BROKER, broker.idString());
    int brokerDefault = Integer.parseInt(admin.describeConfigs(List.of(brokerConfig)).all().get()
        .get(brokerConfig).get("message.max.bytes").value());
    assertThat(limits.get(topic)).hasValue(brokerDefault);
  }

  @Test
  void shouldGoOnWithoutALimitForATopicKafkaCannotDescribe() {
    // Given a topic Kafka does not have
    String topic = names.topic("missing");

    // When its limit is read
    // Then it is unknown, without an error: the batch goes on and the broker decides
    assertThat(limits.get(topic)).isEmpty();
  }
}
