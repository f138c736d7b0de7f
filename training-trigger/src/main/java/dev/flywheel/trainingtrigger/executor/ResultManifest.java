package dev.flywheel.trainingtrigger.executor;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flywheel.events.ModelFormat;
import dev.flywheel.trainingtrigger.dataset.Dataset;
import dev.flywheel.trainingtrigger.training.TrainingException;
import dev.flywheel.trainingtrigger.training.TrainingOutput;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The {@code manifest.json} a user's training command or Job writes next to its model:
 *
 * <pre>{@code
 * {
 *   "artifact": "model.onnx",            // required: the model file, relative to the output dir
 *   "format": "ONNX",                    // required: ONNX or XGBOOST
 *   "metrics": {"auc": 0.93},            // required: holdout metrics by name
 *   "trainer": "pytorch-mlp",            // optional, default: the model's training.trainer
 *   "trainerVersion": "2.3.1",           // optional
 *   "runtimeVersion": "17",              // optional, e.g. the ONNX opset
 *   "featureNames": ["f1", "f2"],        // optional, default: the dataset's numeric features
 *   "categoricalFeatures": [],           // optional
 *   "holdoutScores": [0.1, 0.8],         // optional: scores of the holdout rows in file order,
 *                                        //   for the baseline score profile
 *   "params": {"epochs": "10"}           // optional: parameters actually used
 * }
 * }</pre>
 *
 * @param artifact the model file name
 * @param format its format
 * @param metrics holdout metrics
 * @param trainer the trainer's name
 * @param trainerVersion its version
 * @param runtimeVersion the runtime version of the artifact
 * @param featureNames inputs in order
 * @param categoricalFeatures categorical inputs
 * @param holdoutScores holdout scores
 * @param params parameters used
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ResultManifest(String artifact, String format, Map<String, Double> metrics,
    String trainer, String trainerVersion, String runtimeVersion, List<String> featureNames,
    List<String> categoricalFeatures, float[] holdoutScores, Map<String, String> params) {

  /** The manifest's file name. */
  public static final String FILE = "manifest.json";

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Parses and checks a manifest.
   *
   * @param where where it was read, for errors
   * @throws TrainingException naming the field to fix
   */
  public static ResultManifest parse(byte[] json, String where) {
    ResultManifest m;
    try {
      m = JSON.readValue(json, ResultManifest.class);
    } catch (IOException e) {
      throw new TrainingException(where + " is not a valid result manifest: "
          + e.getMessage());
    }
    if (m.artifact() == null || m.artifact().isBlank()) {
      throw new TrainingException(where + " has no \"artifact\": name the model file the"
          + " command wrote, relative to FLYWHEEL_OUTPUT_DIR");
    }
    if (m.artifact().contains("..") || m.artifact().startsWith("/")) {
      throw new TrainingException(where + ": \"artifact\" must be a file name inside the output"
          + " directory, got " + m.artifact());
    }
    if (m.formatEnum() == ModelFormat.UNKNOWN) {
      throw new TrainingException(where + ": \"format\" is " + m.format()
          + "; write ONNX or XGBOOST");
    }
    if (m.metrics() == null || m.metrics().isEmpty()) {
      throw new TrainingException(where + " has no \"metrics\": report at least one holdout"
          + " metric, e.g. {\"auc\": 0.91}");
    }
    return m;
  }

  /** The format as the schema's enum; UNKNOWN when not one of its symbols. */
  public ModelFormat formatEnum() {
    try {
      return format == null ? ModelFormat.UNKNOWN : ModelFormat.valueOf(format.trim().toUpperCase());
    } catch (IllegalArgumentException e) {
      return ModelFormat.UNKNOWN;
    }
  }

  /** The training output this manifest describes, with the artifact at {@code artifactFile}. */
  public TrainingOutput toOutput(Path artifactFile, RunContext run) {
    Dataset d = run.dataset();
    List<String> features = featureNames == null || featureNames.isEmpty() ? d.featureNames()
        : featureNames;
    float[] scores = holdoutScores != null && holdoutScores.length == d.holdout().rows()
        ? holdoutScores : null;
    Map<String, String> used = new TreeMap<>(run.params());
    if (params != null) {
      used.putAll(params);
    }
    return new TrainingOutput(artifactFile, formatEnum(), runtimeVersion,
        trainer == null ? run.model().training().trainer() : trainer, trainerVersion, features,
        categoricalFeatures == null ? List.of() : categoricalFeatures, metrics, scores, used);
  }
}
