package dev.flywheel.registryprojector;

import static dev.flywheel.registryprojector.Fixtures.approve;
import static dev.flywheel.registryprojector.Fixtures.archive;
import static dev.flywheel.registryprojector.Fixtures.human;
import static dev.flywheel.registryprojector.Fixtures.promote;
import static dev.flywheel.registryprojector.Fixtures.register;
import static dev.flywheel.registryprojector.Fixtures.rollback;
import static dev.flywheel.registryprojector.Fixtures.setAlias;
import static dev.flywheel.registryprojector.Fixtures.tags;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.events.ModelEvent;
import dev.flywheel.events.RegistryCommand;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Delete the state directory, restart, and the registry rebuilt from Kafka (the store from its
 * changelog, the history from the audit log) answers every query byte for byte as before, and
 * goes on deciding from where it was.
 */
@WithDevstack
class RegistryReplayIT {

  private static final List<String> MODELS = List.of("fraud-detector", "churn");
  /** Quick failure detection, so a restart on the same application id rebalances quickly. */
  private static final Map<String, Object> SESSION = Map.of("session.timeout.ms", 6000,
      "heartbeat.interval.ms", 1500);

  @TempDir Path stateDir;

  @Test
  void shouldAnswerByteForByteAfterTheStateDirectoryIsDeleted(Devstack devstack,
      UniqueNames names) throws Exception {
    AvroSerdes serdes = AvroSerdes.fromConfig(
        Map.of("schema.registry.url", devstack.schemaRegistryUrl()));
    Topics topics = Topics.builder(serdes).prefix(names.prefix()).build();
    RegistryConfig config = RegistryConfig.parse("""
        registry: {applicationId: %s}
        models:
          - name: fraud-detector
            policy:
              gates: ["auc >= 0.75"]
              beatChampion: {metric: auc, margin: 0.01}
              approvals: {production: [risk-approver]}
              autoPromote: [champion]
        """.formatted(names.applicationId("registry")));
    String bootstrap = devstack.bootstrapServers();

    // Given a registry that decided a mixed history for two models
    RunningRegistry before = RunningRegistry.start(config, serdes, topics, bootstrap,
        stateDir, SESSION);
    int sent = 0;
    for (RegistryCommand c : scenario("fraud-detector")) {
      KafkaSupport.send(bootstrap, topics.registryCommands(), c.getModel(), c);
      sent++;
    }
    for (RegistryCommand c : scenario("churn")) {
      KafkaSupport.send(bootstrap, topics.registryCommands(), c.getModel(), c);
      sent++;
    }
    int commands = sent;
    await().atMost(Duration.ofSeconds(90)).until(() -> decided(bootstrap, topics) == commands);
    RegistryCommand last = command("churn",
        tags(null, Map.of("after", "restart"), List.of()).getCommand());
    await().atMost(Duration.ofSeconds(60)).until(() -> before.service().historyCaughtUp()
        && before.service().history().size() == eventCount(bootstrap, topics));
    // (every answer read once the store answers queries: a 503 would be the baseline otherwise)
    Map<String, String> answers = await().atMost(Duration.ofSeconds(60))
        .until(() -> answers(before), a -> a.values().stream().noneMatch(v -> v.startsWith("503")));
    assertThat(answers.get("/models")).contains("fraud-detector").contains("churn");
    before.close();

    // When the state directory is deleted and the registry restarts on the same application id
    deleteRecursively(stateDir);
    RunningRegistry after = RunningRegistry.start(config, serdes, topics, bootstrap,
        stateDir, SESSION);
    try {
      // Then every answer of the query API is the same, byte for byte
      await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
          .untilAsserted(() -> assertThat(answers(after)).isEqualTo(answers));
      // And it decides on from the restored state: an old command id changes nothing, a new
      // command continues the sequence
      long eventsBefore = eventCount(bootstrap, topics);
      RegistryCommand repeated = scenario("churn").get(0);
      KafkaSupport.send(bootstrap, topics.registryCommands(), "churn", repeated);
      KafkaSupport.send(bootstrap, topics.registryCommands(), "churn", last);
      List<ModelEvent> churn = await().atMost(Duration.ofSeconds(60)).until(() ->
          events(bootstrap, topics, "churn"), list -> list.stream()
              .anyMatch(e -> e.getCommandId().equals(last.getEventId())));
      assertThat(eventCount(bootstrap, topics)).isEqualTo(eventsBefore + 1);
      assertThat(churn.get(churn.size() - 1).getSequence()).isEqualTo(churn.size());
    } finally {
      after.close();
    }
  }

  private static List<RegistryCommand> scenario(String model) {
    List<RegistryCommand> commands = List.of(
        command(model, register(model + "-a", 0.80).getCommand()),
        command(model, register(model + "-b", 0.70).getCommand()),
        command(model, register(model + "-c", 0.90).getCommand()),
        command(model, promote("production", 3).getCommand()),
        command(model, approve(human("rita", "risk-approver"), "production", 3).getCommand(),
            human("rita", "risk-approver")),
        command(model, promote("production", 3).getCommand()),
        command(model, setAlias("staging", 2).getCommand()),
        command(model, rollback("champion", null).getCommand()),
        command(model, archive(1).getCommand()),
        command(model, tags(3, Map.of("reviewed", "yes"), List.of()).getCommand()));
    for (int i = 0; i < commands.size(); i++) {
      commands.get(i).setEventId("replay-" + model + "-" + i);
    }
    return commands;
  }

  private static RegistryCommand command(String model, Object body) {
    return command(model, body, Fixtures.alice());
  }

  private static RegistryCommand command(String model, Object body,
      dev.flywheel.events.Actor actor) {
    RegistryCommand c = Fixtures.command("replay-" + model + "-"
        + Integer.toHexString(System.identityHashCode(body)), actor, body);
    c.setModel(model);
    return c;
  }

  private static long decided(String bootstrap, Topics topics) {
    return KafkaSupport.readAll(bootstrap, topics.modelEvents()).stream()
        .map(ConsumerRecord::value).filter(e -> e.getCausedBy() == null).count();
  }

  private static long eventCount(String bootstrap, Topics topics) {
    return KafkaSupport.readAll(bootstrap, topics.modelEvents()).size();
  }

  private static List<ModelEvent> events(String bootstrap, Topics topics, String model) {
    return KafkaSupport.readAll(bootstrap, topics.modelEvents()).stream()
        .map(ConsumerRecord::value).filter(e -> e.getModel().equals(model)).toList();
  }

  private static Map<String, String> answers(RunningRegistry registry)
      throws IOException, InterruptedException {
    Map<String, String> out = new LinkedHashMap<>();
    out.put("/models", registry.get("/models"));
    for (String m : MODELS) {
      for (String path : List.of("", "/versions", "/versions/3", "/aliases", "/history",
          "/versions/3/card", "/versions/3/card?format=markdown", "/aliases/production")) {
        out.put("/models/" + m + path, registry.get("/models/" + m + path));
      }
    }
    return out;
  }

  private static void deleteRecursively(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).filter(p -> !p.equals(dir))
          .forEach(p -> p.toFile().delete());
    }
    try (Stream<Path> left = Files.list(dir)) {
      assertThat(left).isEmpty();
    }
  }
}
