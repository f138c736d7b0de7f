package dev.flywheel.systemtests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.ChildProcesses;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.devstack.junit.WrittenRecords;
import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.ModelEvent;
import dev.flywheel.events.Prediction;
import dev.flywheel.events.RegistryCommand;
import dev.flywheel.events.RunStatus;
import dev.flywheel.events.TrainingRun;
import dev.flywheel.featurestreams.FeatureStreamsMain;
import dev.flywheel.registryprojector.TrainingRunRegistrar;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of one JVM running the feature engine, the registry projector, serving, drift-detector
 * and training-trigger (each by its own {@code main}, {@link ServicesMain}) in the middle of the
 * stream, then a restart of the same JVM on the same state: read_committed, the feature log, the
 * prediction log, the drift windows, the training runs and the registry's audit log hold exactly
 * the ground truth, nothing lost, nothing twice.
 */
@WithDevstack
class ProcessKillIT {

  private static final int TRANSACTIONS = 2000;
  private static final int CHUNK = 100;
  private static final int COMMANDS = 200;
  private static final String REGISTRY_MODEL = "kill-test-model";
  private static final int DRIFT_WINDOW = 500;
  /** Models trained on request: four asked for before the kill, two while the JVM is down. */
  private static final List<String> TRAINED = Loop.models("kill-trained", 6);
  private static final int TRAINED_BEFORE_KILL = 4;

  @TempDir Path dir;

  @RegisterExtension final ChildProcesses children = new ChildProcesses();

  @Test
  void shouldHoldExactlyTheGroundTruthAfterAKillNineMidStream(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given the source, the model promoted, a label for every transaction to come, 200 registry
    // commands waiting
    Loop loop = new Loop(devstack, names, dir).createTopics().registerSource();
    loop.send(loop.topics.modelPromoted(), Loop.MODEL,
        loop.promoted(1, loop.writeModel(dir.resolve("models"), 1)));
    loop.produceLabels(0, TRANSACTIONS);
    List<RegistryCommand> commands = IntStream.range(0, COMMANDS)
        .mapToObj(i -> Loop.registerVersion(REGISTRY_MODEL, "kill-cmd-" + i, i)).toList();
    loop.sendCommands(commands);
    Path state = Files.createDirectories(dir.resolve("state"));
    List<String> yamls = List.of(loop.featuresYaml().toString(),
        loop.registryYaml().toString(), loop.servingYaml("a").toString(),
        loop.driftYaml(DRIFT_WINDOW).toString(), loop.trainingYaml(TRAINED).toString());
    Map<String, String> requests = new LinkedHashMap<>();

    try (WrittenRecords predicted = loop.written(loop.topics.predictions().name());
        WrittenRecords runs = loop.written(loop.topics.trainingRuns().name())) {
      // and the JVM running the five services, its drift-detector holding the promotion
      Process first = services(loop, state, yamls, "first");
      loop.awaitDriftHoldsPromotion();
      // and 2000 transactions on their way, the producer keeping at most 300 ahead of serving;
      // the last quarter only once the JVM is down
      CountDownLatch killed = new CountDownLatch(1);
      CompletableFuture<Void> producing = CompletableFuture.runAsync(() ->
          loop.produceTransactionsPaced(TRANSACTIONS, CHUNK, predicted, TRANSACTIONS * 3 / 4,
              killed));
      // and four training requests once vectors are on the log
      await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(100))
          .until(() -> predicted.count() >= TRANSACTIONS / 10);
      requests.putAll(loop.requestTraining(TRAINED.subList(0, TRAINED_BEFORE_KILL)));

      // When the JVM is killed without close a quarter of the way in, a training run started
      await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(100))
          .until(() -> predicted.count() >= TRANSACTIONS / 4 && runs.count() >= 1);
      first.destroyForcibly().waitFor();
      killed.countDown();
      int committedVectors = loop.readCommitted(loop.topics.features()).size();
      System.out.println("killed after " + predicted.count() + " predictions and "
          + runs.count() + " training run events (uncommitted); committed: " + committedVectors
          + " vectors, " + loop.readCommitted(loop.topics.driftReports()).size()
          + " drift windows, " + loop.completedRuns() + " completed runs");
      assertThat(committedVectors).as("vectors committed when killed").isLessThan(TRANSACTIONS);
      // and the last two training requests arrive while it is down
      requests.putAll(loop.requestTraining(TRAINED.subList(TRAINED_BEFORE_KILL,
          TRAINED.size())));

