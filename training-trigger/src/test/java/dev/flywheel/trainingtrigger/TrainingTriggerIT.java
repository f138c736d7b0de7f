package dev.flywheel.trainingtrigger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.LogLines;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.events.ExecutorKind;
import dev.flywheel.events.ModelFormat;
import dev.flywheel.events.OffsetRange;
import dev.flywheel.events.RunStatus;
import dev.flywheel.events.TrainingRequested;
import dev.flywheel.events.TrainingRun;
import dev.flywheel.events.TriggerKind;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.DeadLetterHeaders;
import dev.flywheel.topics.Topics;
import dev.flywheel.trainingtrigger.config.TrainingTriggerConfig;
import io.javalin.Javalin;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@WithDevstack
class TrainingTriggerIT {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  private Devstack devstack;
  private UniqueNames names;
  private Topics topics;
  private TrainingTriggerService service;
  private Javalin http;

  @BeforeEach
  void setUp(Devstack devstack, UniqueNames names) {
    this.devstack = devstack;
    this.names = names;
    AvroSerdes serdes = AvroSerdes.fromConfig(Map.of("schema.registry.url",
        devstack.schemaRegistryUrl()));
    topics = Topics.builder(serdes).prefix(names.prefix()).build();
    ItSupport.createTopics(devstack, topics);
  }

  @AfterEach
  void tearDown() {
    if (http != null) {
      http.stop();
    }
    if (service != null) {
      service.close();
    }
  }

  private TrainingTriggerConfig config(String model) {
    return TrainingTriggerConfig.parse("""
        models:
          %s
        """.formatted(model.strip().replace("\n", "\n  "))
        + ItSupport.serviceSection(dir, names.applicationId("tt")), "test");
  }

