package dev.flywheel.trainingtrigger.executor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import dev.flywheel.devstack.junit.LogLines;
import dev.flywheel.events.ExecutorKind;
import dev.flywheel.events.ModelFormat;
import dev.flywheel.events.ModelLineage;
import dev.flywheel.events.RunStatus;
import dev.flywheel.events.TrainingRun;
import dev.flywheel.registry.InMemorySchemaRegistryClient;
import dev.flywheel.registry.SchemaRegistryException;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.RecordSize;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.Topics;
import dev.flywheel.trainingtrigger.SyntheticData;
import dev.flywheel.trainingtrigger.TestDatasets;
import dev.flywheel.trainingtrigger.artifact.LocalArtifactStore;
import dev.flywheel.trainingtrigger.config.ExecutorSpec;
import dev.flywheel.trainingtrigger.config.ModelSpec;
import dev.flywheel.trainingtrigger.config.TrainingSpec;
import dev.flywheel.trainingtrigger.coordination.CoordinatorProcessor;
import dev.flywheel.trainingtrigger.dataset.Dataset;
import dev.flywheel.trainingtrigger.training.TrainingOutput;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the worker does when an attempt's outcome event cannot be written, with Kafka's {@link
 * MockConsumer} and a {@link MockProducer} that refuses, as {@code KafkaProducer} does, a record
 * larger than its {@code max.request.size}: an outcome refused for good is replaced by a FAILED
 * event (and the model and dataset files a refused COMPLETED named are deleted), one that fails
 * for a while is written again, and an attempt none of whose events can be written is given up
 * and reported.
 */
class RunWorkerOutcomeTest {

  private static final String RUN = "fraud-1";
  private static final Instant STARTED_AT = Instant.parse("2026-11-24T01:00:00Z");
  /** What the test trainer writes as its model. */
  private static final String MODEL_BYTES = "weights";

  @TempDir Path dir;

  private Topic<String, TrainingRun> runs;
  private TopicPartition tp;
  private LimitedProducer producer;
  private MockConsumer<String, byte[]> consumer;
  private final Deque<MockConsumer<String, byte[]>> consumers = new ArrayDeque<>();
  private RunWorker worker;

  @BeforeEach
  void setUp() {
    runs = Topics.builder(new AvroSerdes(new InMemorySchemaRegistryClient(), Map.of()))
        .partitions(1).build().trainingRuns();
    tp = new TopicPartition(runs.name(), 0);
    producer = new LimitedProducer(RecordSize.maxRequestSize(Map.of()));
    consumer = consumer();
  }

  @AfterEach
  void tearDown() {
    if (worker != null) {
      worker.close();
    }
  }

