package dev.flywheel.trainingtrigger.training;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** Holdout metrics: the names are those of {@code TrainingRun.metrics}. */
public final class Metrics {

  /** Area under the ROC curve. */
  public static final String AUC = "auc";
  /** Mean binary cross-entropy. */
  public static final String LOG_LOSS = "log_loss";
  /** Precision at the decision threshold. */
  public static final String PRECISION = "precision";
  /** Recall at the decision threshold. */
  public static final String RECALL = "recall";
  /** Share of correct decisions at the threshold. */
  public static final String ACCURACY = "accuracy";
  /** Share of positive labels in the holdout. */
  public static final String POSITIVE_RATE = "positive_rate";
  /** Root mean squared error. */
  public static final String RMSE = "rmse";
  /** Mean absolute error. */
  public static final String MAE = "mae";

  private static final double EPS = 1e-15;

  private Metrics() {}

  /**
   * AUC, log loss, precision, recall, accuracy and positive rate of scores in [0, 1] against 0/1
   * labels, deciding positive at {@code score >= threshold}.
   */
  public static Map<String, Double> binary(float[] labels, float[] scores, double threshold) {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put(AUC, auc(labels, scores));
    double ll = 0;
    long tp = 0;
    long fp = 0;
    long fn = 0;
    long correct = 0;
    long pos = 0;
    for (int i = 0; i < labels.length; i++) {
      boolean y = labels[i] >= 0.5f;
      double p = Math.min(1 - EPS, Math.max(EPS, scores[i]));
      ll -= y ? Math.log(p) : Math.log(1 - p);
      boolean decided = scores[i] >= threshold;
      if (y) {
        pos++;
      }
      if (decided && y) {
        tp++;
      } else if (decided) {
        fp++;
      } else if (y) {
        fn++;
      }
      if (decided == y) {
        correct++;
      }
    }
    int n = labels.length;
    m.put(LOG_LOSS, ll / n);
    m.put(PRECISION, tp + fp == 0 ? 0.0 : (double) tp / (tp + fp));
    m.put(RECALL, tp + fn == 0 ? 0.0 : (double) tp / (tp + fn));
    m.put(ACCURACY, (double) correct / n);
    m.put(POSITIVE_RATE, (double) pos / n);
    return m;
  }

  /** RMSE and MAE. */
  public static Map<String, Double> regression(float[] labels, float[] predictions) {
    double se = 0;
    double ae = 0;
    for (int i = 0; i < labels.length; i++) {
      double d = predictions[i] - labels[i];
      se += d * d;
      ae += Math.abs(d);
    }
    Map<String, Double> m = new LinkedHashMap<>();
    m.put(RMSE, Math.sqrt(se / labels.length));
    m.put(MAE, ae / labels.length);
    return m;
  }

  /**
   * ROC AUC by ranks (Mann–Whitney U), ties averaged; NaN when only one class is present.
   */
  public static double auc(float[] labels, float[] scores) {
    int n = labels.length;
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Float.compare(scores[a], scores[b]));
    double rankSumPos = 0;
    long pos = 0;
    int i = 0;
    while (i < n) {
      int j = i;
      while (j + 1 < n && scores[order[j + 1]] == scores[order[i]]) {
        j++;
      }
      double avgRank = (i + j) / 2.0 + 1;
      for (int k = i; k <= j; k++) {
        if (labels[order[k]] >= 0.5f) {
          rankSumPos += avgRank;
          pos++;
        }
      }
      i = j + 1;
    }
    long neg = n - pos;
    if (pos == 0 || neg == 0) {
      return Double.NaN;
    }
    return (rankSumPos - pos * (pos + 1) / 2.0) / ((double) pos * neg);
  }
}
