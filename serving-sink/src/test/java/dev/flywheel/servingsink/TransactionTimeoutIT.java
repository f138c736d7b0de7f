package dev.flywheel.servingsink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.CommittedValues;
import dev.flywheel.devstack.junit.LogLines;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.ModelFormat;
import dev.flywheel.events.ModelSignature;
import dev.flywheel.events.Prediction;
import dev.flywheel.servingsink.model.ModelSpec;
import dev.flywheel.servingsink.model.ScoringException;
import dev.flywheel.servingsink.model.ServedModel;
import dev.flywheel.servingsink.model.ServedModels;
import dev.flywheel.servingsink.model.TestServedModels;
import dev.flywheel.servingsink.stream.StreamScorer;
import dev.flywheel.topics.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A scoring pause longer than the producer's {@code transaction.timeout.ms} (a long GC pause, a
 * stalled model): the broker aborts the open transaction and bumps the producer's epoch. The
 * scorer must take that as a failed batch, not as being fenced by another instance: it scores the
 * batch again in a new transaction, and every vector still has exactly one prediction and every
 * dead letter is written once. Another instance taking over its transactional id still stops it.
 */
@WithDevstack
class TransactionTimeoutIT {

  private static final int VECTORS = 10;

  @TempDir Path artifacts;

  @Test
  void shouldScoreABatchAgainAfterTheBrokerAbortedItsTimedOutTransaction(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given two feature groups in one batch: the first group's model fails one vector (so its
    // dead letter opens the transaction on the broker), the second's pauses the first time it
    // scores until the broker has aborted that transaction; and a producer whose transactions
    // time out after 2 s (the broker looks for timed-out transactions every 10 s, so it aborts
    // this one 2 to 12 s in)
    Topics topics = Kafka.topics(devstack, names);
    String transactionalId = names.applicationId("timeout") + "-1";
    AtomicBoolean paused = new AtomicBoolean();
    ServedModels served = new ServedModels();
    served.install(model("fraud", TestModels.GROUP, rows -> {
      if (rows.length > 0 && rows[0] == 0) {
        throw new ScoringException("the first vector is refused");
      }
    }));
    served.install(model("risk", "other_group", rows -> {
      if (paused.compareAndSet(false, true)) {
        awaitAbortedByTheBroker(devstack, transactionalId);
      }
    }));
    try (KafkaProducer<String, FeatureVector> producer =
        Kafka.producer(devstack, topics.features())) {
      for (int i = 0; i < VECTORS; i++) {
        FeatureVector v = Kafka.vector(i);
        if (i >= VECTORS / 2) {
          v.setFeatureGroup("other_group");
        }
        // one partition: one batch, in this order
        producer.send(new ProducerRecord<>(topics.features().name(), 0, v.getEntityId(), v));
      }
    }

    // When they are scored
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    try (LogLines log = LogLines.of(StreamScorer.class);
        StreamScorer scorer = new StreamScorer(
        Map.of("bootstrap.servers", devstack.bootstrapServers(),
            ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 2_000),
        names.applicationId("timeout"), transactionalId, "earliest", 500,
        topics.features(), topics.predictions(), topics, served,
        new ServingMetrics(meters))) {
      scorer.start();

      // Then, after the pause, every vector but the refused one has exactly one prediction
      await().atMost(Duration.ofSeconds(60)).until(() ->
          Kafka.readAll(devstack, topics.predictions()).size() >= VECTORS - 1);
      assertThat(paused).isTrue();
      // by a new producer, the broker having aborted the first transaction
      assertThat(log.count(Level.WARN, "Starting a new producer")).isEqualTo(1);
      assertThat(Kafka.readAll(devstack, topics.predictions())).hasSize(VECTORS - 1)
          .extracting(Prediction::getEventId).doesNotHaveDuplicates().doesNotContain("e-0");
      // and the refused one is on the dead-letter topic once
      assertThat(CommittedValues.bytes(devstack.bootstrapServers(),
          topics.dlq(topics.features()).name())).hasSize(1);
      // and the metrics count what was committed, not the aborted batch as well (a committed
      // batch's counts are added together, its dead letters last)
      await().atMost(Duration.ofSeconds(10)).until(() ->
          meters.find("flywheel.serving.dead.letters").counter() != null);
      assertThat(meters.get("flywheel.serving.dead.letters").counter().count()).isEqualTo(1.0);
      assertThat(meters.find("flywheel.serving.predictions").counters())
          .extracting(c -> c.count()).containsExactlyInAnyOrder(4.0, 5.0);
      // and the scorer goes on, not stopped as if another instance had fenced it
      assertThat(scorer.fenced()).as("stopped as fenced").isFalse();
      assertThat(scorer.problem()).as("the scorer's problem").isEmpty();
    }
  }

