package dev.flywheel.systemtests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.EmbeddedKafka;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.devstack.junit.WrittenRecords;
import dev.flywheel.driftdetector.DriftDetectorService;
import dev.flywheel.driftdetector.config.DriftDetectorConfig;
import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.ModelEvent;
import dev.flywheel.events.Prediction;
import dev.flywheel.events.RegistryCommand;
import dev.flywheel.events.RunStatus;
import dev.flywheel.featurestreams.FeatureStreamsConfig;
import dev.flywheel.featurestreams.FeatureStreamsService;
import dev.flywheel.registryprojector.RegistryConfig;
import dev.flywheel.registryprojector.RegistryProjectorService;
import dev.flywheel.registryprojector.TrainingRunRegistrar;
import dev.flywheel.servingsink.ServingSinkConfig;
import dev.flywheel.servingsink.ServingSinkService;
import dev.flywheel.trainingtrigger.TrainingTriggerService;
import dev.flywheel.trainingtrigger.config.TrainingTriggerConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The broker stopped and started again (same port, same log directory) while producers, the
 * feature engine, serving, drift-detector, training-trigger and the registry projector run:
 * nobody is restarted or told, and when the broker is back the feature log and the prediction log,
 * read_committed, hold exactly one record per transaction, the drift windows count each
 * prediction once, each training request has exactly one run, and the registry's audit log holds
 * one decision per command. The last 600 of the 2,000 transactions, and their registry commands,
 * are sent only once the broker is down, so the outage always lands mid-stream. The broker comes back at once; after 15 s down, longer
 * than the 10 s transaction timeout Kafka Streams gives its producers under exactly-once
 * (feature-streams, drift-detector, training-trigger), so a transaction open at the stop may be
 * aborted by its coordinator when the broker is back; and after 65 s down, longer than serving's
 * 60 s too. After 65 s the training runs are not counted: a run whose dataset read spans the
 * outage fails its attempt (the read times out after 60 s), and this test allows one attempt per
 * run so that it can count them exactly.
 */
@WithDevstack
class BrokerRestartIT {

  private static final int TRANSACTIONS = 2000;
  private static final int CHUNK = 100;
  /** Registry commands, sent alongside the transactions: ten with each chunk. */
  private static final int COMMANDS = 200;
  private static final String REGISTRY_MODEL = "restart-registry-model";
  /** Transactions from this one on (and their commands) are sent only once the broker is down. */
  private static final int HELD_FROM = 1400;
  private static final int DRIFT_WINDOW = 500;
  /** Models trained on request: three asked for before the broker stops, three after. */
  private static final List<String> TRAINED = Loop.models("restart-trained", 6);
  private static final int TRAINED_BEFORE_STOP = 3;
  private static final AtomicInteger SENT = new AtomicInteger();

  @TempDir Path dir;

  /**
   * How long the broker stays down, in seconds: 0, 15 and 65, or the comma-separated list of the
   * system property {@code flywheel.brokerOutages} (e.g. {@code 130} for an outage longer than the
   * processors' 120 s {@code delivery.timeout.ms}, which is too long to run on every build).
   */
  static IntStream outages() {
    return Arrays.stream(System.getProperty("flywheel.brokerOutages", "0,15,65").split(","))
        .map(String::trim).mapToInt(Integer::parseInt);
  }

