package dev.flywheel.trainingtrigger.training;

import dev.flywheel.events.ModelFormat;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What a trainer hands back, before the artifact is stored and the run reported.
 *
 * @param artifact the model file on local disk
 * @param format its format
 * @param runtimeVersion the version of the library that wrote it; null if unknown
 * @param trainer the trainer's name, e.g. {@code xgboost}
 * @param trainerVersion its version; null if unknown
 * @param featureNames the model's inputs, in order
 * @param categoricalFeatures the subset of inputs that are categorical
 * @param metrics holdout metrics by name
 * @param holdoutScores the model's scores on the holdout rows in order; null if not given
 * @param params the effective training parameters
 */
public record TrainingOutput(Path artifact, ModelFormat format, String runtimeVersion,
    String trainer, String trainerVersion, List<String> featureNames,
    List<String> categoricalFeatures, Map<String, Double> metrics, float[] holdoutScores,
    Map<String, String> params) {}
