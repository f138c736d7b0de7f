package dev.flywheel.trainingtrigger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.events.ActorKind;
import dev.flywheel.events.TrainingRequested;
import dev.flywheel.events.TriggerKind;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.Topics;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

@WithDevstack
class TrainCommandIT {

  @TempDir Path dir;

  @Test
  void shouldWriteAManualRequestWithReasonActorAndParams(Devstack devstack, UniqueNames names)
      throws Exception {
    // Given the platform's topics and a flywheel.yaml declaring the model
    Topics topics = Topics.builder(AvroSerdes.fromConfig(Map.of("schema.registry.url",
        devstack.schemaRegistryUrl()))).prefix(names.prefix()).build();
    ItSupport.createTopics(devstack, topics);
    Path yaml = dir.resolve("flywheel.yaml");
    Files.writeString(yaml, "models:\n  - {name: fraud-detector, featureGroup: card_activity}\n");
    StringWriter out = new StringWriter();
    // When
    int status = new CommandLine(new TrainCommand()).setOut(new PrintWriter(out)).execute(
        "fraud-detector", "--reason", "new merchant features", "-p", "max_depth=8",
        "--actor", "alice", "--config", yaml.toString(),
        "--bootstrap-servers", devstack.bootstrapServers(),
        "--schema-registry-url", devstack.schemaRegistryUrl(), "--prefix", names.prefix());
    // Then
    assertThat(status).isZero();
    assertThat(out.toString()).contains("requested training of fraud-detector");
    Topic<String, TrainingRequested> t = topics.trainingRequests();
    List<ConsumerRecord<String, TrainingRequested>> records = ItSupport.readAll(devstack,
        t.name(), t.valueSerde().deserializer());
    assertThat(records).singleElement().satisfies(r -> {
      assertThat(r.key()).isEqualTo("fraud-detector");
      assertThat(r.value().getReason().getKind()).isEqualTo(TriggerKind.MANUAL);
      assertThat(r.value().getReason().getDetail()).isEqualTo("new merchant features");
      assertThat(r.value().getActor().getName()).isEqualTo("alice");
      assertThat(r.value().getActor().getKind()).isEqualTo(ActorKind.HUMAN);
      assertThat(r.value().getParams()).containsEntry("max_depth", "8");
    });
  }

  @Test
  void shouldRefuseAModelTheConfigDoesNotDeclareWithExitStatus2() throws Exception {
    // Given
    Path yaml = dir.resolve("flywheel.yaml");
    Files.writeString(yaml, "models:\n  - {name: fraud-detector, featureGroup: card_activity}\n");
    StringWriter err = new StringWriter();
    // When
    int status = new CommandLine(new TrainCommand()).setErr(new PrintWriter(err)).execute(
        "fraud", "--config", yaml.toString(), "--bootstrap-servers", "127.0.0.1:1");
    // Then
    assertThat(status).isEqualTo(2);
    assertThat(err.toString()).contains("no model 'fraud'").contains("[fraud-detector]");
  }
}
