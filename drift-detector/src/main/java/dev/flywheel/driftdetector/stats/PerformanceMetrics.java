package dev.flywheel.driftdetector.stats;

import java.util.Arrays;

/**
 * Live model quality on the labelled predictions of a window: ROC AUC (the Mann-Whitney U
 * statistic over both classes, ties counted as one half) and log loss (mean negative
 * log-likelihood, scores clipped to [{@value #EPSILON}, 1 - {@value #EPSILON}]). Checked against
 * SciPy's {@code mannwhitneyu} and NumPy in {@code PerformanceMetricsTest}.
 */
public final class PerformanceMetrics {

  /** Clip of scores before the logarithm of log loss. */
  public static final double EPSILON = 1e-15;

  private PerformanceMetrics() {}

  /**
   * Area under the ROC curve of {@code scores} for binary {@code labels} (1 positive, 0 negative);
   * NaN when either class is absent.
   */
  public static double auc(double[] scores, double[] labels) {
    int n = requirePairs(scores, labels);
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Double.compare(scores[a], scores[b]));
    double positiveRankSum = 0;
    long positives = 0;
    int i = 0;
    while (i < n) {
      int j = i;
      while (j + 1 < n && scores[order[j + 1]] == scores[order[i]]) {
        j++;
      }
      double midRank = (i + j) / 2.0 + 1;
      for (int k = i; k <= j; k++) {
        if (labels[order[k]] == 1.0) {
          positiveRankSum += midRank;
          positives++;
        }
      }
      i = j + 1;
    }
    long negatives = n - positives;
    if (positives == 0 || negatives == 0) {
      return Double.NaN;
    }
    double u = positiveRankSum - positives * (positives + 1) / 2.0;
    return u / ((double) positives * negatives);
  }

  /** Mean log loss of probabilities {@code scores} for binary {@code labels}; NaN when empty. */
  public static double logLoss(double[] scores, double[] labels) {
    int n = requirePairs(scores, labels);
    if (n == 0) {
      return Double.NaN;
    }
    double total = 0;
    for (int i = 0; i < n; i++) {
      double p = Math.min(1 - EPSILON, Math.max(EPSILON, scores[i]));
      total -= labels[i] * Math.log(p) + (1 - labels[i]) * Math.log(1 - p);
    }
    return total / n;
  }

  /** Whether every label is 0 or 1, so the classification metrics apply. */
  public static boolean isBinary(double[] labels) {
    for (double y : labels) {
      if (y != 0.0 && y != 1.0) {
        return false;
      }
    }
    return true;
  }

  private static int requirePairs(double[] scores, double[] labels) {
    if (scores.length != labels.length) {
      throw new IllegalArgumentException(scores.length + " scores but " + labels.length
          + " labels");
    }
    return scores.length;
  }
}
