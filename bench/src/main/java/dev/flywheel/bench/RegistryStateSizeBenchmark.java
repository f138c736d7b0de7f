package dev.flywheel.bench;

import dev.flywheel.events.Actor;
import dev.flywheel.events.ActorKind;
import dev.flywheel.events.DatasetLineage;
import dev.flywheel.events.ExecutorKind;
import dev.flywheel.events.ModelArtifact;
import dev.flywheel.events.ModelFormat;
import dev.flywheel.events.ModelLineage;
import dev.flywheel.events.ModelRegistryState;
import dev.flywheel.events.ModelSignature;
import dev.flywheel.events.ModelTask;
import dev.flywheel.events.ModelVersion;
import dev.flywheel.events.OffsetRange;
import dev.flywheel.events.TrainingReason;
import dev.flywheel.events.TriggerKind;
import dev.flywheel.events.VersionStatus;
import dev.flywheel.serde.AvroSize;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the registry projector's size check of a model's state costs on every command: measuring
 * the state with {@link AvroSize} against encoding it with Avro, for a model of {@code versions}
 * versions as training runs register them (21 features, 8 metrics, 10 params, lineage with 6
 * offset ranges and a drift reason).
 *
 * <pre>
 * java -jar bench/target/benchmarks.jar RegistryStateSizeBenchmark
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class RegistryStateSizeBenchmark {

  @Param({"100", "800"})
  public int versions;

  private ModelRegistryState state;

  @Setup
  public void setUp() {
    Instant t0 = Instant.parse("2026-11-17T14:00:00Z");
    Actor training = Actor.newBuilder().setName("training-trigger").setKind(ActorKind.SERVICE)
        .setRoles(List.of()).build();
    List<String> features = new ArrayList<>();
    for (String agg : List.of("tx_count", "amount_sum", "amount_mean", "amount_max")) {
      for (String window : List.of("10m", "1h", "24h", "7d")) {
        features.add(agg + "_" + window);
      }
    }
    features.addAll(List.of("distinct_merchants_24h", "distinct_countries_24h",
        "seconds_since_last_tx", "amount_vs_mean_7d", "country"));
    List<ModelVersion> all = new ArrayList<>();
    for (int v = 1; v <= versions; v++) {
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
      all.add(ModelVersion.newBuilder().setVersion(v).setStatus(VersionStatus.ACTIVE)
          .setArtifact(ModelArtifact.newBuilder().setUri("file:///artifacts/v" + v + ".json")
              .setSha256(String.format("%064x", v)).setFormat(ModelFormat.XGBOOST).build())
          .setSignature(ModelSignature.newBuilder().setFeatureNames(features)
              .setCategoricalFeatures(List.of("country")).setFeatureGroup("card_activity")
              .setTask(ModelTask.BINARY_CLASSIFICATION).setDecisionThreshold(0.5).build())
          .setMetrics(metrics).setParams(params)
          .setLineage(ModelLineage.newBuilder().setRunId("run-" + v)
              .setReasons(List.of(TrainingReason.newBuilder().setKind(TriggerKind.DRIFT_ALERT)
                  .setDetail("amount_mean_7d drifted: PSI 0.31 over 5,000 predictions")
                  .setTriggeredAt(t0).setAlertId("alert-" + v).build()))
              .setDataset(DatasetLineage.newBuilder()
                  .setUri("file:///data/runs/run-" + v + "/dataset.parquet")
                  .setSha256(String.format("%064x", -v)).setRanges(ranges)
                  .setFeatureGroup("card_activity").setFeatureGroupVersion("3")
                  .setLabelTarget("is_fraud").setTrainRows(80_000).setHoldoutRows(20_000)
                  .setTrainStart(t0).setTrainEnd(t0).setHoldoutStart(t0).setHoldoutEnd(t0)
                  .build())
              .setTrainer("xgboost").setTrainerVersion("3.1.0")
              .setExecutor(ExecutorKind.LOCAL).build())
          .setDescription("Scores card payments for fraud")
          .setRegisteredAt(t0.plusSeconds(3_600L * v)).setRegisteredBy(training).build());
    }
    state = ModelRegistryState.newBuilder().setEventId("e").setEventTime(t0)
        .setModel("fraud-detector").setSequence(versions).setVersions(all).build();
  }

  /** The exact binary length by walking the state, as the registry's size check does. */
  @Benchmark
  public long measure() {
    return AvroSize.of(state);
  }

  /** The binary length by encoding the state, as a size check without AvroSize would. */
  @Benchmark
  public int encode() throws IOException {
    return state.toByteBuffer().remaining();
  }
}
