package dev.flywheel.events;

import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;

/**
 * One realistic, fully populated instance of every event (optional fields set, so a round trip
 * exercises every branch), built with the generated builders. Times are whole milliseconds, as
 * {@code timestamp-millis} keeps them.
 */
public final class SampleEvents {

  /** A fixed instant: 2026-03-01T12:00:00Z. */
  public static final Instant T0 = Instant.parse("2026-03-01T12:00:00Z");

  private SampleEvents() {}

  /** The demo source record. */
  public static Transaction transaction() {
    return Transaction.newBuilder()
        .setEventId("tx-000042")
        .setCardId("card-7")
        .setMerchant("m-1234")
        .setCategory("electronics")
        .setAmount(249.99)
        .setCurrency("EUR")
        .setCountry("DE")
        .setChannel(Channel.ECOMMERCE)
        .setEventTime(T0)
        .build();
  }

  /** A feature vector with a missing (null) feature and a categorical one. */
  public static FeatureVector featureVector() {
    Map<String, Double> features = new LinkedHashMap<>();
    features.put("amount_sum_1h", 512.5);
    features.put("tx_count_10m", 3.0);
    features.put("seconds_since_last_tx", null);
    return FeatureVector.newBuilder()
        .setEventId("tx-000042")
        .setEventTime(T0)
        .setEntityId("card-7")
        .setFeatureGroup("card_activity")
        .setFeatureGroupVersion("sha256:9f86d081")
        .setFeatures(features)
        .setCategoricalFeatures(Map.of("last_category", "electronics"))
        .setAsOf(T0)
        .setComputedAt(T0.plusMillis(7))
        .setSource(origin("flywheel.data.transactions", 2, 1041))
        .build();
  }

  /** A fraud label that arrived a day after the transaction. */
  public static Label label() {
    return Label.newBuilder()
        .setEventId("tx-000042")
        .setEventTime(T0.plusSeconds(86_400))
        .setLabelledEventTime(T0)
        .setEntityId("card-7")
        .setTarget("is_fraud")
        .setValue(1.0)
        .setSource("chargebacks")
        .build();
  }

  /** A retraining request caused by a drift alert. */
  public static TrainingRequested trainingRequested() {
    return TrainingRequested.newBuilder()
        .setEventId("req-1")
        .setEventTime(T0)
        .setModel("fraud-detector")
        .setReason(driftReason())
        .setActor(service("drift-detector"))
        .setParams(Map.of("max_depth", "6"))
        .setNotBefore(T0.plusSeconds(60))
        .build();
  }

  /** A completed run with everything needed to register its version. */
  public static TrainingRun trainingRun() {
    return TrainingRun.newBuilder()
        .setEventId("run-fraud-detector-7:COMPLETED")
        .setEventTime(T0.plusSeconds(300))
        .setRunId("run-fraud-detector-7")
        .setModel("fraud-detector")
        .setStatus(RunStatus.COMPLETED)
        .setAttempt(1)
        .setStartedAt(T0)
        .setFinishedAt(T0.plusSeconds(300))
        .setDurationMs(300_000L)
        .setLineage(lineage())
        .setParams(Map.of("max_depth", "6", "eta", "0.1"))
        .setMetrics(Map.of("auc", 0.93, "log_loss", 0.21))
        .setArtifact(artifact())
        .setSignature(signature())
        .setBaseline(baseline())
        .setError(null)
        .build();
  }

  /** A registration command, as a completed run sends it. */
  public static RegistryCommand registerCommand() {
    return command("run:run-fraud-detector-7", RegisterVersion.newBuilder()
        .setArtifact(artifact())
        .setSignature(signature())
        .setMetrics(Map.of("auc", 0.93))
        .setParams(Map.of("max_depth", "6"))
        .setBaseline(baseline())
        .setLineage(lineage())
        .setTags(Map.of("team", "risk"))
        .setDescription("Card fraud, XGBoost on card_activity")
        .build());
  }

