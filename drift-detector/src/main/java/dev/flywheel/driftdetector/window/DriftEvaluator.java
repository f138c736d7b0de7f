package dev.flywheel.driftdetector.window;

import dev.flywheel.driftdetector.config.DriftPolicy;
import dev.flywheel.driftdetector.stats.DriftStatistics;
import dev.flywheel.driftdetector.stats.PerformanceMetrics;
import dev.flywheel.events.DriftMethod;
import dev.flywheel.events.DriftReport;
import dev.flywheel.events.DriftStatistic;
import dev.flywheel.events.DriftWindow;
import dev.flywheel.events.FeatureDrift;
import dev.flywheel.events.FeatureKind;
import dev.flywheel.events.LivePerformance;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Compares one closed window with the baseline under a policy: every statistic of every feature
 * and of the score, each feature's verdict by its deciding statistic, the drifted share and the
 * window's verdict, and live performance from the labelled predictions.
 *
 * <p>A numeric feature gets PSI, Kolmogorov-Smirnov (D and p), Jensen-Shannon and the Wasserstein
 * distance divided by the baseline's standard deviation (by 1 when that is 0 or unknown), with
 * both sides' values placed at the bins' representative values ({@link
 * BaselineLayout.Slot#baselineValues()}); a
 * categorical one gets chi-square (statistic and p), Jensen-Shannon and PSI. Each statistic is
 * compared with its threshold (the policy's for the deciding method, the method's default for the
 * others), so a report shows every crossing; the verdict is the deciding one's. A feature with fewer
 * than {@code minSamples} non-missing live values is reported but not judged.
 */
public final class DriftEvaluator {

  private DriftEvaluator() {}

  /** What a report is about besides the counts. */
  public record Subject(String model, String alias, int baselineVersion, String eventId,
      DriftWindow window) {}

  /** Builds the report of {@code counts} against {@code layout}. */
  public static DriftReport evaluate(Subject subject, BaselineLayout layout, WindowCounts counts,
      DriftPolicy policy) {
    List<FeatureDrift> features = new ArrayList<>();
    int judged = 0;
    int drifted = 0;
    boolean importantDrifted = false;
    for (int i = 0; i < layout.features().size(); i++) {
      BaselineLayout.Slot slot = layout.features().get(i);
      FeatureDrift fd = feature(slot, counts.feature(i), counts.count(), policy);
      features.add(fd);
      if (fd.getDecidedBy() != null) {
        judged++;
        if (fd.getDrifted()) {
          drifted++;
          importantDrifted |= policy.important().contains(slot.name());
        }
      }
    }
    FeatureDrift score = layout.score() == null ? null
        : feature(layout.score(), counts.score(), counts.count(), policy);
    double share = judged == 0 ? 0 : (double) drifted / judged;
    boolean windowDrifted = judged > 0 && (share >= policy.share() || importantDrifted);
    return DriftReport.newBuilder()
        .setEventId(subject.eventId())
        .setEventTime(Instant.ofEpochMilli(subject.window().getEndTime().toEpochMilli()))
        .setModel(subject.model())
        .setAlias(subject.alias())
        .setBaselineVersion(subject.baselineVersion())
        .setWindow(subject.window())
        .setFeatures(features)
        .setScore(score)
        .setPerformance(performance(counts))
        .setDriftedShare(share)
        .setDrifted(windowDrifted)
        .setConsecutiveDrifted(0)
        .build();
  }

  /** The drifted features of a report, most drifted first (by how far past its threshold). */
  public static List<FeatureDrift> mostDrifted(DriftReport report, int limit) {
    return report.getFeatures().stream().filter(FeatureDrift::getDrifted)
        .sorted(Comparator.comparingDouble(DriftEvaluator::severity).reversed())
        .limit(limit).toList();
  }

  /** How far the deciding statistic is past its threshold: above 1 means drifted. */
  static double severity(FeatureDrift fd) {
    for (DriftStatistic s : fd.getStatistics()) {
      if (s.getMethod() == fd.getDecidedBy() && s.getThreshold() != null) {
        if (s.getPValue() != null) {
          double p = Math.max(s.getPValue(), 1e-300);
          return Math.log(p) / Math.log(s.getThreshold());
        }
        return s.getValue() / s.getThreshold();
      }
    }
    return 0;
  }

  static FeatureDrift feature(BaselineLayout.Slot slot, WindowCounts.Counts live, long windowCount,
      DriftPolicy policy) {
    long[] base = slot.baselineCounts();
    long[] counts = live.counts();
    long present = 0;
    for (long c : counts) {
      present += c;
    }
    DriftPolicy.Rule rule = slot.categorical() ? policy.categorical() : policy.numeric();
    long baselineRows = slot.profile().getCount() - slot.profile().getMissingCount();
    DriftMethod deciding = rule.methodFor(slot.categorical(), baselineRows, policy.smallSample());
    boolean judge = present >= policy.minSamples();
    List<DriftStatistic> stats = new ArrayList<>();
    if (slot.categorical()) {
      DriftStatistics.Test chi = DriftStatistics.chiSquare(base, counts);
      stats.add(test(DriftMethod.CHI_SQUARE, chi, rule, deciding, judge));
      stats.add(distance(DriftMethod.JENSEN_SHANNON, DriftStatistics.jensenShannon(base, counts),
          rule, deciding, judge));
      stats.add(distance(DriftMethod.PSI, DriftStatistics.psi(base, counts), rule, deciding,
          judge));
    } else {
      stats.add(distance(DriftMethod.PSI, DriftStatistics.psi(base, counts), rule, deciding,
          judge));
      stats.add(test(DriftMethod.KOLMOGOROV_SMIRNOV, DriftStatistics.kolmogorovSmirnov(base,
          counts), rule, deciding, judge));
      stats.add(distance(DriftMethod.JENSEN_SHANNON, DriftStatistics.jensenShannon(base, counts),
          rule, deciding, judge));
      double[] baseValues = slot.baselineValues();
      double w = DriftStatistics.wasserstein(baseValues, base, baseValues, counts);
      Double std = slot.profile().getStd();
      double norm = std != null && std > 0 ? std : 1;
      stats.add(distance(DriftMethod.WASSERSTEIN, w / norm, rule, deciding, judge));
    }
    boolean drifted = judge && stats.stream()
        .anyMatch(s -> s.getMethod() == deciding && s.getDrifted());
    long total = present + live.missing();
    return FeatureDrift.newBuilder()
        .setFeature(slot.name())
        .setKind(slot.categorical() ? FeatureKind.CATEGORICAL : FeatureKind.NUMERIC)
        .setSampleCount(windowCount)
        .setMissingRate(total == 0 ? 0 : (double) live.missing() / total)
        .setStatistics(stats)
        .setDecidedBy(judge ? deciding : null)
        .setDrifted(drifted)
        .build();
  }

  private static DriftStatistic test(DriftMethod m, DriftStatistics.Test t, DriftPolicy.Rule rule,
      DriftMethod deciding, boolean judge) {
    double threshold = m == deciding ? rule.thresholdFor(m) : DriftPolicy.Rule.defaultThreshold(m);
    return DriftStatistic.newBuilder().setMethod(m).setValue(t.statistic())
        .setPValue(t.pValue()).setThreshold(threshold)
        .setDrifted(judge && t.pValue() < threshold).build();
  }

  private static DriftStatistic distance(DriftMethod m, double value, DriftPolicy.Rule rule,
      DriftMethod deciding, boolean judge) {
    double threshold = m == deciding ? rule.thresholdFor(m) : DriftPolicy.Rule.defaultThreshold(m);
    return DriftStatistic.newBuilder().setMethod(m).setValue(value).setPValue(null)
        .setThreshold(threshold).setDrifted(judge && value >= threshold).build();
  }

  private static LivePerformance performance(WindowCounts counts) {
    double[] scores = counts.labelledScores();
    if (scores.length == 0) {
      return null;
    }
    double[] labels = counts.labels();
    Map<String, Double> metrics = new LinkedHashMap<>();
    if (PerformanceMetrics.isBinary(labels)) {
      double auc = PerformanceMetrics.auc(scores, labels);
      if (!Double.isNaN(auc)) {
        metrics.put("auc", auc);
      }
      metrics.put("log_loss", PerformanceMetrics.logLoss(scores, labels));
    } else {
      double se = 0;
      double ae = 0;
      for (int i = 0; i < scores.length; i++) {
        se += (scores[i] - labels[i]) * (scores[i] - labels[i]);
        ae += Math.abs(scores[i] - labels[i]);
      }
      metrics.put("rmse", Math.sqrt(se / scores.length));
      metrics.put("mae", ae / scores.length);
    }
    return LivePerformance.newBuilder().setLabelledCount(counts.labelledCount())
        .setMetrics(metrics)
        .build();
  }
}
