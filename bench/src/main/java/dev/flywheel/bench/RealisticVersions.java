package dev.flywheel.bench;

import dev.flywheel.events.Actor;
import dev.flywheel.events.ActorKind;
import dev.flywheel.events.BaselineProfile;
import dev.flywheel.events.DatasetLineage;
import dev.flywheel.events.ExecutorKind;
import dev.flywheel.events.FeatureKind;
import dev.flywheel.events.FeatureProfile;
import dev.flywheel.events.Histogram;
import dev.flywheel.events.ModelArtifact;
import dev.flywheel.events.ModelFormat;
import dev.flywheel.events.ModelLineage;
import dev.flywheel.events.ModelSignature;
import dev.flywheel.events.ModelTask;
import dev.flywheel.events.ModelVersion;
import dev.flywheel.events.OffsetRange;
import dev.flywheel.events.TrainingReason;
import dev.flywheel.events.TriggerKind;
import dev.flywheel.events.VersionStatus;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Model versions as the loop's training runs register them for the demo model: 21 features, 8
 * metrics, 10 params, lineage with 6 offset ranges and a drift reason, and a baseline profile of
 * every feature and the score.
 */
final class RealisticVersions {

  static final Instant T0 = Instant.parse("2026-11-17T14:00:00Z");

  static final List<String> FEATURES;

  static {
    List<String> features = new ArrayList<>();
    for (String agg : List.of("tx_count", "amount_sum", "amount_mean", "amount_max")) {
      for (String window : List.of("10m", "1h", "24h", "7d")) {
        features.add(agg + "_" + window);
      }
    }
    features.addAll(List.of("distinct_merchants_24h", "distinct_countries_24h",
        "seconds_since_last_tx", "amount_vs_mean_7d", "country"));
    FEATURES = List.copyOf(features);
  }

  private RealisticVersions() {}

  /** Version {@code v}, registered an hour after version {@code v - 1}. */
  static ModelVersion version(int v) {
    Actor training = Actor.newBuilder().setName("training-trigger").setKind(ActorKind.SERVICE)
        .setRoles(List.of()).build();
    List<OffsetRange> ranges = new ArrayList<>();
    for (String topic : List.of("flywheel.features", "flywheel.labels")) {
      for (int p = 0; p < 3; p++) {
        ranges.add(OffsetRange.newBuilder().setTopic(topic).setPartition(p).setStartOffset(0)
            .setEndOffset(100_000L * v).build());
      }
    }
    Map<String, Double> metrics = new TreeMap<>(Map.of("auc", 0.91, "logloss", 0.21,
        "precision", 0.8, "recall", 0.7, "f1", 0.75, "pr_auc", 0.6, "train_rows", 80_000.0,
        "holdout_rows", 20_000.0));
    Map<String, String> params = new TreeMap<>(Map.of("max_depth", "6", "eta", "0.1",
        "num_round", "200", "objective", "binary:logistic", "eval_metric", "auc",
        "subsample", "0.8", "colsample_bytree", "0.8", "min_child_weight", "1",
        "tree_method", "hist", "seed", "42"));
    return ModelVersion.newBuilder().setVersion(v).setStatus(VersionStatus.ACTIVE)
        .setArtifact(ModelArtifact.newBuilder().setUri("file:///artifacts/v" + v + ".json")
            .setSha256(String.format("%064x", v)).setFormat(ModelFormat.XGBOOST).build())
        .setSignature(ModelSignature.newBuilder().setFeatureNames(FEATURES)
            .setCategoricalFeatures(List.of("country")).setFeatureGroup("card_activity")
            .setTask(ModelTask.BINARY_CLASSIFICATION).setDecisionThreshold(0.5).build())
        .setMetrics(metrics).setParams(params)
        .setLineage(ModelLineage.newBuilder().setRunId("run-" + v)
            .setReasons(List.of(TrainingReason.newBuilder().setKind(TriggerKind.DRIFT_ALERT)
                .setDetail("amount_mean_7d drifted: PSI 0.31 over 5,000 predictions")
                .setTriggeredAt(T0).setAlertId("alert-" + v).build()))
            .setDataset(DatasetLineage.newBuilder()
                .setUri("file:///data/runs/run-" + v + "/dataset.parquet")
                .setSha256(String.format("%064x", -v)).setRanges(ranges)
                .setFeatureGroup("card_activity").setFeatureGroupVersion("3")
                .setLabelTarget("is_fraud").setTrainRows(80_000).setHoldoutRows(20_000)
                .setTrainStart(T0).setTrainEnd(T0).setHoldoutStart(T0).setHoldoutEnd(T0)
                .build())
            .setTrainer("xgboost").setTrainerVersion("3.1.0")
            .setExecutor(ExecutorKind.LOCAL).build())
        .setDescription("Scores card payments for fraud")
        .setRegisteredAt(T0.plusSeconds(3_600L * v)).setRegisteredBy(training).build();
  }

  /**
   * A baseline profile of the 21 features and the score as training computes one: each numeric
   * feature in 10 bins, the categorical one over 30 countries.
   */
  static BaselineProfile baseline(int v) {
    List<FeatureProfile> features = new ArrayList<>();
    for (String name : FEATURES) {
      features.add(name.equals("country") ? categorical(name) : numeric(name, v));
    }
    return BaselineProfile.newBuilder().setSampleCount(100_000).setComputedAt(T0)
        .setFeatures(features).setScore(numeric("score", v)).build();
  }

  private static FeatureProfile numeric(String name, int v) {
    List<Double> cuts = new ArrayList<>();
    List<Long> counts = new ArrayList<>();
    for (int b = 0; b < 10; b++) {
      cuts.add(b * 12.5 + v);
      counts.add(9_000L + b * 31 + v);
    }
    counts.add(1_000L + v);
    return FeatureProfile.newBuilder().setName(name).setKind(FeatureKind.NUMERIC)
        .setCount(100_000).setMissingCount(12).setMean(55.0 + v).setStd(21.0).setMin(0.0)
        .setMax(480.0).setHistogram(Histogram.newBuilder().setCutPoints(cuts).setCounts(counts)
            .build()).build();
  }

  private static FeatureProfile categorical(String name) {
    Map<String, Long> counts = new TreeMap<>();
    for (int c = 0; c < 30; c++) {
      counts.put("C" + (char) ('A' + c % 26) + (c / 26), 3_000L + c);
    }
    return FeatureProfile.newBuilder().setName(name).setKind(FeatureKind.CATEGORICAL)
        .setCount(100_000).setCategoryCounts(counts).setOtherCount(1_234).build();
  }
}