  /** One command of every other kind, in the order of the command union. */
  public static List<RegistryCommand> otherCommands() {
    return List.of(
        command("c-set", SetAlias.newBuilder().setAlias("challenger").setVersion(4).build()),
        command("c-rm", RemoveAlias.newBuilder().setAlias("challenger").build()),
        command("c-ok", ApproveVersion.newBuilder().setAlias("champion").setVersion(4)
            .setComment("holdout reviewed").build()),
        command("c-no", RejectVersion.newBuilder().setAlias("champion").setVersion(3)
            .setComment("recall too low").build()),
        command("c-up", PromoteVersion.newBuilder().setAlias("champion").setVersion(4).build()),
        command("c-back", RollbackAlias.newBuilder().setAlias("champion").setToVersion(3).build()),
        command("c-arch", ArchiveVersion.newBuilder().setVersion(2).build()),
        command("c-unarch", UnarchiveVersion.newBuilder().setVersion(2).build()),
        command("c-tags", SetTags.newBuilder().setVersion(4).setTags(Map.of("reviewed", "yes"))
            .setRemoveKeys(List.of("draft")).build()),
        command("c-fail", ReportServingFailure.newBuilder().setVersion(5).setAlias("champion")
            .setCheck(ServingCheck.DIGEST_MISMATCH)
            .setMessage("artifact sha256 is 3f1a but the registry expects 9c0d")
            .setInstance("serving-0").build()));
  }

  /** A rejected promotion in the audit log. */
  public static ModelEvent modelEvent() {
    return ModelEvent.newBuilder()
        .setEventId("me-17")
        .setEventTime(T0.plusSeconds(1))
        .setModel("fraud-detector")
        .setSequence(17L)
        .setCommandId("c-up")
        .setCommandTime(T0)
        .setActor(human("alice@example.com", "ml-engineer"))
        .setCommand(PromoteVersion.newBuilder().setAlias("champion").setVersion(4).build())
        .setOutcome(CommandOutcome.REJECTED)
        .setReason("version 4 needs an approval by a risk-approver for alias champion")
        .setFailedGate("approval by risk-approver")
        .setVersion(4)
        .setAlias("champion")
        .setPreviousVersion(3)
        .setCausedBy("run:run-fraud-detector-7")
        .build();
  }

  /** A promotion of version 4 to champion. */
  public static ModelPromoted modelPromoted() {
    return ModelPromoted.newBuilder()
        .setEventId("mp-4")
        .setEventTime(T0.plusSeconds(2))
        .setModel("fraud-detector")
        .setAlias("champion")
        .setVersion(4)
        .setPreviousVersion(3)
        .setRollback(false)
        .setArtifact(artifact())
        .setSignature(signature())
        .setMetrics(Map.of("auc", 0.93))
        .setBaseline(baseline())
        .setLineage(lineage())
        .setActor(service("registry-projector"))
        .setReason("all gates passed: auc 0.93 >= 0.75")
        .setCommandId("c-up")
        .build();
  }

  /** A champion prediction scored from the stream. */
  public static Prediction prediction() {
    Map<String, Double> features = new LinkedHashMap<>();
    features.put("amount_sum_1h", 512.5);
    features.put("seconds_since_last_tx", null);
    return Prediction.newBuilder()
        .setEventId("tx-000042")
        .setPredictionId("tx-000042:fraud-detector:4:champion")
        .setEventTime(T0)
        .setScoredAt(T0.plusMillis(12))
        .setEntityId("card-7")
        .setModel("fraud-detector")
        .setVersion(4)
        .setAlias("champion")
        .setFeatureGroup("card_activity")
        .setScore(0.87)
        .setDecision(true)
        .setThreshold(0.5)
        .setShadow(false)
        .setFeatures(features)
        .setCategoricalFeatures(Map.of("last_category", "electronics"))
        .setLatencyMicros(85L)
        .setScoringMode(ScoringMode.STREAM)
        .setSource(origin("flywheel.data.transactions", 2, 1041))
        .build();
  }

