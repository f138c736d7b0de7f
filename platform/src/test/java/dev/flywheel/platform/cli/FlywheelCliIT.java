package dev.flywheel.platform.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.CommittedValues;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.events.Actor;
import dev.flywheel.events.ActorKind;
import dev.flywheel.events.DatasetLineage;
import dev.flywheel.events.DriftAlert;
import dev.flywheel.events.DriftWindow;
import dev.flywheel.events.ExecutorKind;
import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.ModelArtifact;
import dev.flywheel.events.ModelFormat;
import dev.flywheel.events.ModelLineage;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.ModelSignature;
import dev.flywheel.events.ModelTask;
import dev.flywheel.events.OffsetRange;
import dev.flywheel.events.Prediction;
import dev.flywheel.events.RecordOrigin;
import dev.flywheel.events.RunStatus;
import dev.flywheel.events.TrainingReason;
import dev.flywheel.events.TrainingRequested;
import dev.flywheel.events.TrainingRun;
import dev.flywheel.events.TriggerKind;
import dev.flywheel.platform.FlywheelCli;
import dev.flywheel.platform.runtime.FlywheelRuntime;
import dev.flywheel.platform.runtime.PlatformConfig;
import dev.flywheel.platform.runtime.ServiceCatalog;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.Topics;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The daily commands against a real platform: a {@link FlywheelRuntime} running registry, ingest
 * and features from a {@code flywheel.yaml}, on the embedded broker and registry. The chain a
 * lineage follows is made of real events: transactions on the source topic, the feature vectors
 * feature-streams computes from them, a training request and a completed training run (written as
 * training-trigger writes them), the registration and promotion the registry decides, and a
 * prediction written as serving-sink writes it (copying the vector's source position).
 */
@WithDevstack
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FlywheelCliIT {

  private static final String MODEL = "fraud-detector";
  private static final String OTHER_MODEL = "chargeback-scorer";
  private static final Instant T0 = Instant.parse("2026-11-23T10:00:00Z");
  private static final ObjectMapper JSON = new ObjectMapper();

  private static final String YAML = """
      kafka:
        topicPrefix: %s
      sources:
        - name: transactions
          key: card_id
          time: event_time
          schema:
            type: record
            name: CardTransaction
            namespace: cli.test
            fields:
              - {name: event_id, type: string}
              - {name: card_id, type: string}
              - {name: amount, type: double}
              - {name: country, type: string}
              - {name: event_time, type: {type: long, logicalType: timestamp-millis}}
      featureGroups:
        - name: card_activity
          source: transactions
          entityKey: card_id
          eventTime: event_time
          eventId: event_id
          grace: 5m
          features:
            - {name: tx_count_24h, agg: count, window: 24h}
            - {name: amount_sum_24h, agg: sum, field: amount, window: 24h}
      models:
        - name: %s
          policy: {gates: ["auc >= 0.5"], autoPromote: [champion]}
        - name: %s
          policy: {gates: ["auc >= 0.5"], autoPromote: [champion]}
      """;

  private Devstack devstack;
  private UniqueNames names;
  private Topics topics;
  private FlywheelRuntime runtime;
  private String url;
  private String runId;
  private RecordOrigin sourceOfTx1;
  private ConsumerRecord<String, FeatureVector> vectorOfTx1;
  private ConsumerRecord<String, Prediction> predictionOfTx1;

  @BeforeAll
  void startPlatformAndWriteTheChain(Devstack devstack, @TempDir Path dir) throws Exception {
    this.devstack = devstack;
    names = UniqueNames.of("FlywheelCliIT");
    runId = "run-" + names.prefix();
    String yaml = YAML.formatted(names.prefix(), MODEL, OTHER_MODEL);
    PlatformConfig config = PlatformConfig.parse(yaml, Map.of())
        .withCluster(devstack.bootstrapServers(), devstack.schemaRegistryUrl()).withHttpPort(0);
    FlywheelRuntime.Builder builder = FlywheelRuntime.builder().host("127.0.0.1");
    ServiceCatalog.addAll(builder, yaml, config, dir.resolve("state"));
    runtime = builder.build().start();
    url = "http://127.0.0.1:" + runtime.httpPort();
    AvroSerdes serdes = AvroSerdes.fromConfig(
        Map.of("schema.registry.url", devstack.schemaRegistryUrl()));
    topics = Topics.builder(serdes).prefix(names.prefix()).build();

    // two transactions of card-7 on the source topic, as ingest writes them
    Topic<String, GenericRecord> transactions = topics.data("transactions");
    Schema schema = serdes.client().getLatest(transactions.name() + "-value").schema();
    produce(transactions, "card-7", tx(schema, "tx-1", 42.0, T0));
    produce(transactions, "card-7", tx(schema, "tx-2", 8.0, T0.plusSeconds(300)));

    // feature-streams computes a vector per transaction, naming the source position
    vectorOfTx1 = awaitRecord(topics.features(), v -> "tx-1".equals(v.getEventId()));
    sourceOfTx1 = vectorOfTx1.value().getSource();
    awaitRecord(topics.features(), v -> "tx-2".equals(v.getEventId()));

    // drift is detected and a person asks for training; the run completes with its lineage;
    // the registry promotes v1
    produce(topics.driftAlerts(), MODEL, DriftAlert.newBuilder().setEventId(alertId())
        .setEventTime(T0.plusSeconds(500)).setModel(MODEL).setBaselineVersion(0)
        .setWindow(DriftWindow.newBuilder().setSequence(1).setStartTime(T0)
            .setEndTime(T0.plusSeconds(500)).setCount(2).build())
        .setOnset(T0.plusSeconds(400)).setConsecutiveDrifted(3).setDriftedShare(0.5)
        .setTopFeatures(List.of()).setReportId("report-1").build());
    produce(topics.trainingRequests(), MODEL, TrainingRequested.newBuilder()
        .setEventId("req-" + names.prefix()).setEventTime(T0.plusSeconds(600)).setModel(MODEL)
        .setReason(manualReason()).setActor(alice()).build());
    produce(topics.trainingRuns(), runId, completedRun(MODEL, runId));
    ModelPromoted promoted = awaitRecord(topics.modelPromoted(),
        p -> MODEL.equals(p.getModel())).value();
    assertThat(promoted.getVersion()).isEqualTo(1);

    // serving-sink scores the vector of tx-1 with v1
    produce(topics.predictions(), "card-7", prediction(vectorOfTx1.value(), promoted));
    predictionOfTx1 = awaitRecord(topics.predictions(), p -> "tx-1".equals(p.getEventId()));
  }

  @AfterAll
  void stop() {
    if (runtime != null) {
      runtime.close();
    }
  }

  // ------------------------------------------------------------------------------ status

  @Test
  void shouldPrintEveryServiceUpAndExitZero() {
    Result result = run("status", "--url", url);

    assertThat(result.exit()).as(result.err()).isZero();
    assertThat(result.out()).contains("flywheel at " + url + ": UP")
        .containsPattern("registry\\s+UP").containsPattern("ingest\\s+UP")
        .containsPattern("features\\s+UP");
  }

  // ------------------------------------------------------------------------------ features get

  @Test
  void shouldPrintTheOnlineFeaturesOfAnEntity() {
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      Result result = run("features", "get", "card_activity", "card-7", "--url", url);

      assertThat(result.exit()).as(result.err()).isZero();
      assertThat(result.out())
          .contains("card_activity / card-7: as of " + T0.plusSeconds(300) + " (event tx-2)")
          .containsPattern("tx_count_24h\\s+2\n").containsPattern("amount_sum_24h\\s+50\n");
    });
  }

  @Test
  void shouldPrintTheOnlineFeaturesAsJson() throws Exception {
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      Result result = run("features", "get", "card_activity", "card-7", "--url", url, "--json");

      assertThat(result.exit()).as(result.err()).isZero();
      JsonNode json = JSON.readTree(result.out());
      assertThat(json.get("found").asBoolean()).isTrue();
      assertThat(json.get("features").get("amount_sum_24h").asDouble()).isEqualTo(50.0);
    });
  }

  @Test
  void shouldNameTheKnownGroupsForAnUnknownGroup() {
    Result result = run("features", "get", "card_activty", "card-7", "--url", url);

    assertThat(result.exit()).isEqualTo(FeaturesCommand.EXIT_UNKNOWN_GROUP);
    assertThat(result.err()).contains("card_activty").contains("card_activity");
  }

  // ------------------------------------------------------------------------------ lineage

  @Test
  void shouldTraceAPredictionBackToItsSourceEvent() {
    Result result = run("lineage", "tx-1", "--prefix", names.prefix(),
        "--bootstrap-servers", devstack.bootstrapServers(),
        "--schema-registry-url", devstack.schemaRegistryUrl());

    assertThat(result.exit()).as(result.err()).isZero();
    String p = names.prefix();
    assertThat(result.out())
        .contains("prediction pred-tx-1-v1 at " + at(predictionOfTx1) + ": " + MODEL
            + " v1 (champion)")
        .contains("model " + MODEL + " v1")
        .containsPattern("registered at " + p + "\\.flywheel\\.model\\.events-\\d+@\\d+")
        .containsPattern("promoted to champion at " + p + "\\.flywheel\\.model\\.promoted-")
        .contains("training run " + runId + ": COMPLETED at " + p + ".flywheel.training.runs-")
        .contains("dataset sha256 " + sha256("dataset") + " (file:///datasets/"
            + runId + ".parquet)")
        .contains("    " + p + ".flywheel.features-0 offsets [0, ")
        .contains("trigger DRIFT_ALERT at " + T0.plusSeconds(500) + ": amount_sum_24h shifted"
            + " (drift alert alert-" + p + ")")
        .containsPattern("drift alert alert-" + p + " at " + p
            + "\\.flywheel\\.drift\\.alerts-\\d+@\\d+: onset " + T0.plusSeconds(400))
        .contains("trigger MANUAL at " + T0.plusSeconds(600) + ": retrain after the review"
            + " (training request req-" + p + ")")
        .containsPattern("training request req-" + p + " at " + p
            + "\\.flywheel\\.training\\.requests-\\d+@\\d+ by alice@example.com")
        .contains("feature vector at " + at(vectorOfTx1) + ": group card_activity, entity card-7")
        .contains("source event at " + sourceOfTx1.getTopic() + "-" + sourceOfTx1.getPartition()
            + "@" + sourceOfTx1.getOffset() + ": {\"event_id\":\"tx-1\",\"card_id\":\"card-7\"");
  }

  @Test
  void shouldPrintTheLineageAsJsonWithTheSourcePosition() throws Exception {
    Result result = run("lineage", "tx-1", "--json", "--prefix", names.prefix(),
        "--bootstrap-servers", devstack.bootstrapServers(),
        "--schema-registry-url", devstack.schemaRegistryUrl());

    assertThat(result.exit()).as(result.err()).isZero();
    JsonNode json = JSON.readTree(result.out());
    JsonNode model = json.get("models").get(0);
    assertThat(model.get("version").asInt()).isEqualTo(1);
    assertThat(model.get("run").get("runId").asText()).isEqualTo(runId);
    assertThat(model.get("run").get("status").asText()).isEqualTo("COMPLETED");
    assertThat(model.get("dataset").get("ranges")).hasSize(3);
    assertThat(model.get("triggers")).hasSize(2);
    assertThat(model.get("triggers").get(0).get("kind").asText()).isEqualTo("DRIFT_ALERT");
    assertThat(model.get("triggers").get(1).get("kind").asText()).isEqualTo("MANUAL");
    assertThat(model.get("driftAlerts").get(0).get("alertId").asText()).isEqualTo(alertId());
    assertThat(model.get("trainingRequests")).hasSize(1);
    assertThat(json.get("featureVectors").get(0).get("offset").asLong())
        .isEqualTo(vectorOfTx1.offset());
    JsonNode source = json.get("source");
    assertThat(source.get("topic").asText()).isEqualTo(topics.data("transactions").name());
    assertThat(source.get("partition").asInt()).isEqualTo(sourceOfTx1.getPartition());
    assertThat(source.get("offset").asLong()).isEqualTo(sourceOfTx1.getOffset());
    assertThat(source.get("value").get("event_id").asText()).isEqualTo("tx-1");
    assertThat(source.get("value").get("amount").asDouble()).isEqualTo(42.0);
  }

  @Test
  void shouldExitNotFoundForAnEventWithoutPrediction() {
    Result result = run("lineage", "tx-unknown", "--prefix", names.prefix(),
        "--bootstrap-servers", devstack.bootstrapServers(),
        "--schema-registry-url", devstack.schemaRegistryUrl());

    assertThat(result.exit()).isEqualTo(LineageCommand.EXIT_NOT_FOUND);
    assertThat(result.err()).contains("no prediction with event id 'tx-unknown' on "
        + topics.predictions().name());
  }

  // ------------------------------------------------------------------------------ watch, topics

  @Test
  void shouldWatchATopicByItsShortNameDecodingAvroThroughTheRegistry() throws Exception {
    Result result = run("watch", "predictions", "--from-beginning", "--no-follow",
        "--prefix", names.prefix(), "--bootstrap-servers", devstack.bootstrapServers(),
        "--schema-registry-url", devstack.schemaRegistryUrl());

    assertThat(result.exit()).as(result.err()).isZero();
    List<String> lines = result.out().lines().toList();
    assertThat(lines).hasSize(1);
    JsonNode line = JSON.readTree(lines.get(0));
    assertThat(line.get("topic").asText()).isEqualTo(topics.predictions().name());
    assertThat(line.get("offset").asLong()).isEqualTo(predictionOfTx1.offset());
    assertThat(line.get("key").asText()).isEqualTo("card-7");
    assertThat(line.get("value").get("event_id").asText()).isEqualTo("tx-1");
    assertThat(line.get("value").get("model").asText()).isEqualTo(MODEL);
    assertThat(line.get("value_schema_id").asInt()).isPositive();
  }

  @Test
  void shouldListTopicsWithRecordCountsAndGroupLag() throws Exception {
    // Given a group that has read nothing of the predictions
    String group = names.groupId("lagging-reader");
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
        "bootstrap.servers", devstack.bootstrapServers(), "group.id", group),
        new StringDeserializer(), new StringDeserializer())) {
      TopicPartition tp = new TopicPartition(topics.predictions().name(),
          predictionOfTx1.partition());
      consumer.commitSync(Map.of(tp, new OffsetAndMetadata(predictionOfTx1.offset())));
    }

    Result result = run("topics", "--prefix", names.prefix(),
        "--bootstrap-servers", devstack.bootstrapServers());

    assertThat(result.exit()).as(result.err()).isZero();
    String predictions = topics.predictions().name();
    assertThat(result.out())
        .containsPattern(predictions.replace(".", "\\.") + "\\s+3\\s+1\\n  group " + group
            + " lag 1")
        .containsPattern(topics.data("transactions").name().replace(".", "\\.") + "\\s+3\\s+2")
        .containsPattern(topics.modelPromoted().name().replace(".", "\\.") + "\\s+3\\s+\\d+");
  }

  // ------------------------------------------------------------------------------ must-show

  @Test
  void shouldDeliverAPromotionToAPlainKafkaConsumerWithoutFlywheelClasses() throws Exception {
    // Given a plain consumer of the promotions, decoding Confluent-framed Avro by hand
    String promotedTopic = names.prefix() + ".flywheel.model.promoted";
    try (PlainAvroConsumer consumer = new PlainAvroConsumer(devstack.bootstrapServers(),
        devstack.schemaRegistryUrl(), names.groupId("plain"), promotedTopic)) {
      // When a training run of another model completes and the registry promotes it
      String otherRun = "run-other-" + names.prefix();
      produce(topics.trainingRuns(), otherRun, completedRun(OTHER_MODEL, otherRun));

      // Then the plain consumer receives the promotion with its version and artifact
      AtomicReference<GenericRecord> seen = new AtomicReference<>();
      await().atMost(Duration.ofSeconds(60)).until(() -> {
        consumer.poll(Duration.ofMillis(200)).stream()
            .filter(r -> OTHER_MODEL.equals(String.valueOf(r.get("model"))))
            .findFirst().ifPresent(seen::set);
        return seen.get() != null;
      });
      assertThat(seen.get().get("version")).isEqualTo(1);
      assertThat(String.valueOf(seen.get().get("alias"))).isEqualTo("champion");
      assertThat(String.valueOf(((GenericRecord) seen.get().get("artifact")).get("sha256")))
          .isEqualTo(sha256("artifact-" + otherRun));
      assertThat(String.valueOf(((GenericRecord) seen.get().get("lineage")).get("run_id")))
          .isEqualTo(otherRun);
    }
  }

  // ------------------------------------------------------------------------------ helpers

  record Result(int exit, String out, String err) {}

  private Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = new CommandLine(new FlywheelCli()).setOut(new PrintWriter(out, true))
        .setErr(new PrintWriter(err, true)).execute(args);
    return new Result(exit, out.toString(), err.toString());
  }

  private static String at(ConsumerRecord<?, ?> r) {
    return r.topic() + "-" + r.partition() + "@" + r.offset();
  }

  private <V> void produce(Topic<String, V> topic, String key, V value) {
    try (KafkaProducer<String, V> producer = new KafkaProducer<>(Map.of(
        "bootstrap.servers", devstack.bootstrapServers(), "acks", "all"),
        new StringSerializer(), topic.valueSerde().serializer())) {
      producer.send(new ProducerRecord<>(topic.name(), key, value)).get();
    } catch (Exception e) {
      throw new IllegalStateException("producing to " + topic.name() + " failed", e);
    }
  }

  private <V> ConsumerRecord<String, V> awaitRecord(Topic<String, V> topic,
      java.util.function.Predicate<V> matches) {
    return await().atMost(Duration.ofSeconds(90)).until(
        () -> CommittedValues.records(devstack.bootstrapServers(), topic).stream()
            .filter(r -> r.value() != null && matches.test(r.value())).findFirst().orElse(null),
        java.util.Objects::nonNull);
  }

  private static GenericRecord tx(Schema schema, String id, double amount, Instant time) {
    GenericData.Record r = new GenericData.Record(schema);
    r.put("event_id", id);
    r.put("card_id", "card-7");
    r.put("amount", amount);
    r.put("country", "FR");
    r.put("event_time", time.toEpochMilli());
    return r;
  }

  private static Actor alice() {
    return Actor.newBuilder().setName("alice@example.com").setKind(ActorKind.HUMAN)
        .setRoles(List.of("ml-engineer")).build();
  }

  private String alertId() {
    return "alert-" + names.prefix();
  }

  private TrainingReason driftReason() {
    return TrainingReason.newBuilder().setKind(TriggerKind.DRIFT_ALERT)
        .setDetail("amount_sum_24h shifted").setTriggeredAt(T0.plusSeconds(500))
        .setAlertId(alertId()).build();
  }

  private TrainingReason manualReason() {
    return TrainingReason.newBuilder().setKind(TriggerKind.MANUAL)
        .setDetail("retrain after the review").setTriggeredAt(T0.plusSeconds(600))
        .setRequestId("req-" + names.prefix()).build();
  }

  private TrainingRun completedRun(String model, String run) {
    List<OffsetRange> ranges = new ArrayList<>();
    for (int partition = 0; partition < 3; partition++) {
      ranges.add(OffsetRange.newBuilder().setTopic(topics.features().name())
          .setPartition(partition).setStartOffset(0)
          .setEndOffset(partition == vectorOfTx1.partition() ? vectorOfTx1.offset() + 2 : 0)
          .build());
    }
    DatasetLineage dataset = DatasetLineage.newBuilder().setUri("file:///datasets/" + run
            + ".parquet").setSha256(sha256("dataset")).setRanges(ranges)
        .setFeatureGroup("card_activity").setLabelTarget("is_fraud").setTrainRows(1)
        .setHoldoutRows(1).setTrainStart(T0).setTrainEnd(T0.plusSeconds(300))
        .setHoldoutStart(T0.plusSeconds(300)).setHoldoutEnd(T0.plusSeconds(600)).build();
    ModelLineage lineage = ModelLineage.newBuilder().setRunId(run)
        .setReasons(List.of(driftReason(), manualReason())).setDataset(dataset).setTrainer("xgboost")
        .setTrainerVersion("2.1.4").setExecutor(ExecutorKind.LOCAL).build();
    return TrainingRun.newBuilder().setEventId(run + "/1/COMPLETED")
        .setEventTime(T0.plusSeconds(900)).setRunId(run).setModel(model)
        .setStatus(RunStatus.COMPLETED).setAttempt(1).setStartedAt(T0.plusSeconds(600))
        .setFinishedAt(T0.plusSeconds(900)).setDurationMs(300_000L).setLineage(lineage)
        .setMetrics(Map.of("auc", 0.91))
        .setArtifact(ModelArtifact.newBuilder().setUri("file:///artifacts/" + run + ".json")
            .setSha256(sha256("artifact-" + run)).setFormat(ModelFormat.XGBOOST).build())
        .setSignature(ModelSignature.newBuilder()
            .setFeatureNames(List.of("tx_count_24h", "amount_sum_24h"))
            .setFeatureGroup("card_activity").setTask(ModelTask.BINARY_CLASSIFICATION)
            .setDecisionThreshold(0.5).build())
        .build();
  }

  private static Prediction prediction(FeatureVector vector, ModelPromoted promoted) {
    return Prediction.newBuilder().setEventId(vector.getEventId())
        .setPredictionId("pred-" + vector.getEventId() + "-v" + promoted.getVersion())
        .setEventTime(vector.getEventTime()).setScoredAt(T0.plusSeconds(1000))
        .setEntityId(vector.getEntityId()).setModel(promoted.getModel())
        .setVersion(promoted.getVersion()).setAlias(promoted.getAlias())
        .setFeatureGroup(vector.getFeatureGroup()).setScore(0.87).setDecision(true)
        .setThreshold(0.5).setFeatures(vector.getFeatures()).setLatencyMicros(120)
        .setSource(vector.getSource()).build();
  }

  private static String sha256(String seed) {
    try {
      return HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
          .digest(seed.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