      // and it is started again on the same state, until it has caught up, then stopped
      Process second = services(loop, state, yamls, "second");
      producing.get(3, TimeUnit.MINUTES);
      await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500))
          .until(() -> loop.readCommitted(loop.topics.predictions()).size() >= TRANSACTIONS
              && loop.readCommitted(loop.topics.driftReports()).size()
                  >= TRANSACTIONS / DRIFT_WINDOW
              && loop.completedRuns() >= TRAINED.size()
              && loop.readCommitted(loop.topics.modelEvents()).size()
                  >= COMMANDS + TRAINED.size());
      second.destroy(); // SIGTERM: the services close, committing what they hold
      assertThat(second.waitFor(60, TimeUnit.SECONDS)).isTrue();
    }

    // Then the feature log holds exactly one vector per transaction
    Set<String> truth = IntStream.range(0, TRANSACTIONS).mapToObj(Loop::eventId)
        .collect(Collectors.toSet());
    List<FeatureVector> vectors = loop.readCommitted(loop.topics.features());
    assertThat(vectors).hasSize(TRANSACTIONS);
    assertThat(vectors.stream().map(FeatureVector::getEventId).collect(Collectors.toSet()))
        .isEqualTo(truth);
    // and the prediction log exactly one prediction per transaction
    List<Prediction> predictions = loop.readCommitted(loop.topics.predictions());
    assertThat(predictions).hasSize(TRANSACTIONS);
    assertThat(predictions.stream().map(Prediction::getEventId).collect(Collectors.toSet()))
        .isEqualTo(truth);
    // and drift-detector counted every prediction once: 4 windows of exactly 500
    loop.assertDriftCountedEveryPredictionOnce(TRANSACTIONS, DRIFT_WINDOW);
    // and training-trigger started and completed exactly one run per request (6)
    loop.assertTrainedOncePerRequest(requests);
    // and the audit log holds exactly one decision per command: the 200 sent, and the
    // registration of each completed run
    List<TrainingRun> completed = loop.readCommitted(loop.topics.trainingRuns()).stream()
        .filter(r -> r.getStatus() == RunStatus.COMPLETED).toList();
    List<ModelEvent> events = loop.readCommitted(loop.topics.modelEvents());
    assertThat(events).hasSize(COMMANDS + TRAINED.size());
    assertThat(events.stream().map(ModelEvent::getCommandId).collect(Collectors.toSet()))
        .isEqualTo(Stream.concat(commands.stream().map(RegistryCommand::getEventId),
                completed.stream().map(TrainingRunRegistrar::commandId))
            .collect(Collectors.toSet()));
  }

  private Process services(Loop loop, Path state, List<String> yamls, String label)
      throws Exception {
    Process p = loop.child(ServicesMain.class, label, Map.of(
            "FLYWHEEL_FEATURES_APPLICATION_ID", loop.names.applicationId("features"),
            "FLYWHEEL_STATE_DIR", state.toString(),
            "FLYWHEEL_REGISTRY_PORT", "0",
            "FLYWHEEL_SERVING_PORT", "0",
            "FLYWHEEL_TRAINING_PORT", "0",
            // training-trigger takes Kafka properties from the environment, the others from -D
            "FLYWHEEL_KAFKA_SESSION_TIMEOUT_MS", "6000",
            "FLYWHEEL_KAFKA_HEARTBEAT_INTERVAL_MS", "1500"),
        List.of("-Xmx384m", // five services, not three
            "-D" + FeatureStreamsMain.KAFKA_PROPERTY_PREFIX + "max.poll.records=50",
            // a killed member leaves its groups after 6 s (the broker's minimum), not 45 s
            "-D" + FeatureStreamsMain.KAFKA_PROPERTY_PREFIX + "session.timeout.ms=6000",
            "-D" + FeatureStreamsMain.KAFKA_PROPERTY_PREFIX + "heartbeat.interval.ms=1500",
            "-Dkafka.session.timeout.ms=6000", "-Dkafka.heartbeat.interval.ms=1500"),
        yamls.toArray(String[]::new));
    children.add(p);
    return p;
  }
}