  @ParameterizedTest(name = "the broker down for {0} s")
  @MethodSource("outages")
  void shouldLoseAndDuplicateNothingWhenTheBrokerRestartsUnderLoad(int downSeconds,
      Devstack devstack, UniqueNames names) throws Exception {
    SENT.set(0);
    boolean runsCounted = downSeconds < 60;
    // Given the model promoted, a label for every transaction to come, and the feature engine,
    // serving, drift-detector and training-trigger running
    Loop loop = new Loop(devstack, names, dir).createTopics().registerSource();
    loop.send(loop.topics.modelPromoted(), Loop.MODEL,
        loop.promoted(1, loop.writeModel(dir.resolve("models"), 1)));
    loop.produceLabels(0, TRANSACTIONS);
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    Map<String, Object> kafka = new HashMap<>(Loop.FAST_GROUP);
    kafka.put("bootstrap.servers", devstack.bootstrapServers());
    Map<String, String> requests = new LinkedHashMap<>();
    List<RegistryCommand> commands = IntStream.range(0, COMMANDS)
        .mapToObj(i -> Loop.registerVersion(REGISTRY_MODEL, "restart-cmd-" + i, i)).toList();
    CountDownLatch brokerStopped = new CountDownLatch(1);
    try (FeatureStreamsService features = FeatureStreamsService.builder()
            .config(FeatureStreamsConfig.load(loop.featuresYaml()))
            .bootstrapServers(devstack.bootstrapServers())
            .schemaRegistryUrl(devstack.schemaRegistryUrl())
            .topicPrefix(names.prefix())
            .applicationId(names.applicationId("features"))
            .stateDir(Files.createDirectories(dir.resolve("features-state")))
            .kafka(Loop.FAST_GROUP).meterRegistry(meters).build().start();
        ServingSinkService serving = ServingSinkService.builder()
            .config(ServingSinkConfig.load(loop.servingYaml("a")))
            .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers()))
            .kafka(Loop.FAST_GROUP).topics(loop.topics).meters(meters).build().start();
        DriftDetectorService drift = DriftDetectorService.builder()
            .config(DriftDetectorConfig.load(loop.driftYaml(DRIFT_WINDOW)))
            .kafka(kafka).schemaRegistryUrl(devstack.schemaRegistryUrl())
            .topics(loop.topics).serdes(loop.serdes)
            .stateDir(Files.createDirectories(dir.resolve("drift-state")))
            .meterRegistry(meters).build().start();
        TrainingTriggerService training = TrainingTriggerService.builder()
            .config(TrainingTriggerConfig.load(loop.trainingYaml(TRAINED)))
            .kafka(kafka).schemaRegistryUrl(devstack.schemaRegistryUrl())
            .topics(loop.topics).meterRegistry(meters).build().start();
        RegistryProjectorService registry = RegistryProjectorService.builder()
            .config(RegistryConfig.load(loop.registryYaml())).kafka(kafka).serdes(loop.serdes)
            .topics(loop.topics).stateDir(Files.createDirectories(dir.resolve("registry-state")))
            .build().start();
        WrittenRecords predicted = loop.written(loop.topics.predictions().name());
        WrittenRecords runs = loop.written(loop.topics.trainingRuns().name())) {
      // and drift-detector holding the promotion
      loop.awaitDriftHoldsPromotion();
      // and producers sending transactions and registry commands, paced by what serving has
      // scored so far, the last 600 transactions only once the broker is down
      CompletableFuture<Void> producing = CompletableFuture.runAsync(() ->
          produceAlongside(loop, predicted, commands, brokerStopped));
      // and three training requests once vectors are on the log
      await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(100))
          .until(() -> predicted.count() >= TRANSACTIONS / 10);
      requests.putAll(loop.requestTraining(TRAINED.subList(0, TRAINED_BEFORE_STOP)));

      // When the broker stops a third of the way through, a training run started, and starts
      // again
      await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(100))
          .until(() -> predicted.count() >= TRANSACTIONS / 3 && runs.count() >= 1);
      EmbeddedKafka broker = devstack.kafka();
      int port = broker.port();
      broker.outage(Duration.ofSeconds(downSeconds), () -> {
        brokerStopped.countDown();
        System.out.println("broker stopped after " + SENT.get() + " transactions were sent and "
            + runs.count() + " training run events written; down for " + downSeconds + " s");
      });
      assertThat(broker.port()).isEqualTo(port);
      // and three more training requests arrive
      requests.putAll(loop.requestTraining(TRAINED.subList(TRAINED_BEFORE_STOP,
          TRAINED.size())));

      // Then every transaction is sent, and has one vector and one prediction, without anyone
      // restarting a processor
      producing.get(3, TimeUnit.MINUTES);
      // (each part named, with its processor's health, so that a wait that runs out says which
      // processor fell behind and why)
      await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(2))
          .untilAsserted(() -> {
            long completedRuns = loop.completedRuns();
            SoftAssertions progress = new SoftAssertions();
            progress.assertThat(loop.readCommitted(loop.topics.features()).size())
                .as("feature vectors (feature-streams: %s)",
                    features.healthProblem().orElse("healthy"))
                .isGreaterThanOrEqualTo(TRANSACTIONS);
            progress.assertThat(loop.readCommitted(loop.topics.predictions()).size())
                .as("predictions (serving: %s)", serving.healthProblem().orElse("healthy"))
                .isGreaterThanOrEqualTo(TRANSACTIONS);
            progress.assertThat(loop.readCommitted(loop.topics.driftReports()).size())
                .as("drift reports (drift-detector: %s)", drift.healthProblem().orElse("healthy"))
                .isGreaterThanOrEqualTo(TRANSACTIONS / DRIFT_WINDOW);
            if (runsCounted) {
              progress.assertThat(completedRuns).as("completed runs (training-trigger)")
                  .isGreaterThanOrEqualTo(TRAINED.size());
            }
            progress.assertThat((long) loop.readCommitted(loop.topics.modelEvents()).size())
                .as("model events (registry-projector: %s)",
                    registry.healthProblem().orElse("healthy"))
                .isGreaterThanOrEqualTo(COMMANDS + completedRuns);
            progress.assertAll();
          });
    }
    Set<String> truth = IntStream.range(0, TRANSACTIONS).mapToObj(Loop::eventId)
        .collect(Collectors.toSet());
    List<FeatureVector> vectors = loop.readCommitted(loop.topics.features());
    assertThat(vectors).hasSize(TRANSACTIONS);
    assertThat(vectors.stream().map(FeatureVector::getEventId).collect(Collectors.toSet()))
        .isEqualTo(truth);
    List<Prediction> predictions = loop.readCommitted(loop.topics.predictions());
    assertThat(predictions).hasSize(TRANSACTIONS);
    assertThat(predictions.stream().map(Prediction::getEventId).collect(Collectors.toSet()))
        .isEqualTo(truth);
    // and drift-detector counted every prediction once: 4 windows of exactly 500
    loop.assertDriftCountedEveryPredictionOnce(TRANSACTIONS, DRIFT_WINDOW);
    // and training-trigger started and completed exactly one run per request (6)
    if (runsCounted) {
      loop.assertTrainedOncePerRequest(requests);
    }
    // and the registry's audit log holds exactly one decision per command: each one sent, and
    // the registration of completed runs (of each one, when the runs were waited for; after 65 s
    // a run may complete after the projector stopped)
    Set<String> completed = loop.readCommitted(loop.topics.trainingRuns()).stream()
        .filter(r -> r.getStatus() == RunStatus.COMPLETED)
        .map(TrainingRunRegistrar::commandId)
        .collect(Collectors.toSet());
    List<String> decided = loop.readCommitted(loop.topics.modelEvents()).stream()
        .map(ModelEvent::getCommandId).toList();
    assertThat(decided).doesNotHaveDuplicates();
    List<String> registrations = decided.stream()
        .filter(id -> id.startsWith(TrainingRunRegistrar.COMMAND_ID_PREFIX)).toList();
    assertThat(decided).hasSize(COMMANDS + registrations.size())
        .containsAll(commands.stream().map(RegistryCommand::getEventId).toList());
    if (runsCounted) {
      assertThat(registrations).containsExactlyInAnyOrderElementsOf(completed);
    } else {
      assertThat(completed).containsAll(registrations);
    }
  }

  /**
   * Sends the transactions in chunks of 100, each once serving is at most 300 behind, and ten
   * registry commands with each chunk. The chunks from 1,400 on wait for the broker to stop,
   * so the producers are still sending when it goes away; they retry for up to five minutes, as
   * idempotent producers do, without duplicates.
   */
  private static void produceAlongside(Loop loop, WrittenRecords predicted,
      List<RegistryCommand> commands, CountDownLatch brokerStopped) {
    Map<String, Object> config = new HashMap<>(loop.producerConfig());
    config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 300_000);
    config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 300_000);
    int commandsPerChunk = COMMANDS / (TRANSACTIONS / CHUNK);
    try (KafkaProducer<String, GenericRecord> producer = new KafkaProducer<>(config,
            loop.data().keySerde().serializer(), loop.data().valueSerde().serializer());
        KafkaProducer<String, RegistryCommand> commandProducer = new KafkaProducer<>(config,
            loop.topics.registryCommands().keySerde().serializer(),
            loop.topics.registryCommands().valueSerde().serializer())) {
      List<Future<RecordMetadata>> sent = new ArrayList<>();
      for (int from = 0; from < TRANSACTIONS; from += CHUNK) {
        int upTo = from;
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(50))
            .until(() -> predicted.count() >= upTo - 3 * CHUNK);
        if (from >= HELD_FROM) {
          await().atMost(Duration.ofMinutes(3)).until(() -> brokerStopped.getCount() == 0);
        }
        for (int i = from; i < from + CHUNK; i++) {
          sent.add(producer.send(new ProducerRecord<>(loop.data().name(), null,
              loop.timeMs(i), Loop.card(i), loop.transaction(i))));
          SENT.incrementAndGet();
        }
        int chunk = from / CHUNK;
        for (RegistryCommand c : commands.subList(chunk * commandsPerChunk,
            (chunk + 1) * commandsPerChunk)) {
          sent.add(commandProducer.send(new ProducerRecord<>(
              loop.topics.registryCommands().name(), c.getModel(), c)));
        }
      }
      producer.flush();
      commandProducer.flush();
      for (Future<RecordMetadata> f : sent) {
        f.get(); // throws if a transaction or command was not delivered
      }
    } catch (InterruptedException | ExecutionException e) {
      throw new IllegalStateException("a transaction or command was not delivered", e);
    }
  }
}
