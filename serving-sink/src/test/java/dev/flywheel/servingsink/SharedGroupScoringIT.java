package dev.flywheel.servingsink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.CommittedValues;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.ModelFormat;
import dev.flywheel.events.Prediction;
import dev.flywheel.servingsink.model.ModelSpec;
import dev.flywheel.servingsink.model.ScoringException;
import dev.flywheel.servingsink.model.ServedModels;
import dev.flywheel.servingsink.model.TestServedModels;
import dev.flywheel.servingsink.stream.StreamScorer;
import dev.flywheel.topics.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several models scoring one feature group, one of which fails some vectors: each failed vector is
 * dead-lettered once, and every other model still scores it.
 */
@WithDevstack
class SharedGroupScoringIT {

  private static final int VECTORS = 20;

  @TempDir Path artifacts;

  @Test
  void shouldDeadLetterAVectorOnceAndKeepTheOtherModelsPredictionsOfIt(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given two models of one feature group: fraud's champion fails vectors with an amount below
    // -1.5 (4 of 20), risk's below -1.9 (2 of those 4), and fraud has a challenger
    Topics topics = Kafka.topics(devstack, names);
    ServedModels served = new ServedModels();
    served.install(model("fraud", "champion", -1.5));
    served.install(model("fraud", "challenger", -10));
    served.install(model("risk", "champion", -1.9));
    try (KafkaProducer<String, FeatureVector> producer =
        Kafka.producer(devstack, topics.features())) {
      for (int i = 0; i < VECTORS; i++) {
        FeatureVector v = Kafka.vector(i);
        producer.send(new ProducerRecord<>(topics.features().name(), v.getEntityId(), v));
      }
    }
    List<Integer> fraudFails = failing(-1.5);
    List<Integer> riskFails = failing(-1.9);
    assertThat(fraudFails).hasSize(4).containsAll(riskFails);
    assertThat(riskFails).hasSize(2);

    // When they score the vectors in one batch
    try (StreamScorer scorer = new StreamScorer(
        Map.of("bootstrap.servers", devstack.bootstrapServers()),
        names.applicationId("shared-group"), names.applicationId("shared-group") + "-1",
        "earliest", 500, topics.features(), topics.predictions(), topics, served,
        new ServingMetrics(new SimpleMeterRegistry()))) {
      scorer.start();
      int expected = (VECTORS - 4) + (VECTORS - 4) + (VECTORS - 2);
      await().atMost(Duration.ofSeconds(60))
          .until(() -> Kafka.readAll(devstack, topics.predictions()).size() >= expected);

      // Then each model scored every vector it could: fraud's champion and challenger the 16 its
      // champion did not fail, risk the 18 it did not fail, among them two fraud failed
      Map<String, List<String>> byModel = Kafka.readAll(devstack, topics.predictions()).stream()
          .collect(Collectors.groupingBy(p -> p.getModel() + "@" + p.getAlias(),
              Collectors.mapping(Prediction::getEventId, Collectors.toList())));
      assertThat(byModel.get("fraud@champion")).containsExactlyInAnyOrderElementsOf(
          eventIdsExcept(fraudFails));
      assertThat(byModel.get("fraud@challenger")).containsExactlyInAnyOrderElementsOf(
          eventIdsExcept(fraudFails));
      assertThat(byModel.get("risk@champion")).containsExactlyInAnyOrderElementsOf(
          eventIdsExcept(riskFails));

      // And each failed vector is on the dead-letter topic once, named by the first to fail it
      assertThat(CommittedValues.bytes(devstack.bootstrapServers(),
          topics.dlq(topics.features()).name())).hasSize(fraudFails.size());
    }
  }

  /** A model of the test group that fails every row whose amount is below {@code floor}. */
  private dev.flywheel.servingsink.model.ServedModel model(String name, String alias,
      double floor) {
    ModelSpec spec = ModelSpec.of(TestModels.promoted(name, alias, 1,
        TestModels.artifact(TestModels.writeOnnx(artifacts), ModelFormat.ONNX),
        TestModels.signature(TestModels.FEATURES)));
    int amount = TestModels.FEATURES.indexOf("amount");
    return TestServedModels.of(spec, (values, rows, columns) -> {
      double[] scores = new double[rows];
      for (int r = 0; r < rows; r++) {
        float a = values[r * columns + amount];
        if (a < floor) {
          throw new ScoringException("amount " + a + " below " + floor);
        }
        scores[r] = 0.5;
      }
      return scores;
    });
  }

  private static List<Integer> failing(double floor) {
    return IntStream.range(0, VECTORS)
        .filter(i -> Kafka.vector(i).getFeatures().get("amount") < floor).boxed().toList();
  }

  private static List<String> eventIdsExcept(List<Integer> failed) {
    return IntStream.range(0, VECTORS).filter(i -> !failed.contains(i))
        .mapToObj(i -> Kafka.vector(i).getEventId()).toList();
  }
}
