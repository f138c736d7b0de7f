package dev.flywheel.trainingtrigger.executor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.events.ExecutorKind;
import dev.flywheel.events.ModelLineage;
import dev.flywheel.events.RunStatus;
import dev.flywheel.events.TrainingRun;
import dev.flywheel.registry.InMemorySchemaRegistryClient;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worker's consume loop on consumer errors, with Kafka's {@link MockConsumer}: it carries on
 * after a retriable error, subscribes a new consumer after any other, and executes runs again.
 * The runs are of a model the configuration does not declare, so each attempt's outcome is a
 * FAILED event written at once, without a dataset or an executor.
 */
class RunWorkerConsumerErrorTest {

  @TempDir Path dir;

  private Topic<String, TrainingRun> runs;
  private TopicPartition tp;
  private MockProducer<String, TrainingRun> producer;
  private final Deque<MockConsumer<String, byte[]>> consumers = new ArrayDeque<>();
  /** The timeout of each commit the worker made with one; a commit without one adds nothing. */
  private final List<Duration> commitTimeouts = new CopyOnWriteArrayList<>();
  private RunWorker worker;

  @BeforeEach
  void setUp() {
    Topics topics = Topics.builder(new AvroSerdes(new InMemorySchemaRegistryClient(), Map.of()))
        .partitions(1).build();
    runs = topics.trainingRuns();
    tp = new TopicPartition(runs.name(), 0);
    producer = new MockProducer<>(true, null, runs.keySerde().serializer(),
        runs.valueSerde().serializer());
  }

  @AfterEach
  void tearDown() {
    if (worker != null) {
      worker.close();
    }
  }

