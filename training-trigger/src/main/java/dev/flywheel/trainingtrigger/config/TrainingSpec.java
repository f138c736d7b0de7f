package dev.flywheel.trainingtrigger.config;

import java.util.Map;
import java.util.TreeMap;

/**
 * How a model trains: {@code training} of a model entry.
 *
 * <pre>{@code
 * training:
 *   trainer: xgboost             # the built-in trainer; a command or kubernetes executor runs its own
 *   params: {max_depth: 6, eta: 0.1, num_round: 200, device: cuda}
 *   holdoutFraction: 0.2         # share of rows, latest in event time, kept for evaluation
 *   decisionThreshold: 0.5       # binary classification: score at or above which it is positive
 *   executor: {kind: local}      # see ExecutorSpec
 * }</pre>
 *
 * @param trainer the trainer's name, e.g. {@code xgboost}; never null
 * @param params parameters as strings; never null
 * @param holdoutFraction share of rows held out, in (0, 1)
 * @param decisionThreshold the decision threshold of a binary classifier
 * @param executor where runs execute; never null
 */
public record TrainingSpec(String trainer, Map<String, String> params, double holdoutFraction,
    double decisionThreshold, ExecutorSpec executor) {

  /** The built-in trainer. */
  public static final String XGBOOST = "xgboost";

  /** Holdout share unless configured. */
  public static final double DEFAULT_HOLDOUT_FRACTION = 0.2;

  /** Decision threshold unless configured. */
  public static final double DEFAULT_DECISION_THRESHOLD = 0.5;

  /** XGBoost with its defaults, run locally. */
  public static TrainingSpec defaults() {
    return new TrainingSpec(XGBOOST, Map.of(), DEFAULT_HOLDOUT_FRACTION,
        DEFAULT_DECISION_THRESHOLD, ExecutorSpec.local());
  }

  /** Defaults filled in, params sorted. */
  public TrainingSpec {
    trainer = trainer == null ? XGBOOST : trainer;
    params = params == null ? Map.of() : Map.copyOf(new TreeMap<>(params));
    executor = executor == null ? ExecutorSpec.local() : executor;
  }

  record Yaml(String trainer, Map<String, Object> params, Double holdoutFraction,
      Double decisionThreshold, ExecutorSpec.Yaml executor) {

    TrainingSpec toSpec(String where) {
      double h = holdoutFraction == null ? DEFAULT_HOLDOUT_FRACTION : holdoutFraction;
      if (!(h > 0 && h < 1)) {
        throw new InvalidConfigException(where + ".holdoutFraction is " + h
            + "; it must be between 0 and 1 (exclusive), e.g. 0.2");
      }
      double t = decisionThreshold == null ? DEFAULT_DECISION_THRESHOLD : decisionThreshold;
      Map<String, String> p = new TreeMap<>();
      if (params != null) {
        params.forEach((k, v) -> p.put(k, String.valueOf(v)));
      }
      ExecutorSpec e = executor == null ? ExecutorSpec.local() : executor.toSpec(where + ".executor");
      if (e.kind() == ExecutorSpec.Kind.LOCAL && trainer != null && !XGBOOST.equals(trainer)) {
        throw new InvalidConfigException(where + ".trainer is '" + trainer + "', but the local"
            + " executor only runs the built-in 'xgboost' trainer; use executor kind command or"
            + " kubernetes to run your own");
      }
      return new TrainingSpec(trainer, p, h, t, e);
    }
  }
}
