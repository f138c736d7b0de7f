package dev.flywheel.servingsink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.CommittedValues;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.ModelArtifact;
import dev.flywheel.events.ModelFormat;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.Prediction;
import dev.flywheel.events.RegistryCommand;
import dev.flywheel.events.ReportServingFailure;
import dev.flywheel.events.ServingCheck;
import dev.flywheel.servingsink.model.ServedModel;
import dev.flywheel.servingsink.model.ServedModels;
import dev.flywheel.topics.DeadLetterHeaders;
import dev.flywheel.topics.Topics;
import io.micrometer.core.instrument.search.MeterNotFoundException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The serving sink on the embedded broker and registry: swaps, refusals and shadow scoring. */
@WithDevstack
class ServingSinkIT {

  @TempDir
  Path artifacts;

  private ServingSinkService start(Devstack devstack, UniqueNames names, Topics topics,
      SimpleMeterRegistry meters) {
    return start(devstack, names, topics, meters, Map.of());
  }

  /** The service with these Kafka properties too (a smaller {@code max.request.size}, say). */
  private ServingSinkService start(Devstack devstack, UniqueNames names, Topics topics,
      SimpleMeterRegistry meters, Map<String, Object> kafka) {
    Map<String, Object> props = new HashMap<>(kafka);
    props.put("bootstrap.servers", devstack.bootstrapServers());
    ServingSinkConfig config = ServingSinkConfig.defaults()
        .withIds(names.applicationId("serving"), "it")
        .withStartFrom("earliest")
        .withFeatureGroups(Map.of(TestModels.GROUP, TestModels.FEATURES));
    return ServingSinkService.builder().config(config).kafka(props)
        .topics(topics).meters(meters).build().start();
  }

  /** Writes an XGBoost v1 and promotes it to fraud's champion. */
  private void promoteXgboostV1(Devstack devstack, Topics topics) {
    ModelArtifact v1 = TestModels.artifact(TestModels.writeXgboost(artifacts, 1, 0.5),
        ModelFormat.XGBOOST);
    Kafka.send(devstack, topics.modelPromoted(), "fraud", TestModels.promoted("fraud",
        "champion", 1, v1, TestModels.signature(TestModels.FEATURES)));
  }

  private static int championVersion(ServingSinkService s) {
    ServedModel m = s.served().get(new ServedModels.Key("fraud", "champion"));
    return m == null ? 0 : m.version();
  }

  /** Sends vectors {@code from} to {@code to}, 50 at a time with a 5 ms pause between. */
  private static void send(KafkaProducer<String, FeatureVector> producer, Topics topics,
      int from, int to, AtomicInteger sent) {
    for (int i = from; i < to; i++) {
      FeatureVector v = Kafka.vector(i);
      producer.send(new ProducerRecord<>(topics.features().name(), v.getEntityId(), v));
      sent.incrementAndGet();
      if (i % 50 == 49) {
        producer.flush();
        LockSupport.parkNanos(5_000_000);
      }
    }
    producer.flush();
  }