  @Test
  void shouldExecuteARunAfterACommitTimedOut() {
    // Given a consumer whose first commit times out (the group coordinator unreachable), and a
    // STARTED run that arrives after it
    AtomicBoolean coordinatorAway = new AtomicBoolean(true);
    MockConsumer<String, byte[]> consumer = consumer(coordinatorAway, true);
    consumer.schedulePollTask(() -> consumer.rebalance(List.of(tp)));
    consumer.schedulePollTask(() -> consumer.addRecord(started("fraud-1", 0)));

    // When the worker runs
    start();

    // Then it carries on: the run is executed and its offset committed once it is done
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      assertThat(outcomes()).containsExactly("fraud-1/1/FAILED");
      assertThat(consumer.committed(Set.of(tp))).extractingByKey(tp)
          .extracting(OffsetAndMetadata::offset).isEqualTo(1L);
    });
    assertThat(coordinatorAway).as("the commit failed once").isFalse();
    assertThat(worker.healthy()).isTrue();
  }

  @Test
  void shouldBoundEveryCommitByTheCommitTimeout() {
    // Given a consumer on which a STARTED run arrives
    MockConsumer<String, byte[]> consumer = consumer(new AtomicBoolean(), false);
    consumer.schedulePollTask(() -> {
      consumer.rebalance(List.of(tp));
      consumer.addRecord(started("fraud-1", 0));
    });

    // When the worker runs it and commits its offset
    start();
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
        consumer.committed(Set.of(tp))).extractingByKey(tp)
        .extracting(OffsetAndMetadata::offset).isEqualTo(1L));

    // Then every commit was bounded by COMMIT_TIMEOUT, not by the client's 60 s default
    assertThat(commitTimeouts).isNotEmpty().containsOnly(RunWorker.COMMIT_TIMEOUT);
  }

  @Test
  void shouldSubscribeANewConsumerAndExecuteARunAfterTheConsumerFailed() {
    // Given a consumer that fails for good after its assignment, and a next one on which a
    // STARTED run arrives
    MockConsumer<String, byte[]> broken = consumer(new AtomicBoolean(), false);
    broken.schedulePollTask(() -> {
      broken.rebalance(List.of(tp));
      broken.setPollException(new KafkaException("consumer in an unusable state"));
    });
    MockConsumer<String, byte[]> next = consumer(new AtomicBoolean(), false);
    next.schedulePollTask(() -> {
      next.rebalance(List.of(tp));
      next.addRecord(started("fraud-1", 0));
    });

    // When the worker runs
    start();

    // Then it closes the failed consumer, subscribes the next one and executes the run
    await().atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(outcomes()).containsExactly("fraud-1/1/FAILED"));
    assertThat(broken.closed()).isTrue();
    assertThat(next.subscription()).containsExactly(runs.name());
    assertThat(consumers).isEmpty();
  }

  @Test
  void shouldReportUnhealthyWhileCommitsFailAndHealthyOnceTheyWorkAgain() {
    // Given a consumer whose commits time out while the coordinator is away
    AtomicBoolean coordinatorAway = new AtomicBoolean(true);
    MockConsumer<String, byte[]> consumer = consumer(coordinatorAway, false);
    consumer.schedulePollTask(() -> consumer.rebalance(List.of(tp)));

    // When the worker runs, Then it reports the problem while it lasts
    start();
    await().atMost(Duration.ofSeconds(30)).until(() -> !worker.healthy());

    // and is healthy again, its offset committed, once the coordinator is back
    coordinatorAway.set(false);
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      assertThat(worker.healthy()).isTrue();
      assertThat(consumer.committed(Set.of(tp))).containsKey(tp);
    });
  }

  @Test
  void shouldNotLaunchBeforeReadingToTheEndOffsetsItCouldNotReadAtAssignment() {
    // Given an attempt STARTED and FAILED on the topic, end offsets that time out when the
    // partition is assigned, and records delivered one per poll
    MockConsumer<String, byte[]> consumer = consumer(new AtomicBoolean(), false);
    consumer.updateEndOffsets(Map.of(tp, 2L));
    consumer.setMaxPollRecords(1);
    consumer.schedulePollTask(() -> {
      consumer.setOffsetsException(new TimeoutException("end offsets timed out"));
      consumer.rebalance(List.of(tp));
      consumer.addRecord(started("fraud-1", 0));
      consumer.addRecord(record(1, failed(run("fraud-1"))));
    });

    // When the worker runs, and a new attempt starts after them
    start();
    await().atMost(Duration.ofSeconds(30)).until(() -> consumer.position(tp) == 2);
    consumer.schedulePollTask(() -> consumer.addRecord(started("fraud-2", 2)));

    // Then only the new attempt is executed: the one whose outcome was written is not again
    await().atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(outcomes()).contains("fraud-2/1/FAILED"));
    assertThat(outcomes()).containsExactly("fraud-2/1/FAILED");
  }

  private void start() {
    worker = TestWorkers.start(dir, List.of(), consumers::remove, producer, runs, Map.of());
  }

  /**
   * The next consumer the worker gets: partition 0 of the runs topic from offset 0; its commits
   * time out while {@code away} is true (only the first one when {@code once}). Its polls wait a
   * little when they return nothing, as a real consumer's do.
   */
  private MockConsumer<String, byte[]> consumer(AtomicBoolean away, boolean once) {
    MockConsumer<String, byte[]> c = new PacedMockConsumer<>() {
      @Override
      public synchronized void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets) {
        if (once ? away.getAndSet(false) : away.get()) {
          throw new TimeoutException("Timeout of 5000ms expired before successfully committing"
              + " offsets " + offsets);
        }
        super.commitSync(offsets);
      }

      @Override
      public void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets, Duration timeout) {
        commitTimeouts.add(timeout);
        super.commitSync(offsets, timeout); // MockConsumer: the commitSync above
      }
    };
    c.updateBeginningOffsets(Map.of(tp, 0L));
    c.updateEndOffsets(Map.of(tp, 0L));
    consumers.add(c);
    return c;
  }

  /** The outcomes the worker wrote, as {@code <run>/<attempt>/<status>}. */
  private List<String> outcomes() {
    return producer.history().stream().map(r -> r.value().getRunId() + "/"
        + r.value().getAttempt() + "/" + r.value().getStatus()).toList();
  }

  private ConsumerRecord<String, byte[]> started(String runId, long offset) {
    return record(offset, run(runId));
  }

  private ConsumerRecord<String, byte[]> record(long offset, TrainingRun run) {
    return new ConsumerRecord<>(runs.name(), 0, offset, run.getRunId(),
        runs.valueSerde().serializer().serialize(runs.name(), run));
  }

  private static TrainingRun run(String runId) {
    Instant at = Instant.parse("2026-11-24T01:00:00Z");
    return TrainingRun.newBuilder().setEventId(runId + "/1/STARTED").setEventTime(at)
        .setRunId(runId).setModel("fraud").setStatus(RunStatus.STARTED).setAttempt(1)
        .setStartedAt(at).setLineage(ModelLineage.newBuilder().setRunId(runId)
            .setReasons(List.of()).setTrainer("xgboost").setExecutor(ExecutorKind.LOCAL)
            .build())
        .setParams(Map.of()).build();
  }

  private static TrainingRun failed(TrainingRun started) {
    return TrainingRun.newBuilder(started).setEventId(started.getRunId() + "/1/FAILED")
        .setStatus(RunStatus.FAILED).setError("trainer crashed").build();
  }
}