  @Test
  void shouldStopScoringWhenAnotherInstanceWithItsIdTakesOver(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given an instance scoring with a quick model
    Topics topics = Kafka.topics(devstack, names);
    ServedModels served = new ServedModels();
    served.install(model("fraud", TestModels.GROUP, rows -> { }));
    Map<String, Object> kafka = Map.of("bootstrap.servers", devstack.bootstrapServers());
    String group = names.applicationId("fenced");
    try (StreamScorer first = new StreamScorer(kafka, group, group + "-1", "earliest", 500,
            topics.features(), topics.predictions(), topics, served,
            new ServingMetrics(new SimpleMeterRegistry()));
        StreamScorer second = new StreamScorer(kafka, group, group + "-1", "earliest", 500,
            topics.features(), topics.predictions(), topics, served,
            new ServingMetrics(new SimpleMeterRegistry()))) {
      first.start();

      // When a second instance with the same transactional id starts (a misconfigured copy, or
      // a restart while the old process still runs), and vectors go on arriving on the three
      // partitions, some of which each instance owns
      second.start();
      AtomicInteger sent = new AtomicInteger();
      try (KafkaProducer<String, FeatureVector> producer =
          Kafka.producer(devstack, topics.features())) {
        // (until the first stops as fenced, which the Then below relies on)
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
          int from = sent.get();
          for (int i = from; i < from + VECTORS; i++) {
            FeatureVector v = Kafka.vector(i);
            producer.send(new ProducerRecord<>(topics.features().name(), v.getEntityId(), v));
          }
          producer.flush();
          sent.addAndGet(VECTORS);
          return first.fenced();
        });
      }

      // Then the first, fenced again by the second after each had fenced the other once, stops,
      // says so and leaves the group; and every vector has exactly one prediction, by one of the
      // two, while the second goes on
      assertThat(first.problem()).hasValueSatisfying(p -> assertThat(p)
          .contains("stopped scoring"));
      int vectors = sent.get();
      await().atMost(Duration.ofSeconds(60)).until(() ->
          Kafka.readAll(devstack, topics.predictions()).size() >= vectors);
      assertThat(Kafka.readAll(devstack, topics.predictions())).hasSize(vectors)
          .extracting(Prediction::getEventId).doesNotHaveDuplicates();
      assertThat(second.fenced()).isFalse();
    }
  }

  /**
   * Blocks, as a stalled model would, until the broker has aborted the open transaction of {@code
   * transactionalId}: seen open, then no longer.
   */
  private static void awaitAbortedByTheBroker(Devstack devstack, String transactionalId) {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", devstack.bootstrapServers()))) {
      AtomicBoolean seenOpen = new AtomicBoolean();
      await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).until(() -> {
        TransactionState state = Kafka.transactionState(admin, transactionalId);
        if (state == TransactionState.ONGOING) {
          seenOpen.set(true);
          return false;
        }
        return seenOpen.get();
      });
    }
  }

  /** What a test model does with the first column (the vector number) of a batch's rows. */
  private interface Rows {
    void check(float[] firstColumn);
  }

  /**
   * A champion of {@code group} that scores 0.5 after {@code rows} has seen the rows' {@code
   * mean_7d}, which is the vector number modulo 5.
   */
  private ServedModel model(String name, String group, Rows rows) {
    ModelSignature signature = ModelSignature.newBuilder(
        TestModels.signature(TestModels.FEATURES)).setFeatureGroup(group).build();
    ModelSpec spec = ModelSpec.of(TestModels.promoted(name, "champion", 1,
        TestModels.artifact(TestModels.writeOnnx(artifacts), ModelFormat.ONNX), signature));
    int mean = TestModels.FEATURES.indexOf("mean_7d");
    return TestServedModels.of(spec, (values, rowCount, columns) -> {
      float[] first = new float[rowCount];
      for (int r = 0; r < rowCount; r++) {
        first[r] = values[r * columns + mean];
      }
      rows.check(first);
      double[] scores = new double[rowCount];
      Arrays.fill(scores, 0.5);
      return scores;
    });
  }
}