  /** A drifted count window with live performance. */
  public static DriftReport driftReport() {
    return DriftReport.newBuilder()
        .setEventId("dr-fraud-detector-4-12")
        .setEventTime(T0.plusSeconds(600))
        .setModel("fraud-detector")
        .setAlias("champion")
        .setBaselineVersion(4)
        .setWindow(window())
        .setFeatures(List.of(amountDrift(), categoryDrift()))
        .setScore(scoreDrift())
        .setPerformance(LivePerformance.newBuilder().setLabelledCount(812L)
            .setMetrics(Map.of("auc", 0.81, "log_loss", 0.35)).build())
        .setDriftedShare(0.5)
        .setDrifted(true)
        .setConsecutiveDrifted(3)
        .build();
  }

  /** The alert the report above fired. */
  public static DriftAlert driftAlert() {
    return DriftAlert.newBuilder()
        .setEventId("da-fraud-detector-4-12")
        .setEventTime(T0.plusSeconds(600))
        .setModel("fraud-detector")
        .setAlias("champion")
        .setBaselineVersion(4)
        .setWindow(window())
        .setOnset(T0.minusSeconds(1200))
        .setConsecutiveDrifted(3)
        .setDriftedShare(0.5)
        .setTopFeatures(List.of(amountDrift()))
        .setScore(scoreDrift())
        .setReportId("dr-fraud-detector-4-12")
        .setPolicy(">= 30% of features drifted for 3 consecutive windows")
        .build();
  }

  /** A model with two versions, one archived, a champion alias with history and an approval. */
  public static ModelRegistryState modelRegistryState() {
    ModelVersion v3 = ModelVersion.newBuilder()
        .setVersion(3)
        .setStatus(VersionStatus.ARCHIVED)
        .setArtifact(artifact())
        .setSignature(signature())
        .setMetrics(Map.of("auc", 0.90))
        .setParams(Map.of())
        .setLineage(null)
        .setTags(Map.of())
        .setDescription(null)
        .setRegisteredAt(T0.minusSeconds(86_400))
        .setRegisteredBy(human("bob@example.com", "ml-engineer"))
        .setHasBaseline(false)
        .setApprovals(List.of())
        .build();
    ModelVersion v4 = ModelVersion.newBuilder()
        .setVersion(4)
        .setStatus(VersionStatus.ACTIVE)
        .setArtifact(artifact())
        .setSignature(signature())
        .setMetrics(Map.of("auc", 0.93))
        .setParams(Map.of("max_depth", "6"))
        .setLineage(lineage())
        .setTags(Map.of("team", "risk"))
        .setDescription("Card fraud, XGBoost on card_activity")
        .setRegisteredAt(T0)
        .setRegisteredBy(service("training-trigger"))
        .setHasBaseline(true)
        .setApprovals(List.of(Approval.newBuilder()
            .setAlias("champion")
            .setApproved(true)
            .setActor(human("carol@example.com", "risk-approver"))
            .setDecidedAt(T0.plusSeconds(1))
            .setComment("holdout reviewed")
            .setCommandId("c-ok")
            .build()))
        .build();
    return ModelRegistryState.newBuilder()
        .setEventId("me-18")
        .setEventTime(T0.plusSeconds(2))
        .setModel("fraud-detector")
        .setSequence(18L)
        .setVersions(List.of(v3, v4))
        .setAliases(List.of(AliasState.newBuilder()
            .setAlias("champion")
            .setVersion(4)
            .setAssignedAt(T0.plusSeconds(2))
            .setAssignedBy(service("registry-projector"))
            .setPreviousVersions(List.of(3, 2))
            .build()))
        .setTags(Map.of("owner", "risk"))
        .build();
  }

  /** Every sample above: one instance of each top-level schema, and every registry command. */
  public static List<SpecificRecord> all() {
    List<SpecificRecord> all = new java.util.ArrayList<>(Arrays.asList(
        transaction(), featureVector(), label(), trainingRequested(), trainingRun(),
        registerCommand(), modelEvent(), modelPromoted(), prediction(), driftReport(),
        driftAlert(), modelRegistryState()));
    all.addAll(otherCommands());
    return all;
  }

