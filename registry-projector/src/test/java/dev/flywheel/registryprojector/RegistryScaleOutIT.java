package dev.flywheel.registryprojector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.events.RegistryCommand;
import dev.flywheel.topics.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.TaskMetadata;
import org.apache.kafka.streams.ThreadMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two registry instances share the application id and so the command partitions: each decides
 * the models of its partitions. Either answers for every model, its own from its store and the
 * other's from the audit log it follows; and when one stops, the other decides and answers alone.
 */
@WithDevstack
class RegistryScaleOutIT {

  private static final List<String> MODELS = IntStream.rangeClosed(1, 8)
      .mapToObj(i -> "model-" + i).toList();
  private static final Map<String, Object> SESSION = Map.of("session.timeout.ms", 6000,
      "heartbeat.interval.ms", 1500);

  @TempDir Path dirA;
  @TempDir Path dirB;

  @Test
  void shouldAnswerForEveryModelOnEitherInstanceAndGoOnAloneWhenOneStops(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given two registry instances with one application id, each owning some command partitions
    RunningRegistry a = RunningRegistry.onDevstack(devstack, names, "", dirA, SESSION);
    RunningRegistry b = RunningRegistry.onDevstack(devstack, names, "", dirB, SESSION);
    String bootstrap = a.bootstrap();
    Topics topics = a.topics();
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> !owned(a, topics).isEmpty()
          && !owned(b, topics).isEmpty());

      // When every model gets a version, promoted to champion
      for (String model : MODELS) {
        send(bootstrap, topics, model, Fixtures.register(model + "-1", 0.8));
        send(bootstrap, topics, model, Fixtures.promote("champion", 1));
      }

      // Then each instance answers for every model, those the other decides included
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
        for (RunningRegistry r : List.of(a, b)) {
          for (String model : MODELS) {
            assertThat(r.get("/models/" + model + "/aliases/champion"))
                .as("champion of %s on port %d", model, r.port())
                .startsWith("200 ").contains("\"version\":1");
          }
          assertThat(r.get("/models")).contains(MODELS.stream()
              .map(m -> "\"model\":\"" + m + "\"").toArray(String[]::new));
        }
      });
      // and a model the instance does not know is still a 404 on either
      assertThat(a.get("/models/no-such-model")).startsWith("404 ");
      assertThat(b.get("/models/no-such-model")).startsWith("404 ");

      // When one instance stops, and every model gets a second version
      b.close();
      await().atMost(Duration.ofSeconds(60)).until(() -> owned(a, topics).size()
          == topics.registryCommands().partitions());
      for (String model : MODELS) {
        send(bootstrap, topics, model, Fixtures.register(model + "-2", 0.9));
      }

      // Then the other decides them all and answers for every model from its own store
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
        for (String model : MODELS) {
          assertThat(a.get("/models/" + model + "/versions/2")).as(model).startsWith("200 ");
        }
      });
    } finally {
      a.close();
      b.close();
    }
  }

  private static void send(String bootstrap, Topics topics, String model,
      RegistryCommand command) {
    KafkaSupport.send(bootstrap, topics.registryCommands(), model,
        Fixtures.forModel(model, command));
  }

  /** The command partitions the instance's active tasks hold now. */
  private static Set<Integer> owned(RunningRegistry r, Topics topics) {
    KafkaStreams streams = r.service().kafkaStreams().orElseThrow();
    Set<Integer> out = new HashSet<>();
    if (streams.state() != KafkaStreams.State.RUNNING) {
      return out;
    }
    for (ThreadMetadata thread : streams.metadataForLocalThreads()) {
      for (TaskMetadata task : thread.activeTasks()) {
        task.topicPartitions().stream()
            .filter(tp -> tp.topic().equals(topics.registryCommands().name()))
            .forEach(tp -> out.add(tp.partition()));
      }
    }
    return out;
  }
}
