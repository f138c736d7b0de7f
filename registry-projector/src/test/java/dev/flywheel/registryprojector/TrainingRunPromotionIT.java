package dev.flywheel.registryprojector;

import static dev.flywheel.registryprojector.Fixtures.completedRun;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.events.CommandOutcome;
import dev.flywheel.events.ModelEvent;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.RegistryCommand;
import dev.flywheel.events.TrainingRun;
import dev.flywheel.registryprojector.cli.ModelsCommand;
import io.javalin.Javalin;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.DeadLetterHeaders;
import dev.flywheel.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The projector on the embedded broker: completed training runs on {@code flywheel.training.runs}
 * are registered and promoted when the policy allows it, and end in a rejected event naming the
 * gate when it does not; unusable commands go to the dead-letter topic.
 */
@WithDevstack
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TrainingRunPromotionIT {

  private static final String POLICY = """
      models:
        - name: %s
          policy:
            gates: ["auc >= 0.75"]
            autoPromote: [champion]
        - name: %s
          policy:
            gates: ["auc >= 0.75"]
            autoPromote: [champion]
        - name: cli-model
          policy:
            approvals: {production: [risk-approver]}
      registry:
        applicationId: %s
      """;

  // static: a PER_CLASS instance field is not injected yet when @BeforeAll runs, and the
  // projector then fell back to /tmp/kafka-streams, where an earlier run's state lingered
  @TempDir static Path stateDir;
  private Devstack devstack;
  private Topics topics;
  private RegistryProjectorService service;
  private Javalin http;
  private String prefix;

  @BeforeAll
  void start(Devstack devstack) {
    this.devstack = devstack;
    UniqueNames names = UniqueNames.of("TrainingRunPromotionIT");
    AvroSerdes serdes = AvroSerdes.fromConfig(
        Map.of("schema.registry.url", devstack.schemaRegistryUrl()));
    topics = Topics.builder(serdes).prefix(names.prefix()).build();
    prefix = names.prefix();
    RegistryConfig config = RegistryConfig.parse(POLICY.formatted("good-model", "weak-model",
        names.applicationId("registry")));
    service = RegistryProjectorService.builder().config(config)
        .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers())).serdes(serdes)
        .topics(topics).stateDir(stateDir).build().start();
    http = Javalin.create(c -> {
      c.startup.showJavalinBanner = false;
      c.jetty.host = "127.0.0.1";
      c.jetty.port = 0;
      service.routes(c.routes);
    }).start();
  }

  @AfterAll
  void stop() {
    http.stop();
    service.close();
  }

  @Test
  void shouldPromoteListShowAndRefuseThroughTheCli() {
    // Given version 1 of cli-model registered
    RegistryCommand register = Fixtures.command("cli-register-1", Fixtures.alice(),
        Fixtures.registration("cli-1", 0.88));
    register.setModel("cli-model");
    KafkaSupport.send(devstack.bootstrapServers(), topics.registryCommands(), "cli-model",
        register);
    await().atMost(Duration.ofSeconds(60)).until(() -> cli("show", "cli-model").exit() == 0);
    // When it is promoted to champion from the CLI
    Cli promote = cli("promote", "cli-model", "1", "--alias", "champion", "--actor", "alice",
        "--reason", "best auc so far");
    // Then the command is accepted and the CLI says so
    assertThat(promote.exit()).as(promote.err()).isZero();
    assertThat(promote.out()).startsWith("ACCEPTED PromoteVersion champion v1: best auc so far");
    // And list, history and the Markdown card show it
    assertThat(cli("list").out()).containsPattern("cli-model\\s+1\\s+v1\\s+champion=v1");
    assertThat(cli("history", "cli-model").out()).contains("alice")
        .contains("ACCEPTED PromoteVersion champion v1");
    assertThat(cli("show", "cli-model", "1", "--markdown").out()).startsWith("# cli-model v1\n")
        .contains("| auc | 0.88 |");
    // And an approval without the role is refused with exit 4 and the reason
    Cli approve = cli("approve", "cli-model", "1", "--alias", "production", "--actor", "bob",
        "--role", "ml-engineer");
    assertThat(approve.exit()).isEqualTo(ModelsCommand.EXIT_REJECTED);
    assertThat(approve.out()).contains("REJECTED ApproveVersion production v1: bob holds roles"
        + " [ml-engineer] but decisions on production for cli-model need one of"
        + " [risk-approver]");
    // And an unknown model is exit 3
    assertThat(cli("show", "no-such-model").exit()).isEqualTo(3);
  }

  private record Cli(int exit, String out, String err) {}

  private Cli cli(String... args) {
    java.io.StringWriter out = new java.io.StringWriter();
    java.io.StringWriter err = new java.io.StringWriter();
    java.util.List<String> all = new java.util.ArrayList<>(java.util.List.of(args));
    all.addAll(java.util.List.of("--url", "http://127.0.0.1:" + http.port(),
        "--bootstrap-servers", devstack.bootstrapServers(),
        "--schema-registry-url", devstack.schemaRegistryUrl(), "--prefix", prefix));
    int exit = new picocli.CommandLine(new ModelsCommand())
        .setOut(new java.io.PrintWriter(out, true)).setErr(new java.io.PrintWriter(err, true))
        .execute(all.toArray(String[]::new));
    return new Cli(exit, out.toString(), err.toString());
  }

  @Test
  void shouldPromoteACompletedRunThatPassesThePolicy() {
    // Given a policy auc >= 0.75 with automatic promotion to champion
    // When a completed run with auc 0.91 arrives on the training-run topic
    TrainingRun run = completedRun("run-good", "good-model", 0.91);
    KafkaSupport.send(devstack.bootstrapServers(), topics.trainingRuns(), "run-good", run);
    String registration = "run:run-good/1/" + run.getStartedAt().toEpochMilli();
    // Then ModelPromoted says champion is version 1, with the run's artifact and metrics
    List<ModelPromoted> promoted = await().atMost(Duration.ofSeconds(60)).until(() ->
        KafkaSupport.readAll(devstack.bootstrapServers(), topics.modelPromoted()).stream()
            .map(ConsumerRecord::value).filter(p -> p.getModel().equals("good-model")).toList(),
        list -> !list.isEmpty());
    assertThat(promoted).singleElement().satisfies(p -> {
      assertThat(p.getAlias()).isEqualTo("champion");
      assertThat(p.getVersion()).isEqualTo(1);
      assertThat(p.getArtifact()).isEqualTo(Fixtures.artifact("run-good"));
      assertThat(p.getMetrics()).containsEntry("auc", 0.91);
      assertThat(p.getBaseline()).isEqualTo(Fixtures.baseline());
      assertThat(p.getLineage().getRunId()).isEqualTo("run-good");
      assertThat(p.getCommandId()).isEqualTo(registration + "/auto-promote/champion");
    });
    // And the registration is on the command log, the audit log and the state topic
    assertThat(KafkaSupport.readAll(devstack.bootstrapServers(), topics.registryCommands())
        .stream().map(ConsumerRecord::value).map(RegistryCommand::getEventId))
        .contains(registration);
    assertThat(KafkaSupport.readAll(devstack.bootstrapServers(), topics.registryState()).stream()
        .filter(r -> r.key().equals("good-model")).reduce((a, b) -> b).orElseThrow().value()
        .getAliases()).singleElement().satisfies(a -> assertThat(a.getVersion()).isEqualTo(1));
  }

  @Test
  void shouldRecordARejectedPromotionWhenTheRunFailsTheGate() {
    // When a completed run with auc 0.61 arrives
    KafkaSupport.send(devstack.bootstrapServers(), topics.trainingRuns(), "run-weak",
        completedRun("run-weak", "weak-model", 0.61));
    // Then the version is registered and the automatic promotion is rejected naming the gate
    List<ModelEvent> events = await().atMost(Duration.ofSeconds(60)).until(() ->
        KafkaSupport.readAll(devstack.bootstrapServers(), topics.modelEvents()).stream()
            .map(ConsumerRecord::value).filter(e -> e.getModel().equals("weak-model")).toList(),
        list -> list.size() >= 2);
    assertThat(events).extracting(ModelEvent::getOutcome)
        .containsExactly(CommandOutcome.ACCEPTED, CommandOutcome.REJECTED);
    assertThat(events.get(1).getFailedGate()).isEqualTo("auc >= 0.75");
    assertThat(events.get(1).getReason()).contains("auc is 0.61");
    // And nothing was promoted for it
    assertThat(KafkaSupport.readAll(devstack.bootstrapServers(), topics.modelPromoted()).stream()
        .map(ConsumerRecord::value).filter(p -> p.getModel().equals("weak-model"))).isEmpty();
  }

  @Test
  void shouldSendACommandKeyedByAnotherModelToTheDeadLetterTopic() {
    // When a command for good-model is keyed by another name
    RegistryCommand misrouted = Fixtures.command("misrouted-1", Fixtures.alice(),
        Fixtures.registration("dlq", 0.9));
    misrouted.setModel("good-model");
    KafkaSupport.send(devstack.bootstrapServers(), topics.registryCommands(), "bad-key",
        misrouted);
    // Then it lands on flywheel.registry.commands.dlq with the reason and its origin
    String dlq = topics.dlq(topics.registryCommands()).name();
    ConsumerRecord<byte[], byte[]> letter = await().atMost(Duration.ofSeconds(60)).until(() ->
        KafkaSupport.readAllBytes(devstack.bootstrapServers(), dlq).stream()
            .filter(r -> "bad-key".equals(new String(r.key(), StandardCharsets.UTF_8)))
            .findFirst().orElse(null), r -> r != null);
    assertThat(header(letter, DeadLetterHeaders.ERROR)).contains("is for model 'good-model' but"
        + " keyed 'bad-key'; key commands by model name");
    assertThat(header(letter, DeadLetterHeaders.ORIGIN))
        .startsWith(topics.registryCommands().name() + "/");
    // And the projector carried on
    assertThat(service.healthProblem()).isEmpty();
  }

  private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
    return new String(r.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
  }
}
