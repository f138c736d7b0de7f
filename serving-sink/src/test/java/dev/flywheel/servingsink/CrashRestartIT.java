package dev.flywheel.servingsink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.ChildProcesses;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.ModelArtifact;
import dev.flywheel.events.ModelFormat;
import dev.flywheel.events.Prediction;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.servingsink.model.ServedModel;
import dev.flywheel.servingsink.model.ServedModels;
import dev.flywheel.topics.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ServingSinkMain} in a child JVM, killed without close ({@code destroyForcibly}) while it
 * scores; v2 is promoted while it is down; a new incarnation with the same instance id serves v2
 * as soon as it has started, before it scores anything, and the prediction log, read committed,
 * holds exactly one prediction per feature vector.
 */
@WithDevstack
class CrashRestartIT {

  /** Vectors sent before the kill; the others are sent while the service is down. */
  private static final int BEFORE_KILL = 3000;
  private static final int AFTER_KILL = 2000;
  /** A killed member leaves the group after 6 s (the broker's minimum), not 45 s. */
  private static final Map<String, Object> FAST_GROUP =
      Map.of("session.timeout.ms", 6000, "heartbeat.interval.ms", 1500);

  @TempDir
  Path dir;

  @RegisterExtension final ChildProcesses children = new ChildProcesses();

  @Test
  void shouldServeTheCurrentChampionAfterAKillAndScoreEveryVectorExactlyOnce(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given v1 promoted, 3000 feature vectors, and the service running in its own JVM
    AvroSerdes serdes = AvroSerdes.fromConfig(
        Map.of("schema.registry.url", devstack.schemaRegistryUrl()));
    Topics topics = Topics.builder(serdes).prefix(names.prefix()).build();
    Kafka.createTopics(devstack, topics);
    ModelArtifact v1 = TestModels.artifact(TestModels.writeXgboost(dir.resolve("a"), 1, 0.5),
        ModelFormat.XGBOOST);
    ModelArtifact v2 = TestModels.artifact(TestModels.writeXgboost(dir.resolve("a"), 2, 1.5),
        ModelFormat.XGBOOST);
    Kafka.send(devstack, topics.modelPromoted(), "fraud", TestModels.promoted("fraud",
        "champion", 1, v1, TestModels.signature(TestModels.FEATURES)));
    produce(devstack, topics, 0, BEFORE_KILL);
    String applicationId = names.applicationId("serving");
    Path yaml = dir.resolve("flywheel.yaml");
    Files.writeString(yaml, String.join("\n",
        "kafka:",
        "  topicPrefix: ignored-by-serving",
        "servingSink:",
        "  applicationId: " + applicationId,
        "  instanceId: instance-a",
        "  startFrom: earliest",
        "  maxBatch: 50",
        "  featureGroups:",
        "    " + TestModels.GROUP + ": [" + String.join(", ", TestModels.FEATURES) + "]",
        ""));
    Process child = child(devstack, names, yaml);

    // When it is killed without close part of the way through
    await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200))
        .until(() -> Kafka.readAll(devstack, topics.predictions()).size() >= BEFORE_KILL / 4);
    child.destroyForcibly().waitFor();
    // (once a commit the child asked for just before it died has its markers written: what it
    // committed is then all visible)
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", devstack.bootstrapServers()))) {
      String transactionalId = applicationId + "-instance-a";
      await().atMost(Duration.ofSeconds(30)).until(() -> !EnumSet.of(
          TransactionState.PREPARE_COMMIT, TransactionState.PREPARE_ABORT).contains(
              Kafka.transactionState(admin, transactionalId)));
    }
    List<Prediction> beforeRestart = Kafka.readAll(devstack, topics.predictions());
    System.out.println("killed with " + beforeRestart.size() + " of " + BEFORE_KILL
        + " vectors scored (committed)");
    assertThat(beforeRestart).allSatisfy(p -> assertThat(p.getVersion()).isEqualTo(1));
    // and v2 is promoted, and more vectors arrive, while it is down
    Kafka.send(devstack, topics.modelPromoted(), "fraud", TestModels.promoted("fraud",
        "champion", 2, v2, TestModels.signature(TestModels.FEATURES)));
    produce(devstack, topics, BEFORE_KILL, AFTER_KILL);

    // and a new incarnation of the same instance starts
    ServingSinkConfig config = ServingSinkConfig.load(yaml);
    try (ServingSinkService restarted = ServingSinkService.builder().config(config)
        .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers()))
        .kafka(FAST_GROUP).topics(topics).meters(new SimpleMeterRegistry()).build().start()) {
      // Then it serves v2 as soon as start() returns
      ServedModel champion = restarted.served().get(new ServedModels.Key("fraud", "champion"));
      assertThat(champion.version()).isEqualTo(2);
      // and it scores everything that was not committed
      await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500)).until(() ->
          Kafka.readAll(devstack, topics.predictions()).size() >= BEFORE_KILL + AFTER_KILL);
    }
    List<Prediction> all = Kafka.readAll(devstack, topics.predictions());
    Map<String, Prediction> byEvent = all.stream().collect(Collectors.toMap(
        Prediction::getEventId, Function.identity()));
    assertThat(all).as("one prediction per vector, none twice").hasSize(BEFORE_KILL + AFTER_KILL);
    assertThat(byEvent).hasSize(BEFORE_KILL + AFTER_KILL);
    Set<String> scoredBeforeKill = beforeRestart.stream().map(Prediction::getEventId)
        .collect(Collectors.toSet());
    for (Prediction p : all) {
      assertThat(p.getVersion()).as(p.getEventId())
          .isEqualTo(scoredBeforeKill.contains(p.getEventId()) ? 1 : 2);
    }
  }

  private static void produce(Devstack devstack, Topics topics, int from, int count) {
    try (KafkaProducer<String, FeatureVector> producer = Kafka.producer(devstack,
        topics.features())) {
      for (int i = from; i < from + count; i++) {
        FeatureVector v = Kafka.vector(i);
        producer.send(new ProducerRecord<>(topics.features().name(), v.getEntityId(), v));
      }
      producer.flush();
    }
  }

  private Process child(Devstack devstack, UniqueNames names, Path yaml) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m",
        "-D" + ServingSinkMain.KAFKA_PROPERTY_PREFIX + "session.timeout.ms=6000",
        "-D" + ServingSinkMain.KAFKA_PROPERTY_PREFIX + "heartbeat.interval.ms=1500",
        "-cp", System.getProperty("java.class.path"),
        ServingSinkMain.class.getName(), yaml.toString());
    pb.environment().put("FLYWHEEL_BOOTSTRAP_SERVERS", devstack.bootstrapServers());
    pb.environment().put("FLYWHEEL_SCHEMA_REGISTRY_URL", devstack.schemaRegistryUrl());
    pb.environment().put("FLYWHEEL_TOPIC_PREFIX", names.prefix());
    pb.environment().put("FLYWHEEL_SERVING_PORT", "0");
    File log = dir.resolve("child.log").toFile();
    pb.redirectErrorStream(true).redirectOutput(log);
    Process process = pb.start();
    children.add(process);
    return process;
  }
}
