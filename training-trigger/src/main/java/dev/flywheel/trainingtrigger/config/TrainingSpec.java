package dev.flywheel.trainingtrigger.config;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a model trains: {@code training} of a model entry.
 *
 * <pre>{@code
 * training:
 *   trainer: xgboost             # the built-in trainer; a command or kubernetes executor runs its own
 *   params: {max_depth: 6, eta: 0.1, num_round: 200, device: cuda}
 *   allowUnknownParams: false    # true: a key XGBoost does not document is passed with a warning
 *   holdoutFraction: 0.2         # share of rows, latest in event time, kept for evaluation
 *   decisionThreshold: 0.5       # binary classification: score at or above which it is positive
 *   executor: {kind: local}      # see ExecutorSpec
 * }</pre>
 *
 * @param trainer the trainer's name, e.g. {@code xgboost}; never null
 * @param params parameters as strings; never null. With the local executor (the built-in XGBoost
 *     trainer) only {@link XGBoostParams#KNOWN} keys, unless {@code allowUnknownParams}
 * @param holdoutFraction share of rows held out, in (0, 1)
 * @param decisionThreshold the decision threshold of a binary classifier
 * @param executor where runs execute; never null
 * @param allowUnknownParams whether a key of {@code params} (or of a run's overrides) that XGBoost
 *     does not document is passed to it with a warning rather than refused
 */
public record TrainingSpec(String trainer, Map<String, String> params, double holdoutFraction,
    double decisionThreshold, ExecutorSpec executor, boolean allowUnknownParams) {

  private static final Logger log = LoggerFactory.getLogger(TrainingSpec.class);

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

  /** Unknown params refused. */
  public TrainingSpec(String trainer, Map<String, String> params, double holdoutFraction,
      double decisionThreshold, ExecutorSpec executor) {
    this(trainer, params, holdoutFraction, decisionThreshold, executor, false);
  }

  /**
   * The keys of {@code params} (a run's overrides, say) that this spec's trainer would not know:
   * with the local executor, those not in {@link XGBoostParams#KNOWN}; none with another executor,
   * whose own trainer takes any parameter, or when {@code allowUnknownParams}.
   */
  public List<String> unknownParams(Map<String, String> params) {
    if (allowUnknownParams || executor.kind() != ExecutorSpec.Kind.LOCAL) {
      return List.of();
    }
    return XGBoostParams.unknown(params.keySet());
  }

  record Yaml(String trainer, Map<String, Object> params, Double holdoutFraction,
      Double decisionThreshold, ExecutorSpec.Yaml executor, Boolean allowUnknownParams) {

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
      boolean allowUnknown = Boolean.TRUE.equals(allowUnknownParams);
      if (e.kind() == ExecutorSpec.Kind.LOCAL) {
        List<String> unknown = XGBoostParams.unknown(p.keySet());
        if (!unknown.isEmpty() && !allowUnknown) {
          throw new InvalidConfigException(XGBoostParams.problem(where + ".params", unknown)
              + "; to pass a parameter newer than Flywheel's list, set " + where
              + ".allowUnknownParams: true");
        }
        if (!unknown.isEmpty()) {
          log.warn("{}; passing {} to XGBoost all the same, as {}.allowUnknownParams is true",
              XGBoostParams.problem(where + ".params", unknown), unknown, where);
        }
      }
      return new TrainingSpec(trainer, p, h, t, e, allowUnknown);
    }
  }
}