  @Test
  void shouldWriteAFailedOutcomeSayingWhatToDoWhenTheCompletedEventIsTooLarge() throws Exception {
    // Given a trainer whose result names so many metrics that the COMPLETED event is over the
    // producer's max.request.size (1 MiB), and its attempt STARTED
    ModelSpec spec = model();
    prepareDataset(spec);
    TrainingExecutor trainer = trainer(60_000);

    // When the worker executes the attempt
    start(spec, trainer);
    consumer.schedulePollTask(() -> {
      consumer.rebalance(List.of(tp));
      consumer.addRecord(record(0, started(spec.name())));
    });

    // Then the COMPLETED is refused, and a FAILED of the same attempt is written in its place,
    // with the attempt's deterministic FAILED event id and an error saying what to do
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(producer.history())
        .singleElement().satisfies(r -> {
          TrainingRun failed = r.value();
          assertThat(failed.getStatus()).isEqualTo(RunStatus.FAILED);
          assertThat(failed.getEventId())
              .isEqualTo(CoordinatorProcessor.eventId(RUN, 1, RunStatus.FAILED));
          assertThat(failed.getAttempt()).isEqualTo(1);
          assertThat(failed.getError())
              .contains("its COMPLETED event could not be written to " + runs.name())
              .contains("RecordTooLargeException").contains("bytes serialized")
              .contains("max.request.size").contains("FLYWHEEL_KAFKA_MAX_REQUEST_SIZE")
              .contains("fewer metrics").contains("Not retried");
          assertThat(failed.getRetriable()).as("retriable").isFalse();
          assertThat(failed.getMetrics()).isEmpty();
          assertThat(failed.getArtifact()).isNull();
        }));
    assertThat(producer.refused).extracting(r -> r.value().getStatus())
        .containsExactly(RunStatus.COMPLETED);
    // And the worker moves on: the attempt is finished, its offset committed, and it is healthy
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
        consumer.committed(Set.of(tp))).extractingByKey(tp)
        .extracting(OffsetAndMetadata::offset).isEqualTo(1L));
    assertThat(worker.activeRuns()).isZero();
    assertThat(worker.healthy()).isTrue();
  }

  @Test
  void shouldDeleteTheModelFileItStoredWhenItsCompletedIsRefusedAndAFailedIsWrittenInItsPlace()
      throws Exception {
    // Given a trainer whose COMPLETED event is over the producer's max.request.size
    ModelSpec spec = model();
    prepareDataset(spec);

    // When the worker executes the attempt, and writes a FAILED in place of the COMPLETED
    execute(spec, trainer(60_000));
    awaitOffsetCommitted(1L);
    assertThat(producer.history()).extracting(r -> r.value().getStatus())
        .containsExactly(RunStatus.FAILED);

    // Then the model file the attempt stored, which only the refused COMPLETED named, is deleted
    assertThat(producer.refused).extracting(r -> r.value().getStatus())
        .containsExactly(RunStatus.COMPLETED);
    Path model = modelFile(producer.refused.get(0).value());
    assertThat(model).startsWithRaw(dir.resolve("artifacts")).doesNotExist();
  }

  @Test
  void shouldKeepTheModelFileWhenItsCompletedIsWritten() throws Exception {
    // Given a trainer whose COMPLETED event fits
    ModelSpec spec = model();
    prepareDataset(spec);

    // When the worker executes the attempt and writes its COMPLETED
    execute(spec, trainer(3));
    awaitOffsetCommitted(1L);

    // Then the model file the COMPLETED names is in the artifact store
    assertThat(producer.history()).singleElement().satisfies(r -> {
      assertThat(r.value().getStatus()).isEqualTo(RunStatus.COMPLETED);
      assertThat(modelFile(r.value())).hasContent(MODEL_BYTES);
    });
  }

  @Test
  void shouldKeepAModelFileTheStoreHeldAlreadyWhenItsCompletedIsRefused() throws Exception {
    // Given the artifact store holds the bytes the trainer will make (another run's model, which
    // a registered version may name), and a trainer whose COMPLETED event is too large
    ModelSpec spec = model();
    prepareDataset(spec);
    String earlier = new LocalArtifactStore(dir.resolve("artifacts"))
        .put(MODEL_BYTES.getBytes(StandardCharsets.UTF_8)).uri();

    // When the worker executes the attempt, and writes a FAILED in place of the COMPLETED
    execute(spec, trainer(60_000));
    awaitOffsetCommitted(1L);
    assertThat(producer.history()).extracting(r -> r.value().getStatus())
        .containsExactly(RunStatus.FAILED);

    // Then the file is kept: the attempt did not store it
    assertThat(producer.refused.get(0).value().getArtifact().getUri()).isEqualTo(earlier);
    assertThat(modelFile(producer.refused.get(0).value())).hasContent(MODEL_BYTES);
  }

  @Test
  void shouldDeleteTheDatasetFileItStoredWhenItsCompletedIsRefusedAndAFailedIsWrittenInItsPlace()
      throws Exception {
    // Given the attempt's dataset, which the artifact store does not hold yet (the attempt
    // stores it), and a trainer whose COMPLETED event is over the producer's max.request.size
    ModelSpec spec = model();
    Path dataset = prepareDataset(spec);
    Files.delete(dataset);

    // When the worker executes the attempt, and writes a FAILED in place of the COMPLETED
    execute(spec, trainer(60_000));
    awaitOffsetCommitted(1L);
    assertThat(producer.history()).extracting(r -> r.value().getStatus())
        .containsExactly(RunStatus.FAILED);

    // Then the dataset file the attempt stored, which only the refused COMPLETED named, is
    // deleted: the FAILED names no dataset, and is not retried
    assertThat(producer.history().get(0).value().getLineage().getDataset()).isNull();
    assertThat(datasetFile(producer.refused.get(0).value())).isEqualTo(dataset).doesNotExist();
  }

  @Test
  void shouldKeepADatasetFileTheStoreHeldAlreadyWhenItsCompletedIsRefused() throws Exception {
    // Given the artifact store holds the attempt's dataset already (stored by an earlier attempt
    // or run with the same rows, whose event may name it), and a trainer whose COMPLETED event
    // is too large
    ModelSpec spec = model();
    Path dataset = prepareDataset(spec);

    // When the worker executes the attempt, and writes a FAILED in place of the COMPLETED
    execute(spec, trainer(60_000));
    awaitOffsetCommitted(1L);
    assertThat(producer.history()).extracting(r -> r.value().getStatus())
        .containsExactly(RunStatus.FAILED);

    // Then the dataset file is kept: the attempt did not store it
    assertThat(datasetFile(producer.refused.get(0).value())).isEqualTo(dataset).exists();
  }

  @Test
  void shouldKeepTheDatasetFileItStoredWhenItsCompletedIsWritten() throws Exception {
    // Given the attempt's dataset, which the artifact store does not hold yet, and a trainer
    // whose COMPLETED event fits
    ModelSpec spec = model();
    Path dataset = prepareDataset(spec);
    Files.delete(dataset);

    // When the worker executes the attempt and writes its COMPLETED
    execute(spec, trainer(3));
    awaitOffsetCommitted(1L);

    // Then the dataset file the COMPLETED names as its lineage is in the artifact store
    assertThat(producer.history()).singleElement().satisfies(r -> {
      assertThat(r.value().getStatus()).isEqualTo(RunStatus.COMPLETED);
      assertThat(datasetFile(r.value())).isEqualTo(dataset).exists();
    });
  }

  @Test
  void shouldKeepTheModelFileWhenNeitherItsCompletedNorAFailedInItsPlaceCanBeWritten()
      throws Exception {
    // Given a producer whose serializer fails for good, and a trainer whose result fits
    ModelSpec spec = model();
    prepareDataset(spec);
    producer.failAll = new SerializationException("registering the schema failed",
        new SchemaRegistryException("incompatible", 409,
            SchemaRegistryException.INCOMPATIBLE_SCHEMA, "incompatible", null));

    // When the worker executes the attempt, and gives it up as neither event can be written
    execute(spec, trainer(3));
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      assertThat(worker.healthy()).isFalse();
      assertThat(worker.activeRuns()).isZero();
    });

    // Then the model file stays: the attempt runs again after a restart, and its COMPLETED may
    // be written then
    assertThat(producer.refused).extracting(r -> r.value().getStatus())
        .containsExactly(RunStatus.COMPLETED, RunStatus.FAILED);
    assertThat(modelFile(producer.refused.get(0).value())).hasContent(MODEL_BYTES);
  }

  @Test
  void shouldGiveUpReportUnhealthyAndHoldItsOffsetWhenNeitherTheOutcomeNorAFailedInItsPlaceCanBeWritten() {
    // Given a producer whose serializer fails for good (the registry refuses the schema), and a
    // STARTED attempt of a model no longer declared (its outcome is a FAILED at once)
    producer.failAll = new SerializationException("registering the schema failed",
        new SchemaRegistryException("incompatible", 409,
            SchemaRegistryException.INCOMPATIBLE_SCHEMA, "incompatible", null));
    try (LogLines log = LogLines.of(RunWorker.class)) {
      // When the worker executes the attempt
      start(null, null);
      consumer.schedulePollTask(() -> {
        consumer.rebalance(List.of(tp));
        consumer.addRecord(record(0, started("fraud")));
      });

      // Then it tries the FAILED, then the FAILED in its place, and gives up: its pool thread is
      // free, it reports itself unhealthy, and says why at ERROR
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
        assertThat(worker.healthy()).isFalse();
        assertThat(worker.activeRuns()).isZero();
      });
      assertThat(producer.refused).hasSize(2);
      assertThat(producer.history()).isEmpty();
      assertThat(log.count(Level.ERROR, "run fraud-1 attempt 1 of fraud: neither its FAILED"
          + " event")).isEqualTo(1);
      assertThat(log.contain("SerializationException")).isTrue();
      // and /health names the run, what was refused and what to fix
      assertThat(worker.problem()).hasValueSatisfying(problem -> assertThat(problem)
          .startsWith("run fraud-1 attempt 1 of fraud: neither its FAILED event")
          .contains("SerializationException")
          .contains("training-trigger restarted"));
    }

    // When the producer writes again, and a later attempt is STARTED after it
    producer.failAll = null;
    consumer.schedulePollTask(() -> consumer.addRecord(record(1, started("fraud", "fraud-2"))));

    // Then the later attempt is executed and its outcome written
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      assertThat(producer.history()).extracting(r -> r.value().getEventId())
          .containsExactly(CoordinatorProcessor.eventId("fraud-2", 1, RunStatus.FAILED));
      assertThat(worker.activeRuns()).isZero();
    });
    // And once the worker has been through a whole poll-and-commit cycle after it (the second of
    // two poll tasks runs only after the cycle of the first has committed), the offset committed
    // is still the given-up attempt's STARTED, not past the later one: it runs again after a
    // restart
    CountDownLatch cycled = new CountDownLatch(2);
    consumer.schedulePollTask(cycled::countDown);
    consumer.schedulePollTask(cycled::countDown);
    await().atMost(Duration.ofSeconds(30)).until(() -> cycled.getCount() == 0);
    assertThat(consumer.position(tp)).as("the worker's position").isEqualTo(2L);
    assertThat(consumer.committed(Set.of(tp))).extractingByKey(tp)
        .extracting(OffsetAndMetadata::offset).isEqualTo(0L);
    assertThat(worker.healthy()).isFalse();
  }

  @Test
  void shouldWriteTheOutcomeAgainAfterATransientError() {
    // Given a producer whose first send times out (the broker away)
    producer.failNext.add(new TimeoutException("Expiring 1 record(s) for " + runs.name()));

    // When the worker executes an attempt
    start(null, null);
    consumer.schedulePollTask(() -> {
      consumer.rebalance(List.of(tp));
      consumer.addRecord(record(0, started("fraud")));
    });

    // Then it writes the same outcome again, once, rather than one in its place
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(producer.history())
        .extracting(r -> r.value().getEventId())
        .containsExactly(CoordinatorProcessor.eventId(RUN, 1, RunStatus.FAILED)));
    assertThat(producer.refused).hasSize(1);
    assertThat(producer.history().get(0).value().getError()).contains("no longer declared");
    assertThat(worker.healthy()).isTrue();
  }

  @Test
  void shouldNotCommitPastAnAttemptWhoseOutcomeWasNotWrittenAsTheWorkerStopped()
      throws Exception {
    // Given a consumer that records what is committed and tells when the worker stops (and to
    // which the wakeup comes only after the worker's poll, as when it races the poll), and a
    // producer that holds the send of the outcome
    consumers.clear();
    List<Long> commits = new CopyOnWriteArrayList<>();
    CountDownLatch stopping = new CountDownLatch(1);
    MockConsumer<String, byte[]> recording = new PacedMockConsumer<>() {
      @Override
      public synchronized void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets,
          Duration timeout) {
        if (offsets.containsKey(tp)) {
          commits.add(offsets.get(tp).offset());
        }
        super.commitSync(offsets, timeout);
      }

      @Override
      public void wakeup() {
        stopping.countDown();
      }
    };
    recording.updateBeginningOffsets(Map.of(tp, 0L));
    recording.updateEndOffsets(Map.of(tp, 0L));
    consumers.add(recording);
    producer.hold = true;
    start(null, null);
    recording.schedulePollTask(() -> {
      recording.rebalance(List.of(tp));
      recording.addRecord(record(0, started("fraud")));
    });
    await().atMost(Duration.ofSeconds(30)).until(() -> !producer.held.isEmpty());

    // When the worker stops during a poll, and the held send fails while it stops, before that
    // poll ends
    CountDownLatch polling = new CountDownLatch(1);
    recording.schedulePollTask(() -> {
      polling.countDown();
      try {
        stopping.await(30, java.util.concurrent.TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      producer.held.remove().completeExceptionally(
          new TimeoutException("Expiring 1 record(s) for " + runs.name()));
      await().atMost(Duration.ofSeconds(30)).until(() -> worker.activeRuns() == 0);
    });
    assertThat(polling.await(30, java.util.concurrent.TimeUnit.SECONDS)).as("polling").isTrue();
    CompletableFuture<Void> closed = CompletableFuture.runAsync(worker::close);
    closed.get(60, java.util.concurrent.TimeUnit.SECONDS);

    // Then no outcome was written, and no offset past the attempt's STARTED was committed: it
    // runs again after the restart
    assertThat(producer.history()).isEmpty();
    assertThat(commits).isNotEmpty().allMatch(offset -> offset == 0L);
  }

  @Test
  void shouldExecuteAnAttemptWhoseRunIdAndAttemptAnOutcomeOfAnEarlierRunCarries() {
    // Given fraud-1 attempt 1 started and failed before the coordinator's state was reset, and
    // after the reset a new fraud-1 attempt 1, started later
    TrainingRun before = started("fraud");
    TrainingRun beforeFailed = RunReports.failed(before, null, ExecutorKind.COMMAND,
        "trainer crashed", STARTED_AT.plusSeconds(30));
    Instant later = STARTED_AT.plus(Duration.ofHours(1));
    TrainingRun after = TrainingRun.newBuilder(before).setEventTime(later).setStartedAt(later)
        .build();

    // When the worker reads the three events (its model no longer declared: the attempt fails)
    start(null, null);
    consumer.updateEndOffsets(Map.of(tp, 3L));
    consumer.schedulePollTask(() -> {
      consumer.rebalance(List.of(tp));
      consumer.addRecord(record(0, before));
      consumer.addRecord(record(1, beforeFailed));
      consumer.addRecord(record(2, after));
    });

    // Then the earlier run's FAILED does not drop the new attempt: it is executed and reported
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(producer.history())
        .singleElement().satisfies(r -> {
          assertThat(r.value().getStatus()).isEqualTo(RunStatus.FAILED);
          assertThat(r.value().getStartedAt()).isEqualTo(later);
        }));
    awaitOffsetCommitted(3L);
  }

  @Test
  void shouldTellTransientSendErrorsFromErrorsThatRefuseTheRecordForGood() {
    SchemaRegistryException registryAway = new SchemaRegistryException("no answer",
        SchemaRegistryException.NO_RESPONSE, SchemaRegistryException.NO_RESPONSE, null, null);
    SchemaRegistryException incompatible = new SchemaRegistryException("incompatible", 409,
        SchemaRegistryException.INCOMPATIBLE_SCHEMA, "incompatible", null);

    assertThat(RunWorker.transientSendError(new TimeoutException("expired"))).isTrue();
    assertThat(RunWorker.transientSendError(new java.util.concurrent.TimeoutException())).isTrue();
    assertThat(RunWorker.transientSendError(new SerializationException("registering failed",
        registryAway))).isTrue();
    assertThat(RunWorker.transientSendError(
        new TopicAuthorizationException(Set.of("t")))).isTrue();
    assertThat(RunWorker.transientSendError(
        new ClusterAuthorizationException("no IdempotentWrite"))).isFalse();

    assertThat(RunWorker.transientSendError(new RecordTooLargeException("too large"))).isFalse();
    assertThat(RunWorker.transientSendError(new InvalidRecordException("invalid"))).isFalse();
    assertThat(RunWorker.transientSendError(new SerializationException("registering failed",
        incompatible))).isFalse();
  }

  /** Starts the worker and has it read the STARTED attempt of {@code spec} at offset 0. */
  private void execute(ModelSpec spec, TrainingExecutor trainer) {
    start(spec, trainer);
    consumer.schedulePollTask(() -> {
      consumer.rebalance(List.of(tp));
      consumer.addRecord(record(0, started(spec.name())));
    });
  }

  /** Waits until the worker has committed {@code offset}: what came before it is finished. */
  private void awaitOffsetCommitted(long offset) {
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(
        consumer.committed(Set.of(tp))).extractingByKey(tp)
        .extracting(OffsetAndMetadata::offset).isEqualTo(offset));
  }

  /** The file of the artifact store that a COMPLETED event names as its model. */
  private static Path modelFile(TrainingRun completed) {
    return Path.of(URI.create(completed.getArtifact().getUri()));
  }

  /** The file of the artifact store that a COMPLETED event names as its dataset. */
  private static Path datasetFile(TrainingRun completed) {
    return Path.of(URI.create(completed.getLineage().getDataset().getUri()));
  }

  private void start(ModelSpec spec, TrainingExecutor trainer) {
    worker = TestWorkers.start(dir, spec == null ? List.of() : List.of(spec), consumers::remove,
        producer, runs, trainer == null ? Map.of() : Map.of(ExecutorSpec.Kind.COMMAND, trainer));
  }

  private static ModelSpec model() {
    ExecutorSpec exec = new ExecutorSpec(ExecutorSpec.Kind.COMMAND, Duration.ofMinutes(2),
        List.of("train"), null, Map.of(), null, null, null, null, null, null, null);
    return ModelSpec.of("fraud", SyntheticData.GROUP).withTarget(SyntheticData.TARGET)
        .withTraining(new TrainingSpec("linear-script", Map.of(), 0.2, 0.5, exec));
  }

  /**
   * The attempt's dataset in its work directory, as a build before a restart leaves it: the
   * worker reuses it instead of reading Kafka.
   *
   * @return its file in the artifact store
   */
  private Path prepareDataset(ModelSpec spec) throws Exception {
    Path work = RunWorker.attemptDir(dir.resolve("work"), started(spec.name()));
    Dataset dataset = TestDatasets.stored(new SyntheticData(400, 4, true, 5), spec,
        new LocalArtifactStore(dir.resolve("artifacts")), work);
    ByteBuffer lineage = dataset.lineage().toByteBuffer();
    byte[] bytes = new byte[lineage.remaining()];
    lineage.get(bytes);
    Files.write(work.resolve("dataset.lineage"), bytes);
    return Path.of(URI.create(dataset.lineage().getUri()));
  }

  /** A trainer whose result holds {@code metrics} metrics, its model {@link #MODEL_BYTES}. */
  private static TrainingExecutor trainer(int metrics) {
    return new TrainingExecutor() {
      @Override
      public ExecutorKind kind() {
        return ExecutorKind.COMMAND;
      }

      @Override
      public TrainingOutput execute(RunContext run) throws Exception {
        Path model = Files.writeString(run.workDir().resolve("model.onnx"), MODEL_BYTES,
            StandardCharsets.UTF_8);
        Map<String, Double> values = new TreeMap<>();
        for (int i = 0; i < metrics; i++) {
          values.put(String.format("class_%05d_recall", i), 0.5);
        }
        return new TrainingOutput(model, ModelFormat.ONNX, null, "linear-script", null,
            run.dataset().featureNames(), List.of(), values,
            new float[run.dataset().holdout().rows()], Map.of());
      }
    };
  }

  /** The next consumer: partition 0 of the runs topic from offset 0, as in the worker's tests. */
  private MockConsumer<String, byte[]> consumer() {
    MockConsumer<String, byte[]> c = new PacedMockConsumer<>();
    c.updateBeginningOffsets(Map.of(tp, 0L));
    c.updateEndOffsets(Map.of(tp, 0L));
    consumers.add(c);
    return c;
  }

  private ConsumerRecord<String, byte[]> record(long offset, TrainingRun run) {
    return new ConsumerRecord<>(runs.name(), 0, offset, run.getRunId(),
        runs.valueSerde().serializer().serialize(runs.name(), run));
  }

  private static TrainingRun started(String model) {
    return started(model, RUN);
  }

  /** The STARTED event of attempt 1 of run {@code runId} of {@code model}. */
  private static TrainingRun started(String model, String runId) {
    return TrainingRun.newBuilder().setEventId(runId + "/1/started").setEventTime(STARTED_AT)
        .setRunId(runId).setModel(model).setStatus(RunStatus.STARTED).setAttempt(1)
        .setStartedAt(STARTED_AT).setLineage(ModelLineage.newBuilder().setRunId(runId)
            .setReasons(List.of()).setTrainer("linear-script").setExecutor(ExecutorKind.COMMAND)
            .build())
        .setParams(Map.of()).build();
  }

  /**
   * A {@link MockProducer} that, as {@code KafkaProducer} does, fails the send of a record whose
   * size is over its {@code max.request.size} with {@link RecordTooLargeException}; it also fails
   * the sends {@link #failNext} lists, one each, and every send while {@link #failAll} is set.
   * A failed record is in {@link #refused}, not in the history; a held one is in neither.
   */
  private final class LimitedProducer extends MockProducer<String, TrainingRun> {

    final int maxRequestSize;
    final Queue<RuntimeException> failNext = new ConcurrentLinkedQueue<>();
    volatile RuntimeException failAll;
    /** While set, a send that would succeed is held instead: its future is in {@link #held}. */
    volatile boolean hold;
    final Queue<CompletableFuture<RecordMetadata>> held = new ConcurrentLinkedQueue<>();
    final List<ProducerRecord<String, TrainingRun>> refused = new CopyOnWriteArrayList<>();

    LimitedProducer(int maxRequestSize) {
      super(true, null, runs.keySerde().serializer(), runs.valueSerde().serializer());
      this.maxRequestSize = maxRequestSize;
    }

    @Override
    public synchronized Future<RecordMetadata> send(ProducerRecord<String, TrainingRun> record,
        Callback callback) {
      RuntimeException error = failAll != null ? failAll : failNext.poll();
      if (error == null) {
        byte[] key = runs.keySerde().serializer().serialize(record.topic(), record.key());
        byte[] value = runs.valueSerde().serializer().serialize(record.topic(), record.value());
        int size = RecordSize.upperBound(key, value, null);
        if (size > maxRequestSize) {
          error = new RecordTooLargeException("The message is " + size + " bytes when"
              + " serialized which is larger than " + maxRequestSize + ", which is the value of"
              + " the max.request.size configuration.");
        }
      }
      if (error != null) {
        refused.add(record);
        return CompletableFuture.failedFuture(error);
      }
      if (hold) {
        CompletableFuture<RecordMetadata> future = new CompletableFuture<>();
        held.add(future);
        return future;
      }
      return super.send(record, callback);
    }
  }
}
