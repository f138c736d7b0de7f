package dev.flywheel.trainingtrigger;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import dev.flywheel.trainingtrigger.config.TrainingTriggerConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@WithDevstack
class TrainingTriggerPartitionsIT {

  @TempDir Path dir;

  @Test
  void shouldRefuseToStartWhenTheRequestsTopicHasAnotherPartitionCountThanTheCatalogue(
      Devstack devstack, UniqueNames names) throws Exception {
    // Given a catalogue of 3 partitions, and the requests topic created before with 2
    Topics topics = Topics.builder(AvroSerdes.fromConfig(Map.of("schema.registry.url",
        devstack.schemaRegistryUrl()))).prefix(names.prefix()).partitions(3).build();
    String requests = topics.trainingRequests().name();
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", devstack.bootstrapServers()))) {
      admin.createTopics(List.of(new NewTopic(requests, 2, (short) 1))).all()
          .get(30, TimeUnit.SECONDS);
    }
    TrainingTriggerConfig config = TrainingTriggerConfig.parse("""
        models:
          - name: fraud-detector
            featureGroup: card_activity
        """ + ItSupport.serviceSection(dir, names.applicationId("tt")), "test");
    // When the service starts
    // Then it refuses, naming the topic, both counts and what to do
    assertThatThrownBy(() -> TrainingTriggerService.builder().config(config)
        .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers()))
        .schemaRegistryUrl(devstack.schemaRegistryUrl()).topics(topics).build().start())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("topic " + requests + " has 2 partition(s) but the topic"
            + " catalogue has 3")
        .hasMessageContaining("kafka-topics.sh --alter --topic " + requests + " --partitions 3");
  }
}