  @Test
  void shouldSwapToV2UnderTrafficWithNoFailedOrMissingPrediction(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given v1 promoted and the service serving it
    Topics topics = Kafka.topics(devstack, names);
    ModelArtifact v1 = TestModels.artifact(TestModels.writeXgboost(artifacts, 1, 0.5),
        ModelFormat.XGBOOST);
    ModelArtifact v2 = TestModels.artifact(TestModels.writeOnnx(artifacts), ModelFormat.ONNX);
    Kafka.send(devstack, topics.modelPromoted(), "fraud", TestModels.promoted("fraud",
        "champion", 1, v1, TestModels.signature(TestModels.FEATURES)));
    int total = 3000;
    AtomicInteger sent = new AtomicInteger();
    int sentWhenSwapSeen;
    try (ServingSinkService serving = start(devstack, names, topics, new SimpleMeterRegistry());
        KafkaProducer<String, FeatureVector> producer = Kafka.producer(devstack,
            topics.features())) {
      assertThat(championVersion(serving)).isEqualTo(1);
      int beforeSwap = total * 2 / 3;
      Thread traffic = new Thread(() -> send(producer, topics, 0, beforeSwap, sent));
      traffic.start();

      // When v2 is promoted while traffic flows
      await().atMost(Duration.ofSeconds(30)).until(() -> sent.get() >= total / 3);
      Kafka.send(devstack, topics.modelPromoted(), "fraud", TestModels.promoted("fraud",
          "champion", 2, v2, TestModels.signature(TestModels.FEATURES)));
      await().atMost(Duration.ofSeconds(30)).until(() -> championVersion(serving) == 2);
      sentWhenSwapSeen = sent.get();
      traffic.join();
      // and the last third follows the swap
      send(producer, topics, beforeSwap, total, sent);

      // Then every input has exactly one prediction
      await().atMost(Duration.ofSeconds(60)).until(() ->
          Kafka.readAll(devstack, topics.predictions()).size() >= total);
    }
    assertThat(sentWhenSwapSeen).as("the swap happened mid-traffic").isLessThan(total);
    List<Prediction> predictions = Kafka.readAll(devstack, topics.predictions());
    Map<String, Prediction> byEvent = predictions.stream().collect(Collectors.toMap(
        Prediction::getEventId, Function.identity()));
    assertThat(predictions).hasSize(total);
    assertThat(byEvent).hasSize(total);
    // and both versions scored, every input sent after the swap by v2
    assertThat(predictions).extracting(Prediction::getVersion).contains(1, 2)
        .allMatch(v -> v == 1 || v == 2);
    for (int i = sentWhenSwapSeen; i < total; i++) {
      assertThat(byEvent.get("e-" + i).getVersion()).as("e-" + i).isEqualTo(2);
    }
    // and a prediction carries what the issue asks of it
    Prediction p = byEvent.get("e-" + (total - 1));
    assertThat(p.getModel()).isEqualTo("fraud");
    assertThat(p.getAlias()).isEqualTo("champion");
    assertThat(p.getShadow()).isFalse();
    assertThat(p.getThreshold()).isEqualTo(0.5);
    assertThat(p.getDecision()).isEqualTo(p.getScore() >= 0.5);
    assertThat(p.getFeatures()).containsOnlyKeys(TestModels.FEATURES);
    assertThat(p.getEntityId()).isEqualTo(Kafka.vector(total - 1).getEntityId());
  }

  @Test
  void shouldDeadLetterAVectorWhosePredictionIsTooLargeAndGoOnScoring(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given v1 serving, with a producer that takes records of at most 4 KiB
    Topics topics = Kafka.topics(devstack, names);
    promoteXgboostV1(devstack, topics);
    int maxRequestSize = 4096;
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    try (ServingSinkService serving = start(devstack, names, topics, meters,
            Map.of(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, maxRequestSize));
        KafkaProducer<String, FeatureVector> producer = Kafka.producer(devstack,
            topics.features())) {
      // When 20 vectors are scored, the 11th of an entity whose id takes 3,000 characters: the
      // prediction repeats the id as its key and in its value
      for (int i = 0; i < 21; i++) {
        FeatureVector v = Kafka.vector(i);
        if (i == 10) {
          v.setEntityId("card-" + "x".repeat(3_000));
        }
        producer.send(new ProducerRecord<>(topics.features().name(), v.getEntityId(), v));
      }
      producer.flush();

      // Then the other 20 are scored
      await().atMost(Duration.ofSeconds(60)).until(() ->
          Kafka.readAll(devstack, topics.predictions()).size() >= 20);
      assertThat(Kafka.readAll(devstack, topics.predictions())).hasSize(20)
          .extracting(Prediction::getEventId).doesNotContain("e-10");
      // and the 11th is on the dead-letter topic, saying why and what to do, cut to fit
      await().atMost(Duration.ofSeconds(30)).until(() -> !CommittedValues.bytes(
          devstack.bootstrapServers(), topics.dlq(topics.features()).name()).isEmpty());
      List<ConsumerRecord<byte[], byte[]>> dead = CommittedValues.bytes(
          devstack.bootstrapServers(), topics.dlq(topics.features()).name());
      assertThat(dead).singleElement().satisfies(r -> {
        assertThat(new String(r.headers().lastHeader(DeadLetterHeaders.ERROR).value(),
            StandardCharsets.UTF_8)).contains("the prediction of fraud v1",
                "max.request.size of 4096");
        assertThat(r.headers().lastHeader(DeadLetterHeaders.VALUE_TRUNCATED)).isNotNull();
      });
      // and the metrics count the 20 predictions written, not the one dropped (a batch's counts
      // are added just after it commits: the count must settle at 20)
      await().atMost(Duration.ofSeconds(10)).during(Duration.ofSeconds(2))
          .ignoreExceptionsInstanceOf(MeterNotFoundException.class).until(() ->
          meters.get("flywheel.serving.predictions").tag("mode", "stream").counter().count()
              == 20.0);
      assertThat(meters.get("flywheel.serving.dead.letters").tag("reason", "prediction_too_large")
          .counter().count()).isEqualTo(1.0);
      // and scoring is healthy
      assertThat(serving.healthProblem()).isEmpty();
    }
  }

