package dev.flywheel.registryprojector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.events.CommandOutcome;
import dev.flywheel.events.ModelEvent;
import dev.flywheel.events.ModelRegistryState;
import dev.flywheel.events.RegistryCommand;
import dev.flywheel.events.VersionStatus;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * On a real broker, whose producers refuse a record over {@code max.request.size}: a model whose
 * state would outgrow a record no longer fails the registry's task on every retry (which stopped
 * the registry for every model); the registration that would is rejected, and the registry goes on
 * deciding.
 */
@WithDevstack
class RegistryStateSizeIT {

  /** A small limit, so that a few dozen realistic versions reach it. */
  private static final int MAX_REQUEST_SIZE = 64 * 1024;

  @TempDir Path stateDir;

  @Test
  void shouldRejectTheRegistrationThatWouldOutgrowARecordAndGoOnDeciding(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given a registry whose producers take records of at most 64 KiB
    try (RunningRegistry registry = RunningRegistry.onDevstack(devstack, names, "", stateDir,
        Map.of(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, MAX_REQUEST_SIZE))) {
      String bootstrap = registry.bootstrap();
      Topics topics = registry.topics();

      // When 60 realistic versions of one model are registered, then a version of another
      register60(registry, Fixtures.forModel("churn",
          Fixtures.command(Fixtures.registration("churn-1", 0.8))));

      // Then every command is decided: the registrations past the limit are rejected, saying
      // why, and the other model's registration after them is accepted
      await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
        List<ModelEvent> events = KafkaSupport.readAll(bootstrap, topics.modelEvents()).stream()
            .map(ConsumerRecord::value).toList();
        assertThat(events).hasSize(61);
        assertThat(events).filteredOn(e -> e.getModel().equals("churn")).singleElement()
            .satisfies(e -> assertThat(e.getOutcome()).isEqualTo(CommandOutcome.ACCEPTED));
        assertThat(events).filteredOn(e -> e.getOutcome() == CommandOutcome.REJECTED)
            .isNotEmpty().allSatisfy(e -> assertThat(e.getReason())
                .contains("model '" + Fixtures.MODEL + "' would take", "max.request.size"));
      });
      // and the registry is running (its client state may lag the thread that decided), and its
      // state topic holds the versions that fit
      await().atMost(Duration.ofSeconds(30)).until(() -> registry.service().kafkaStreams()
          .orElseThrow().state() == KafkaStreams.State.RUNNING);
      List<ModelRegistryState> states = KafkaSupport.readAll(bootstrap, topics.registryState())
          .stream().map(ConsumerRecord::value)
          .filter(s -> s != null && s.getModel().equals(Fixtures.MODEL)).toList();
      assertThat(states.get(states.size() - 1).getVersions()).hasSizeBetween(40, 59);
    }
  }

  @Test
  void shouldAcceptEveryVersionWhenOnlyTheNewestAreHeldInFullAndServeEachInFull(
      Devstack devstack, UniqueNames names) throws Exception {
    // Given the same 64 KiB limit, and a registry that holds a model's 5 newest versions in full,
    // with its query API
    try (RunningRegistry registry = RunningRegistry.onDevstack(devstack, names,
        "stateVersions: 5", stateDir,
        Map.of(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, MAX_REQUEST_SIZE))) {
      String bootstrap = registry.bootstrap();
      Topics topics = registry.topics();
      // When 60 realistic versions are registered, and the third is archived afterwards
      register60(registry, Fixtures.archive(3));

      // Then every command is accepted
      await().atMost(Duration.ofSeconds(90)).untilAsserted(() ->
          assertThat(KafkaSupport.readAll(bootstrap, topics.modelEvents()))
              .hasSize(61).allSatisfy(r -> assertThat(r.value().getOutcome())
                  .isEqualTo(CommandOutcome.ACCEPTED)));
      // and the state topic's record holds 5 versions in full and lists the other 55
      List<ModelRegistryState> states = KafkaSupport.readAll(bootstrap, topics.registryState())
          .stream().map(ConsumerRecord::value).toList();
      ModelRegistryState last = states.get(states.size() - 1);
      assertThat(last.getVersions()).hasSize(5);
      assertThat(last.getOlderVersions()).hasSize(55);
      assertThat(last.getOlderVersions().get(2).getStatus()).isEqualTo(VersionStatus.ARCHIVED);
      // and the API serves a listed version in full, and counts them all (once the registry is
      // running: its store answers queries only then)
      await().atMost(Duration.ofSeconds(30)).until(() -> registry.service().kafkaStreams()
          .orElseThrow().state() == KafkaStreams.State.RUNNING);
      String v3 = registry.get("/models/" + Fixtures.MODEL + "/versions/3");
      assertThat(v3).startsWith("200 ").contains("\"status\":\"ARCHIVED\"", "run-3",
          "max_depth", "amount_mean_7d");
      assertThat(registry.get("/models")).contains("\"versions\":60");
      assertThat(registry.get("/models/" + Fixtures.MODEL + "/versions"))
          .contains("run-1\"", "run-60\"");
    }
  }

  /** Sends 60 realistic registrations of {@link Fixtures#MODEL}, then {@code then}. */
  private static void register60(RunningRegistry registry, RegistryCommand then)
      throws Exception {
    Topic<String, RegistryCommand> commands = registry.topics().registryCommands();
    try (KafkaProducer<String, RegistryCommand> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, registry.bootstrap()),
        commands.keySerde().serializer(), commands.valueSerde().serializer())) {
      for (int n = 1; n <= 60; n++) {
        producer.send(new ProducerRecord<>(commands.name(), Fixtures.MODEL,
            Fixtures.command(RegistryStateSizeTest.realistic(n))));
      }
      producer.send(new ProducerRecord<>(commands.name(), then.getModel(), then)).get();
    }
  }
}
