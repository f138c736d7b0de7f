package dev.flywheel.registryprojector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.events.CommandOutcome;
import dev.flywheel.events.ModelEvent;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.PromoteVersion;
import dev.flywheel.events.RegistryCommand;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exactly-once across a crash: the projector runs in its own JVM ({@link RegistryProjectorMain}),
 * is killed with SIGKILL (no close, no commit) while it works through a batch of commands, the
 * rest of the commands arrive while it is down, and it restarts on the same state directory.
 * Every command is then decided exactly once: one decision per command id, gap-free sequences,
 * one promotion per accepted alias move.
 */
@WithDevstack
class KillWithoutCloseIT {

  private static final int MODELS = 3;
  private static final int VERSIONS = 20;

  @TempDir Path dir;

  @Test
  void shouldDecideEveryCommandExactlyOnceAfterAKill(Devstack devstack, UniqueNames names)
      throws Exception {
    String bootstrap = devstack.bootstrapServers();
    AvroSerdes serdes = AvroSerdes.fromConfig(
        Map.of("schema.registry.url", devstack.schemaRegistryUrl()));
    Topics topics = Topics.builder(serdes).prefix(names.prefix()).build();
    String appId = names.applicationId("registry");
    Path yaml = dir.resolve("flywheel.yaml");
    Files.writeString(yaml, "registry: {applicationId: " + appId + ", port: 0}\n");
    Path stateDir = dir.resolve("state");

    // Given the projector running in its own JVM
    List<RegistryCommand> commands = commands();
    int beforeKill = commands.size() * 2 / 3;
    Process child = startChild(devstack, names, yaml, stateDir);
    try {
      // When it is killed without close while the first two thirds of the commands trickle in
      send(bootstrap, topics, commands.subList(0, 1), Duration.ZERO);
      await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(50))
          .until(() -> !KafkaSupport.readAll(bootstrap, topics.modelEvents()).isEmpty());
      CompletableFuture<Void> trickle = CompletableFuture.runAsync(() -> send(bootstrap, topics,
          commands.subList(1, beforeKill), Duration.ofMillis(25)));
      await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(50))
          .until(() -> KafkaSupport.readAll(bootstrap, topics.modelEvents()).size() >= 20);
      child.destroyForcibly();
      assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
      trickle.get(60, TimeUnit.SECONDS);
    } finally {
      child.destroyForcibly();
    }
    long decidedAtKill = KafkaSupport.readAll(bootstrap, topics.modelEvents()).size();
    System.out.println("killed after " + decidedAtKill + " of " + beforeKill
        + " commands were decided");
    // And the last third arrives while it is down
    send(bootstrap, topics, commands.subList(beforeKill, commands.size()), Duration.ZERO);

    // And it restarts on the same state directory
    try (RegistryProjectorService restarted = RegistryProjectorService.builder()
        .config(RegistryConfig.parse(Files.readString(yaml)))
        .kafka(Map.of("bootstrap.servers", bootstrap)).serdes(serdes).topics(topics)
        .stateDir(stateDir).build().start()) {
      int total = MODELS * VERSIONS * 2;
      List<ModelEvent> events = await().atMost(Duration.ofSeconds(120)).until(() ->
          KafkaSupport.readAll(bootstrap, topics.modelEvents()).stream()
              .map(ConsumerRecord::value).toList(), list -> list.size() >= total);

      // Then every command was decided exactly once
      assertThat(decidedAtKill).isLessThanOrEqualTo(beforeKill);
      Map<String, Long> perCommand = events.stream().collect(Collectors.groupingBy(
          ModelEvent::getCommandId, Collectors.counting()));
      assertThat(perCommand).hasSize(total).allSatisfy((id, n) -> assertThat(n).isEqualTo(1));
      // And every model's history is gap-free: 1, 2, ..., n
      Map<String, List<Long>> sequences = events.stream().collect(Collectors.groupingBy(
          ModelEvent::getModel, Collectors.mapping(ModelEvent::getSequence,
              Collectors.toList())));
      sequences.values().forEach(s -> assertThat(s).containsExactlyElementsOf(
          java.util.stream.LongStream.rangeClosed(1, s.size()).boxed().toList()));
      // And one ModelPromoted per accepted promotion, none twice
      long accepted = events.stream().filter(e -> e.getOutcome() == CommandOutcome.ACCEPTED
          && e.getCommand() instanceof PromoteVersion).count();
      List<ModelPromoted> promoted = KafkaSupport.readAll(bootstrap, topics.modelPromoted())
          .stream().map(ConsumerRecord::value).toList();
      assertThat(accepted).isEqualTo(MODELS * VERSIONS);
      assertThat(promoted).hasSize((int) accepted);
      assertThat(promoted.stream().map(ModelPromoted::getEventId).distinct()).hasSize(
          promoted.size());
    }
  }

  /** Sends {@code commands} in order, pausing {@code pause} after each. */
  private static void send(String bootstrap, Topics topics, List<RegistryCommand> commands,
      Duration pause) {
    try (KafkaProducer<String, RegistryCommand> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true, ProducerConfig.ACKS_CONFIG, "all",
        // one in flight: no batch overtakes a retried first one (KAFKA-15591)
        ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1),
        topics.registryCommands().keySerde().serializer(),
        topics.registryCommands().valueSerde().serializer())) {
      for (RegistryCommand c : commands) {
        producer.send(new ProducerRecord<>(topics.registryCommands().name(), c.getModel(), c));
        if (!pause.isZero()) {
          producer.flush();
          LockSupport.parkNanos(pause.toNanos());
        }
      }
      producer.flush();
    }
  }

  private static List<RegistryCommand> commands() {
    List<RegistryCommand> out = new ArrayList<>();
    for (int v = 1; v <= VERSIONS; v++) {
      for (int m = 0; m < MODELS; m++) {
        String model = "model-" + m;
        RegistryCommand register = Fixtures.command("kill-" + model + "-register-" + v,
            Fixtures.alice(), Fixtures.registration(model + "-" + v, 0.7 + v / 100.0));
        register.setModel(model);
        RegistryCommand promote = Fixtures.command("kill-" + model + "-promote-" + v,
            Fixtures.alice(), PromoteVersion.newBuilder().setAlias("champion").setVersion(v)
                .build());
        promote.setModel(model);
        out.add(register);
        out.add(promote);
      }
    }
    return out;
  }

  private static Process startChild(Devstack devstack, UniqueNames names, Path yaml,
      Path stateDir) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = List.of(java, "-cp", System.getProperty("java.class.path"),
        "-Dkafka.session.timeout.ms=6000",
        RegistryProjectorMain.class.getName(), yaml.toString());
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("FLYWHEEL_BOOTSTRAP_SERVERS", devstack.bootstrapServers());
    pb.environment().put("FLYWHEEL_SCHEMA_REGISTRY_URL", devstack.schemaRegistryUrl());
    pb.environment().put("FLYWHEEL_TOPIC_PREFIX", names.prefix());
    pb.environment().put("FLYWHEEL_STATE_DIR", stateDir.toString());
    pb.environment().put("FLYWHEEL_REGISTRY_PORT", "0");
    pb.redirectErrorStream(true);
    pb.redirectOutput(yaml.resolveSibling("child.log").toFile());
    return pb.start();
  }
}
