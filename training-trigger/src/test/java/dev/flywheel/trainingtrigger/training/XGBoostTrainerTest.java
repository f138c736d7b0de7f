package dev.flywheel.trainingtrigger.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.flywheel.events.DatasetLineage;
import dev.flywheel.events.ModelFormat;
import dev.flywheel.events.ModelTask;
import dev.flywheel.trainingtrigger.SyntheticData;
import dev.flywheel.trainingtrigger.config.ModelSpec;
import dev.flywheel.trainingtrigger.dataset.Dataset;
import dev.flywheel.trainingtrigger.dataset.DatasetAssembler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.XGBoost;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class XGBoostTrainerTest {

  private static final ModelSpec FRAUD = ModelSpec.of("fraud", SyntheticData.GROUP)
      .withTarget(SyntheticData.TARGET);

  @TempDir Path dir;

  static Dataset dataset(SyntheticData data, ModelSpec spec) {
    DatasetAssembler a = new DatasetAssembler(spec.name(), spec.featureGroup(), spec.target(),
        spec.task(), List.of(), Long.MAX_VALUE);
    data.labels.forEach(a::addLabel);
    data.vectors.forEach(a::addVector);
    DatasetAssembler.Assembled s = a.assemble(0.2);
    return new Dataset(s.featureNames(), s.categoricalNames(), s.train(), s.holdout(),
        DatasetLineage.newBuilder().setSha256("0".repeat(64)).setRanges(List.of())
            .setTrainRows(s.train().rows()).setHoldoutRows(s.holdout().rows())
            .setTrainStart(java.time.Instant.ofEpochMilli(s.train().startMs()))
            .setTrainEnd(java.time.Instant.ofEpochMilli(s.train().endMs()))
            .setHoldoutStart(java.time.Instant.ofEpochMilli(s.holdout().startMs()))
            .setHoldoutEnd(java.time.Instant.ofEpochMilli(s.holdout().endMs())).build(), null);
  }

  @Test
  void shouldReachHoldoutAucAbove09OnDataWithAKnownSignal() throws Exception {
    // Given 5000 events whose label depends on f00..f02
    Dataset d = dataset(new SyntheticData(5000, 8, true, 42), FRAUD);
    // When trained
    TrainingOutput out = new XGBoostTrainer().train(d, FRAUD, Map.of("num_round", "60",
        "max_depth", "4", "eta", "0.2"), dir);
    // Then the holdout AUC is above 0.9 and the other metrics are present and sane
    assertThat(out.metrics().get(Metrics.AUC)).isGreaterThan(0.9);
    assertThat(out.metrics().get(Metrics.LOG_LOSS)).isBetween(0.0, 0.5);
    assertThat(out.metrics()).containsKeys(Metrics.PRECISION, Metrics.RECALL);
    assertThat(out.holdoutScores()).hasSize(d.holdout().rows());
  }

  @Test
  void shouldScoreAucNearOneHalfOnPureNoise() throws Exception {
    // Given labels independent of the features
    Dataset d = dataset(new SyntheticData(5000, 8, false, 43), FRAUD);
    // When trained
    TrainingOutput out = new XGBoostTrainer().train(d, FRAUD, Map.of("num_round", "60",
        "max_depth", "4"), dir);
    // Then it does no better than chance on the later holdout
    assertThat(out.metrics().get(Metrics.AUC)).isCloseTo(0.5, within(0.06));
  }

  @Test
  void shouldWriteAnXgboostJsonModelThatLoadsAndScoresLikeTheHoldoutScores() throws Exception {
    // Given
    Dataset d = dataset(new SyntheticData(2000, 4, true, 44), FRAUD);
    // When
    TrainingOutput out = new XGBoostTrainer().train(d, FRAUD, Map.of("num_round", "20"), dir);
    // Then the artifact is XGBoost JSON that XGBoost4J loads, with the same scores
    assertThat(out.format()).isEqualTo(ModelFormat.XGBOOST);
    assertThat(Files.readString(out.artifact())).startsWith("{");
    Booster loaded = XGBoost.loadModel(Files.readAllBytes(out.artifact()));
    float[][] again = loaded.predict(new ml.dmlc.xgboost4j.java.DMatrix(d.holdout().x(),
        d.holdout().rows(), d.holdout().featureCount(), Float.NaN));
    assertThat(again[0][0]).isEqualTo(out.holdoutScores()[0]);
    assertThat(out.featureNames()).containsExactly("f00", "f01", "f02", "f03");
    assertThat(out.params()).containsEntry("objective", "binary:logistic")
        .containsEntry("num_round", "20").containsEntry("tree_method", "hist");
    assertThat(out.runtimeVersion()).isEqualTo("3.4.0");
  }

  @Test
  void shouldFitARegressionWithLowerErrorThanPredictingTheMean() throws Exception {
    // Given a regression target: the labels of the signal data as a probability-like value
    ModelSpec spec = FRAUD.withTask(ModelTask.REGRESSION);
    SyntheticData data = new SyntheticData(3000, 4, true, 45);
    for (int i = 0; i < data.labels.size(); i++) {
      var x = data.vectors.get(i).getFeatures();
      data.labels.get(i).setValue(3 * x.get("f00") - 2 * x.get("f01"));
    }
    Dataset d = dataset(data, spec);
    // When
    TrainingOutput out = new XGBoostTrainer().train(d, spec, Map.of("num_round", "80"), dir);
    // Then RMSE is far below the label's spread (about 3.6)
    assertThat(out.params()).containsEntry("objective", "reg:squarederror");
    assertThat(out.metrics().get(Metrics.RMSE)).isLessThan(1.0);
    assertThat(out.metrics()).containsKey(Metrics.MAE);
  }

  @Test
  void shouldSayWhichParameterIsWrong() {
    // Given
    Dataset d = dataset(new SyntheticData(200, 4, true, 46), FRAUD);
    // Then
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new XGBoostTrainer().train(d, FRAUD,
            Map.of("num_round", "many"), dir)).isInstanceOf(TrainingException.class)
        .hasMessageContaining("num_round");
  }
}