  private static RegistryCommand command(String id, Object command) {
    return RegistryCommand.newBuilder()
        .setEventId(id)
        .setEventTime(T0)
        .setModel("fraud-detector")
        .setActor(human("alice@example.com", "ml-engineer"))
        .setReason("weekly review")
        .setCommand(command)
        .build();
  }

  private static RecordOrigin origin(String topic, int partition, long offset) {
    return RecordOrigin.newBuilder().setTopic(topic).setPartition(partition).setOffset(offset)
        .build();
  }

  private static Actor human(String name, String role) {
    return Actor.newBuilder().setName(name).setKind(ActorKind.HUMAN).setRoles(List.of(role))
        .build();
  }

  private static Actor service(String name) {
    return Actor.newBuilder().setName(name).setKind(ActorKind.SERVICE).setRoles(List.of()).build();
  }

  private static TrainingReason driftReason() {
    return TrainingReason.newBuilder()
        .setKind(TriggerKind.DRIFT_ALERT)
        .setDetail("PSI 0.31 on amount_mean_7d for 3 windows")
        .setTriggeredAt(T0)
        .setRequestId(null)
        .setAlertId("da-fraud-detector-4-12")
        .setLabelCount(null)
        .setRetryOfRunId(null)
        .build();
  }

  private static ModelArtifact artifact() {
    return ModelArtifact.newBuilder()
        .setUri("file:///var/flywheel/artifacts/9c/9c0d")
        .setSha256("9c0d5f3b1e7a4c2d8e6f0a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d")
        .setFormat(ModelFormat.XGBOOST)
        .setSizeBytes(48_213L)
        .setRuntimeVersion("2.1.4")
        .build();
  }

  private static ModelSignature signature() {
    return ModelSignature.newBuilder()
        .setFeatureNames(List.of("amount_sum_1h", "tx_count_10m", "last_category"))
        .setCategoricalFeatures(List.of("last_category"))
        .setFeatureGroup("card_activity")
        .setFeatureGroupVersion("sha256:9f86d081")
        .setTask(ModelTask.BINARY_CLASSIFICATION)
        .setLabelTarget("is_fraud")
        .setDecisionThreshold(0.5)
        .build();
  }

  private static ModelLineage lineage() {
    DatasetLineage dataset = DatasetLineage.newBuilder()
        .setUri("file:///var/flywheel/datasets/5e/5e88")
        .setSha256("5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8")
        .setRanges(List.of(
            OffsetRange.newBuilder().setTopic("flywheel.features").setPartition(0)
                .setStartOffset(0L).setEndOffset(120_000L).build(),
            OffsetRange.newBuilder().setTopic("flywheel.labels").setPartition(0)
                .setStartOffset(0L).setEndOffset(4_100L).build()))
        .setFeatureGroup("card_activity")
        .setFeatureGroupVersion("sha256:9f86d081")
        .setLabelTarget("is_fraud")
        .setTrainRows(96_000L)
        .setHoldoutRows(24_000L)
        .setTrainStart(T0.minusSeconds(30 * 86_400))
        .setTrainEnd(T0.minusSeconds(6 * 86_400))
        .setHoldoutStart(T0.minusSeconds(6 * 86_400 - 1))
        .setHoldoutEnd(T0)
        .build();
    return ModelLineage.newBuilder()
        .setRunId("run-fraud-detector-7")
        .setReasons(List.of(driftReason()))
        .setDataset(dataset)
        .setTrainer("xgboost")
        .setTrainerVersion("2.1.4")
        .setExecutor(ExecutorKind.LOCAL)
        .build();
  }