  @Test
  void shouldRefuseBadVersionsKeepV1ServingAndReportEachToTheRegistry(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given v1 serving
    Topics topics = Kafka.topics(devstack, names);
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    promoteXgboostV1(devstack, topics);
    try (ServingSinkService serving = start(devstack, names, topics, meters)) {
      // When v2 has a digest that does not match its file, v3 is a corrupt file, and v4's
      // signature needs a feature the group lacks
      ModelArtifact v2 = TestModels.artifact(TestModels.writeXgboost(artifacts, 2, 1.0),
          ModelFormat.XGBOOST);
      v2.setSha256("ab".repeat(32));
      ModelArtifact v3 = TestModels.artifact(TestModels.write(artifacts,
          "{\"learner\": truncated".getBytes()), ModelFormat.XGBOOST);
      ModelArtifact v4 = TestModels.artifact(TestModels.writeXgboost(artifacts, 4, 1.0),
          ModelFormat.XGBOOST);
      List<String> lacking = List.of("amount", "count_10m", "mean_7d", "chargebacks_30d");
      Kafka.send(devstack, topics.modelPromoted(), "fraud", TestModels.promoted("fraud",
          "champion", 2, v2, TestModels.signature(TestModels.FEATURES)));
      Kafka.send(devstack, topics.modelPromoted(), "fraud", TestModels.promoted("fraud",
          "champion", 3, v3, TestModels.signature(TestModels.FEATURES)));
      Kafka.send(devstack, topics.modelPromoted(), "fraud", TestModels.promoted("fraud",
          "champion", 4, v4, TestModels.signature(lacking)));

      // Then each is reported to the registry's audit history with its check
      await().atMost(Duration.ofSeconds(30)).until(() ->
          Kafka.readAll(devstack, topics.registryCommands()).size() >= 3);
      List<RegistryCommand> commands = Kafka.readAll(devstack, topics.registryCommands());
      assertThat(commands).hasSize(3).allSatisfy(c -> {
        assertThat(c.getModel()).isEqualTo("fraud");
        assertThat(c.getActor().getName()).isEqualTo("serving-sink");
        assertThat(c.getCommand()).isInstanceOf(ReportServingFailure.class);
      });
      assertThat(commands).extracting(c -> (ReportServingFailure) c.getCommand())
          .extracting(ReportServingFailure::getVersion, ReportServingFailure::getCheck)
          .containsExactly(
              org.assertj.core.groups.Tuple.tuple(2, ServingCheck.DIGEST_MISMATCH),
              org.assertj.core.groups.Tuple.tuple(3, ServingCheck.LOAD_FAILED),
              org.assertj.core.groups.Tuple.tuple(4, ServingCheck.SIGNATURE_MISMATCH));
      assertThat(((ReportServingFailure) commands.get(2).getCommand()).getMessage())
          .contains("chargebacks_30d");
      // and counted
      assertThat(meters.find("flywheel.serving.refusals").counters()).hasSize(3);
      // and the Kafka clients' own metrics are on the same registry
      assertThat(meters.find("kafka.producer.record.send.total").tag("service", "serving").meters())
          .isNotEmpty();
      assertThat(meters.find("kafka.consumer.fetch.manager.records.consumed.total")
          .tag("service", "serving").meters()).isNotEmpty();
      // and v1 keeps serving: the stream is scored by v1
      assertThat(championVersion(serving)).isEqualTo(1);
      for (int i = 0; i < 20; i++) {
        Kafka.send(devstack, topics.features(), Kafka.vector(i).getEntityId(), Kafka.vector(i));
      }
      await().atMost(Duration.ofSeconds(30)).until(() ->
          Kafka.readAll(devstack, topics.predictions()).size() >= 20);
      assertThat(Kafka.readAll(devstack, topics.predictions())).hasSize(20)
          .allSatisfy(p -> assertThat(p.getVersion()).isEqualTo(1));
    }
  }