  private void startService(TrainingTriggerConfig config) {
    service = TrainingTriggerService.builder().config(config)
        .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers(),
            "session.timeout.ms", 6000))
        .schemaRegistryUrl(devstack.schemaRegistryUrl()).topics(topics).build().start();
    http = Javalin.create(c -> {
      c.jetty.host = "127.0.0.1";
      c.jetty.port = 0;
      c.startup.showJavalinBanner = false;
      c.startup.showOldJavalinVersionWarning = false;
      service.routes(c.routes);
    }).start();
  }

  private HttpResponse<String> post(String path, String body) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + http.port() + path))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void shouldTrainOnTheLogAndReportACompletedRunWithEverythingTheRegistryNeeds() throws Exception {
    // Given 3000 labelled feature vectors with a signal on the log, and a model declared with a
    // key of another service (policy) in its entry
    SyntheticData data = new SyntheticData(3000, 6, true, 11);
    ItSupport.produce(devstack, topics, data);
    startService(config("""
        - name: fraud-detector
          featureGroup: card_activity
          target: is_fraud
          policy: {minAuc: 0.8}
          training:
            params: {num_round: 40, max_depth: 4}
        """));
    // When training is requested over HTTP
    HttpResponse<String> answer = post("/models/fraud-detector/train",
        "{\"reason\": \"first model\", \"actor\": \"alice\"}");
    assertThat(answer.statusCode()).isEqualTo(202);
    String requestId = JSON.readTree(answer.body()).get("requestId").asText();
    // Then the run is STARTED and then COMPLETED, once each
    await().atMost(Duration.ofSeconds(90)).until(() -> ItSupport.runs(devstack, topics).stream()
        .anyMatch(r -> r.getStatus() == RunStatus.COMPLETED));
    List<TrainingRun> runs = ItSupport.runs(devstack, topics);
    assertThat(runs).extracting(TrainingRun::getStatus)
        .containsExactly(RunStatus.STARTED, RunStatus.COMPLETED);
    TrainingRun done = runs.get(1);
    assertThat(done.getRunId()).isEqualTo("fraud-detector-1");
    assertThat(done.getEventId()).isEqualTo("fraud-detector-1/1/completed");
    // And it carries metrics, params, a verifiable artifact, signature and baseline
    assertThat(done.getMetrics().get("auc")).isGreaterThan(0.9);
    assertThat(done.getMetrics()).containsKeys("log_loss", "precision", "recall");
    assertThat(done.getParams()).containsEntry("num_round", "40").containsEntry("max_depth", "4");
    assertThat(done.getArtifact().getFormat()).isEqualTo(ModelFormat.XGBOOST);
    byte[] model = Files.readAllBytes(Path.of(URI.create(done.getArtifact().getUri())));
    assertThat(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(model)))
        .isEqualTo(done.getArtifact().getSha256());
    assertThat(done.getSignature().getFeatureNames())
        .containsExactly("f00", "f01", "f02", "f03", "f04", "f05");
    assertThat(done.getSignature().getFeatureGroupVersion()).isEqualTo("v1");
    assertThat(done.getSignature().getDecisionThreshold()).isEqualTo(0.5);
    assertThat(done.getBaseline().getFeatures()).hasSize(6);
    assertThat(done.getBaseline().getScore()).isNotNull();
    assertThat(done.getBaseline().getSampleCount())
        .isEqualTo(done.getLineage().getDataset().getHoldoutRows());
    // And the lineage: the reason with its request, the exact offset ranges, the time split
    assertThat(done.getLineage().getReasons()).singleElement().satisfies(r -> {
      assertThat(r.getKind()).isEqualTo(TriggerKind.MANUAL);
      assertThat(r.getRequestId()).isEqualTo(requestId);
      assertThat(r.getDetail()).isEqualTo("first model");
    });
    var dataset = done.getLineage().getDataset();
    assertThat(dataset.getTrainRows() + dataset.getHoldoutRows()).isEqualTo(3000);
    assertThat(dataset.getHoldoutStart()).isAfter(dataset.getTrainEnd());
    assertThat(dataset.getRanges().stream().filter(r -> r.getTopic()
        .equals(topics.features().name())).mapToLong(OffsetRange::getEndOffset).sum())
        .isEqualTo(3000);
    assertThat(dataset.getRanges().stream().filter(r -> r.getTopic()
        .equals(topics.labels().name())).mapToLong(OffsetRange::getEndOffset).sum())
        .isEqualTo(3000);
    assertThat(Files.exists(Path.of(URI.create(dataset.getUri())))).isTrue();
    assertThat(done.getLineage().getTrainer()).isEqualTo("xgboost");
    assertThat(done.getLineage().getTrainerVersion()).isEqualTo("3.4.0");
    assertThat(done.getLineage().getExecutor()).isEqualTo(ExecutorKind.LOCAL);
    assertThat(done.getDurationMs()).isNotNull();
    // And the coordinator's changelog holds the model with no run in flight
    String changelog = names.applicationId("tt") + "-"
        + TrainingTriggerTopology.MODEL_STATE_STORE + "-changelog";
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      List<ConsumerRecord<String, byte[]>> states = ItSupport.readAll(devstack, changelog,
          new ByteArrayDeserializer());
      JsonNode last = JSON.readTree(states.get(states.size() - 1).value());
      assertThat(states.get(states.size() - 1).key()).isEqualTo("fraud-detector");
      assertThat(last.get("runSeq").asLong()).as(last.toString()).isEqualTo(1);
      assertThat(last.get("inFlightRunId").isNull()).isTrue();
    });
  }

  @Test
  void shouldRetryAFailedRunUnderTheSameRunIdAndStopAfterTheLastAttempt() throws Exception {
    // Given a model whose command always fails, with 2 attempts 1 second apart
    ItSupport.produce(devstack, topics, new SyntheticData(200, 3, true, 12));
    startService(config("""
        - name: flaky
          featureGroup: card_activity
          target: is_fraud
          training:
            executor: {kind: command, command: [sh, -c, "echo no GPU; exit 3"]}
          triggers:
            retry: {maxAttempts: 2, backoff: PT1S}
        """));
    // When training is requested
    assertThat(post("/models/flaky/train", "").statusCode()).isEqualTo(202);
    // Then attempt 1 and attempt 2 of the same run both fail, and nothing more starts
    await().atMost(Duration.ofSeconds(60)).until(() -> ItSupport.runs(devstack, topics).stream()
        .filter(r -> r.getStatus() == RunStatus.FAILED).count() == 2);
    List<TrainingRun> runs = ItSupport.runs(devstack, topics);
    assertThat(runs).extracting(r -> r.getRunId() + "/" + r.getAttempt() + "/" + r.getStatus())
        .containsExactly("flaky-1/1/STARTED", "flaky-1/1/FAILED", "flaky-1/2/STARTED",
            "flaky-1/2/FAILED");
    assertThat(runs.get(1).getError()).contains("exited with status 3").contains("no GPU");
    assertThat(runs.get(3).getLineage().getReasons()).extracting(r -> r.getKind())
        .containsExactly(TriggerKind.MANUAL, TriggerKind.RETRY);
    assertThat(runs.get(3).getLineage().getDataset()).isNotNull();
    // And once the last attempt's outcome is written, the run's work directory is deleted
    Path work = dir.resolve("work").resolve("flaky-1");
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(work).doesNotExist());
  }

  @Test
  void shouldAnswer404NamingTheDeclaredModelsForAnUnknownModel() throws Exception {
    // Given
    startService(config("""
        - name: fraud-detector
          featureGroup: card_activity
        """));
    // When
    HttpResponse<String> answer = post("/models/fraud-detecter/train", "{}");
    // Then
    assertThat(answer.statusCode()).isEqualTo(404);
    assertThat(answer.body()).contains("fraud-detecter").contains("[fraud-detector]");

    // And a body with a misspelt field, or that is not JSON, is refused saying what to fix,
    // without the parser's internals
    HttpResponse<String> misspelt = post("/models/fraud-detector/train", "{\"resaon\": \"x\"}");
    assertThat(misspelt.statusCode()).isEqualTo(400);
    assertThat(misspelt.body()).contains("unknown field(s) [resaon]", "reason", "actor", "params");
    HttpResponse<String> broken = post("/models/fraud-detector/train", "{\"reason\": }");
    assertThat(broken.statusCode()).isEqualTo(400);
    assertThat(broken.body()).contains("not JSON", "line 1, column").doesNotContain("Source");
  }
  @Test
  void shouldStartWithAModelTrainedOutsideFlywheelAndRefuseEveryRequestToTrainIt()
      throws Exception {
    // Given a model trained elsewhere, declared for the registry and drift only
    try (LogLines log = LogLines.of(TrainingTriggerService.class)) {
      startService(config("""
          - name: fraud-detector
            featureGroup: card_activity
          - name: vendor-scorer
            policy: {minAuc: 0.8}
          """));
      // Then the service starts, and says once that it will not train it
      assertThat(log.contain("model 'vendor-scorer' names no featureGroup: trained outside"
          + " Flywheel; training-trigger will not train it")).isTrue();
    }
    // When its training is asked for over HTTP
    HttpResponse<String> answer = post("/models/vendor-scorer/train", "{}");
    // Then it is refused, saying what to add
    assertThat(answer.statusCode()).isEqualTo(409);
    assertThat(answer.body()).contains("without featureGroup").contains("add featureGroup:");
    // When a request for it reaches the requests topic all the same (flywheel train unchecked)
    TrainingRequested request = ManualRequests.of("vendor-scorer", "retrain", "alice", Map.of(),
        java.time.Instant.now());
    assertThat(service.sendRequest(request)).isNull();
    // Then the coordinator puts it on the dead-letter topic with the reason, and starts nothing
    String dlq = topics.dlq(topics.trainingRequests()).name();
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      List<ConsumerRecord<String, byte[]>> dead = ItSupport.readAll(devstack, dlq,
          new ByteArrayDeserializer());
      assertThat(dead).singleElement().satisfies(r -> assertThat(new String(
              r.headers().lastHeader(DeadLetterHeaders.ERROR).value(), StandardCharsets.UTF_8))
          .contains("model 'vendor-scorer' is declared in flywheel.yaml without featureGroup")
          .contains("add featureGroup:"));
    });
    assertThat(ItSupport.runs(devstack, topics)).isEmpty();
  }
}