  private static BaselineProfile baseline() {
    FeatureProfile amount = FeatureProfile.newBuilder()
        .setName("amount_sum_1h")
        .setKind(FeatureKind.NUMERIC)
        .setCount(24_000L)
        .setMissingCount(120L)
        .setMean(210.4)
        .setStd(95.2)
        .setMin(0.0)
        .setMax(4_200.0)
        .setHistogram(Histogram.newBuilder()
            .setCutPoints(List.of(50.0, 120.0, 250.0))
            .setCounts(List.of(5_970L, 5_970L, 5_970L, 5_970L))
            .build())
        .setCategoryCounts(Map.of())
        .setOtherCount(0L)
        .build();
    FeatureProfile category = FeatureProfile.newBuilder()
        .setName("last_category")
        .setKind(FeatureKind.CATEGORICAL)
        .setCount(24_000L)
        .setMissingCount(0L)
        .setMean(null)
        .setStd(null)
        .setMin(null)
        .setMax(null)
        .setHistogram(null)
        .setCategoryCounts(Map.of("grocery", 12_000L, "electronics", 7_000L, "travel", 4_000L))
        .setOtherCount(1_000L)
        .build();
    FeatureProfile score = FeatureProfile.newBuilder(amount)
        .setName("score")
        .setMissingCount(0L)
        .setMean(0.04)
        .setStd(0.11)
        .setMin(0.0)
        .setMax(1.0)
        .setHistogram(Histogram.newBuilder().setCutPoints(List.of(0.5))
            .setCounts(List.of(23_000L, 1_000L)).build())
        .build();
    return BaselineProfile.newBuilder()
        .setSampleCount(24_000L)
        .setComputedAt(T0)
        .setFeatures(List.of(amount, category))
        .setScore(score)
        .build();
  }

  private static DriftWindow window() {
    return DriftWindow.newBuilder()
        .setKind(WindowKind.COUNT)
        .setSequence(12L)
        .setStartTime(T0.minusSeconds(300))
        .setEndTime(T0.plusSeconds(600))
        .setCount(5_000L)
        .build();
  }

  private static FeatureDrift amountDrift() {
    return FeatureDrift.newBuilder()
        .setFeature("amount_sum_1h")
        .setKind(FeatureKind.NUMERIC)
        .setSampleCount(5_000L)
        .setMissingRate(0.004)
        .setStatistics(List.of(
            statistic(DriftMethod.PSI, 0.31, null, 0.2, true),
            statistic(DriftMethod.KOLMOGOROV_SMIRNOV, 0.12, 1.0e-9, 0.05, true),
            statistic(DriftMethod.WASSERSTEIN, 0.42, null, 0.1, true)))
        .setDecidedBy(DriftMethod.PSI)
        .setDrifted(true)
        .build();
  }

  private static FeatureDrift categoryDrift() {
    return FeatureDrift.newBuilder()
        .setFeature("last_category")
        .setKind(FeatureKind.CATEGORICAL)
        .setSampleCount(5_000L)
        .setMissingRate(0.0)
        .setStatistics(List.of(
            statistic(DriftMethod.CHI_SQUARE, 3.1, 0.38, 0.05, false),
            statistic(DriftMethod.JENSEN_SHANNON, 0.03, null, 0.1, false)))
        .setDecidedBy(DriftMethod.CHI_SQUARE)
        .setDrifted(false)
        .build();
  }

  private static FeatureDrift scoreDrift() {
    return FeatureDrift.newBuilder()
        .setFeature("score")
        .setKind(FeatureKind.NUMERIC)
        .setSampleCount(5_000L)
        .setMissingRate(0.0)
        .setStatistics(List.of(statistic(DriftMethod.PSI, 0.08, null, null, false)))
        .setDecidedBy(null)
        .setDrifted(false)
        .build();
  }

  private static DriftStatistic statistic(
      DriftMethod method, double value, Double pValue, Double threshold, boolean drifted) {
    return DriftStatistic.newBuilder()
        .setMethod(method)
        .setValue(value)
        .setPValue(pValue)
        .setThreshold(threshold)
        .setDrifted(drifted)
        .build();
  }
}
