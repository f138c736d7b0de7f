package dev.flywheel.trainingtrigger.training;

import dev.flywheel.events.ModelFormat;
import dev.flywheel.events.ModelTask;
import dev.flywheel.trainingtrigger.config.ModelSpec;
import dev.flywheel.trainingtrigger.config.XGBoostParams;
import dev.flywheel.trainingtrigger.dataset.Dataset;
import dev.flywheel.trainingtrigger.dataset.Split;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoost;
import ml.dmlc.xgboost4j.java.XGBoostError;

/**
 * The built-in trainer: XGBoost4J gradient-boosted trees for binary classification
 * ({@code binary:logistic}) and regression ({@code reg:squarederror}) on the dataset's numeric
 * features (missing values as NaN, which XGBoost routes natively).
 *
 * <p>Parameters come from the model spec and the run's overrides, as strings, and are passed to
 * XGBoost unchanged, so every XGBoost parameter works — including {@code device} ({@code cuda}
 * trains on a GPU with a CUDA build of XGBoost4J). The config refuses a key XGBoost does not
 * document ({@link XGBoostParams}), as XGBoost would ignore it. Flywheel's own: {@code num_round}
 * (boosting rounds, default {@value #DEFAULT_ROUNDS}). Defaults set unless given: {@code objective} by task,
 * {@code tree_method=hist}, {@code nthread} = available processors, {@code seed=0}, {@code
 * verbosity=0}. The model is written in XGBoost's JSON format.
 */
public final class XGBoostTrainer {

  /** The trainer's name in lineage. */
  public static final String NAME = "xgboost";
  /** Boosting rounds unless {@code num_round} is given. */
  public static final int DEFAULT_ROUNDS = 100;
  /** The parameter naming the rounds. */
  public static final String ROUNDS = XGBoostParams.NUM_ROUND;

  /** The XGBoost4J version on the class path. */
  public static final String VERSION = xgboostVersion();

  /**
   * Trains on {@code dataset.train()}, scores {@code dataset.holdout()}, writes the model to
   * {@code outDir/model.json}.
   *
   * @param params the effective parameters (spec and overrides)
   * @throws TrainingException when XGBoost refuses a parameter or fails
   */
  public TrainingOutput train(Dataset dataset, ModelSpec spec, Map<String, String> params,
      Path outDir) throws IOException {
    Map<String, String> effective = new TreeMap<>(params);
    effective.putIfAbsent("objective", spec.task() == ModelTask.REGRESSION
        ? "reg:squarederror" : "binary:logistic");
    effective.putIfAbsent("tree_method", "hist");
    effective.putIfAbsent("nthread", Integer.toString(Runtime.getRuntime().availableProcessors()));
    effective.putIfAbsent("seed", "0");
    effective.putIfAbsent("verbosity", "0");
    effective.putIfAbsent(ROUNDS, Integer.toString(DEFAULT_ROUNDS));
    int rounds;
    try {
      rounds = Integer.parseInt(effective.get(ROUNDS).trim());
    } catch (NumberFormatException e) {
      throw new TrainingException("parameter num_round is '" + effective.get(ROUNDS)
          + "'; it must be a whole number of boosting rounds, e.g. 200");
    }
    Map<String, Object> xgb = new HashMap<>(effective);
    xgb.remove(ROUNDS);
    List<String> features = dataset.featureNames();
    if (features.isEmpty()) {
      throw new TrainingException("model '" + spec.name() + "': the dataset has no numeric"
          + " feature; XGBoost needs at least one");
    }
    DMatrix train = null;
    DMatrix holdout = null;
    Booster booster = null;
    try {
      train = matrix(dataset.train());
      holdout = matrix(dataset.holdout());
      booster = XGBoost.train(train, xgb, rounds, Map.of(), null, null);
      float[][] predicted = booster.predict(holdout);
      float[] scores = new float[predicted.length];
      for (int i = 0; i < predicted.length; i++) {
        scores[i] = predicted[i][0];
      }
      Map<String, Double> metrics = spec.task() == ModelTask.REGRESSION
          ? Metrics.regression(dataset.holdout().labels(), scores)
          : Metrics.binary(dataset.holdout().labels(), scores,
              spec.training().decisionThreshold());
      Files.createDirectories(outDir);
      Path model = outDir.resolve("model.json");
      Files.write(model, booster.toByteArray("json"));
      return new TrainingOutput(model, ModelFormat.XGBOOST, VERSION, NAME, VERSION, features,
          List.of(), metrics, scores, effective);
    } catch (XGBoostError e) {
      throw new TrainingException("XGBoost failed for model '" + spec.name() + "': "
          + e.getMessage() + " (check training.params in flywheel.yaml)", e);
    } finally {
      if (booster != null) {
        booster.dispose();
      }
      if (train != null) {
        train.dispose();
      }
      if (holdout != null) {
        holdout.dispose();
      }
    }
  }

  private static DMatrix matrix(Split s) throws XGBoostError {
    DMatrix m = new DMatrix(s.x(), s.rows(), s.featureCount(), Float.NaN);
    m.setLabel(s.labels());
    return m;
  }

  private static String xgboostVersion() {
    try (InputStream in = XGBoost.class.getResourceAsStream(
        "/META-INF/maven/ml.dmlc/xgboost4j_2.12/pom.properties")) {
      if (in != null) {
        Properties p = new Properties();
        p.load(in);
        return p.getProperty("version", "unknown");
      }
    } catch (IOException e) {
      // fall through
    }
    String v = XGBoost.class.getPackage().getImplementationVersion();
    return v == null ? "unknown" : v;
  }
}
