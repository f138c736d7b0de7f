package dev.flywheel.trainingtrigger.config;

import dev.flywheel.text.KeyHints;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The keys {@code training.params} may hold for the built-in XGBoost trainer (the {@code local}
 * executor): XGBoost's documented parameters and Flywheel's own {@value #NUM_ROUND}. XGBoost
 * ignores a parameter it does not know ({@code max_dept: 6} trains with the default depth), and
 * xgboost4j does not say which parameters went unused, so an unknown key is refused when the
 * config is loaded, with the closest known key; {@code training.allowUnknownParams: true} passes it
 * on with a warning instead, for a parameter newer than this list.
 *
 * <p>The params of a {@code command} or {@code kubernetes} executor go to the user's own trainer
 * ({@code FLYWHEEL_PARAMS}) and are not checked.
 */
public final class XGBoostParams {

  /** XGBoost's parameter reference. */
  public static final String DOCS = "https://xgboost.readthedocs.io/en/stable/parameter.html";

  /** Flywheel's own key: the number of boosting rounds; not passed to XGBoost. */
  public static final String NUM_ROUND = "num_round";

  /**
   * Every parameter XGBoost documents, sorted.
   *
   * <p>Source: XGBoost's {@code doc/parameter.rst} (github.com/dmlc/xgboost), as published for
   * XGBoost 3.x at {@link #DOCS} (the 3.2+ text, which documents {@code use_cuda_async_pool}; the
   * XGBoost4J in use is 3.4, whose release notes add no parameter). It lists, by section: global
   * configuration; general parameters; tree booster (with {@code max_cached_hist_node} and {@code
   * extmem_single_page} of the hist tree method, declared together in 3.0's {@code
   * tree/hist/param.h}, and the categorical {@code max_cat_to_onehot}, {@code
   * max_cat_threshold}); DART booster; linear booster; learning task and the objective-specific
   * parameters (Tweedie, pseudo-Huber, quantile, AFT, learning to rank). Aliases are listed beside
   * their parameter: {@code eta}/{@code learning_rate}, {@code gamma}/{@code min_split_loss},
   * {@code lambda}/{@code reg_lambda}, {@code alpha}/{@code reg_alpha}. {@code num_class} is named
   * in the text of the {@code multi:softmax} objective rather than as an entry of its own (the R
   * package's {@code xgb.params()}, which mirrors the page, has it as a parameter). The 3.x page
   * no longer has the "command line parameters" section of older releases, where {@code
   * num_round} was; here that key is Flywheel's {@link #NUM_ROUND}.
   */
  public static final List<String> DOCUMENTED = List.of(
      "aft_loss_distribution",
      "aft_loss_distribution_scale",
      "alpha",
      "base_score",
      "booster",
      "colsample_bylevel",
      "colsample_bynode",
      "colsample_bytree",
      "device",
      "disable_default_eval_metric",
      "eta",
      "eval_metric",
      "extmem_single_page",
      "feature_selector",
      "gamma",
      "grow_policy",
      "huber_slope",
      "interaction_constraints",
      "lambda",
      "lambdarank_bias_norm",
      "lambdarank_normalization",
      "lambdarank_num_pair_per_sample",
      "lambdarank_pair_method",
      "lambdarank_score_normalization",
      "lambdarank_unbiased",
      "learning_rate",
      "max_bin",
      "max_cached_hist_node",
      "max_cat_threshold",
      "max_cat_to_onehot",
      "max_delta_step",
      "max_depth",
      "max_leaves",
      "min_child_weight",
      "min_split_loss",
      "monotone_constraints",
      "multi_strategy",
      "ndcg_exp_gain",
      "normalize_type",
      "nthread",
      "num_class",
      "num_parallel_tree",
      "objective",
      "one_drop",
      "process_type",
      "quantile_alpha",
      "rate_drop",
      "refresh_leaf",
      "reg_alpha",
      "reg_lambda",
      "sample_type",
      "sampling_method",
      "scale_pos_weight",
      "seed",
      "seed_per_iteration",
      "skip_drop",
      "subsample",
      "top_k",
      "tree_method",
      "tweedie_variance_power",
      "updater",
      "use_cuda_async_pool",
      "use_rmm",
      "validate_parameters",
      "verbosity");

  /** Every key {@code params} may hold: {@link #DOCUMENTED} and {@link #NUM_ROUND}, sorted. */
  public static final SortedSet<String> KNOWN;

  static {
    SortedSet<String> known = new TreeSet<>(DOCUMENTED);
    known.add(NUM_ROUND);
    KNOWN = Collections.unmodifiableSortedSet(known);
  }

  private XGBoostParams() {}

  /** The keys that are neither XGBoost parameters nor Flywheel's, in the order given. */
  public static List<String> unknown(Collection<String> keys) {
    List<String> unknown = new ArrayList<>();
    for (String k : keys) {
      if (!KNOWN.contains(k)) {
        unknown.add(k);
      }
    }
    return unknown;
  }

  /** The known key closest to {@code key} by edit distance, when one is close. */
  public static Optional<String> closest(String key) {
    return KeyHints.closest(key, KNOWN);
  }

  /**
   * What is wrong with these unknown keys: each with the closest known key, and the reference.
   *
   * @param where the params as the message names them, e.g. {@code models[fraud].training.params}
   * @param unknown the unknown keys, not empty
   */
  public static String problem(String where, List<String> unknown) {
    List<String> each = new ArrayList<>();
    for (String k : unknown) {
      each.add("'" + k + "'" + closest(k).map(c -> " (did you mean '" + c + "'?)").orElse(""));
    }
    return where + (unknown.size() == 1 ? " has a key that is not an XGBoost parameter: "
        : " has keys that are not XGBoost parameters: ") + String.join(", ", each)
        + ". XGBoost ignores a parameter it does not know, so the model would train without it."
        + " The parameters are listed at " + DOCS + " (" + NUM_ROUND + " is Flywheel's: the"
        + " number of boosting rounds)";
  }
}