  @Test
  void shouldShowARefusedVersionWithItsReasonOnHealthWhileThePreviousServes(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given v1 serving
    Topics topics = Kafka.topics(devstack, names);
    promoteXgboostV1(devstack, topics);
    try (ServingSinkService serving = start(devstack, names, topics, new SimpleMeterRegistry())) {
      assertThat(championVersion(serving)).isEqualTo(1);

      // When v2 is promoted needing a feature the group lacks
      ModelArtifact v2 = TestModels.artifact(TestModels.writeXgboost(artifacts, 2, 1.0),
          ModelFormat.XGBOOST);
      Kafka.send(devstack, topics.modelPromoted(), "fraud", TestModels.promoted("fraud",
          "champion", 2, v2, TestModels.signature(
              List.of("amount", "count_10m", "mean_7d", "chargebacks_30d"))));

      // Then health shows v2 refused, with its check, its reason and when, beside v1 serving
      await().atMost(Duration.ofSeconds(30)).until(() ->
          champion(serving.healthDetails()).containsKey("refused"));
      Map<String, Object> champion = champion(serving.healthDetails());
      assertThat(champion).containsEntry("version", 1);
      assertThat(champion.get("refused")).asInstanceOf(InstanceOfAssertFactories.MAP)
          .containsEntry("version", 2)
          .containsEntry("check", ServingCheck.SIGNATURE_MISMATCH.name())
          .hasEntrySatisfying("reason", reason -> assertThat((String) reason)
              .contains("fraud@champion v2", "lacks input(s) [chargebacks_30d]"))
          .hasEntrySatisfying("at", at -> assertThat(Instant.parse((String) at)).isNotNull());
      // And serving is still healthy, scoring with v1
      assertThat(serving.healthProblem()).isEmpty();
      assertThat(championVersion(serving)).isEqualTo(1);
    }
  }

  /** fraud@champion in {@link ServingSinkService#healthDetails()}, empty when absent. */
  @SuppressWarnings("unchecked")
  private static Map<String, Object> champion(Map<String, Object> health) {
    Map<String, Object> models = (Map<String, Object>) health.get("models");
    Map<String, Object> fraud = (Map<String, Object>) models.getOrDefault("fraud", Map.of());
    return (Map<String, Object>) fraud.getOrDefault("champion", Map.of());
  }

  @Test
  void shouldScoreTheChallengerInShadowOnTheSameTraffic(Devstack devstack, UniqueNames names)
      throws Exception {
    // Given an XGBoost champion and an ONNX challenger
    Topics topics = Kafka.topics(devstack, names);
    ModelArtifact xgb = TestModels.artifact(TestModels.writeXgboost(artifacts, 1, 0.5),
        ModelFormat.XGBOOST);
    ModelArtifact onnx = TestModels.artifact(TestModels.writeOnnx(artifacts), ModelFormat.ONNX);
    Kafka.send(devstack, topics.modelPromoted(), "fraud", TestModels.promoted("fraud",
        "champion", 1, xgb, TestModels.signature(TestModels.FEATURES)));
    Kafka.send(devstack, topics.modelPromoted(), "fraud", TestModels.promoted("fraud",
        "challenger", 2, onnx, TestModels.signature(TestModels.FEATURES)));
    try (ServingSinkService serving = start(devstack, names, topics, new SimpleMeterRegistry())) {
      // When 30 vectors arrive
      for (int i = 0; i < 30; i++) {
        Kafka.send(devstack, topics.features(), Kafka.vector(i).getEntityId(), Kafka.vector(i));
      }
      // Then each has a champion prediction and a shadow one of the challenger
      await().atMost(Duration.ofSeconds(30)).until(() ->
          Kafka.readAll(devstack, topics.predictions()).size() >= 60);
    }
    List<Prediction> all = Kafka.readAll(devstack, topics.predictions());
    assertThat(all).hasSize(60);
    Map<Boolean, List<Prediction>> byShadow = all.stream()
        .collect(Collectors.partitioningBy(Prediction::getShadow));
    assertThat(byShadow.get(false)).hasSize(30).allSatisfy(p -> {
      assertThat(p.getVersion()).isEqualTo(1);
      assertThat(p.getAlias()).isEqualTo("champion");
    });
    assertThat(byShadow.get(true)).hasSize(30).allSatisfy(p -> {
      assertThat(p.getVersion()).isEqualTo(2);
      assertThat(p.getAlias()).isEqualTo("challenger");
    });
    Map<String, Prediction> champion = new HashMap<>();
    byShadow.get(false).forEach(p -> champion.put(p.getEventId(), p));
    assertThat(byShadow.get(true)).allSatisfy(p -> {
      assertThat(champion).containsKey(p.getEventId());
      assertThat(p.getPredictionId()).isNotEqualTo(champion.get(p.getEventId())
          .getPredictionId());
    });
  }
}
