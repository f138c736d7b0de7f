package dev.flywheel.trainingtrigger.training;

import dev.flywheel.events.BaselineProfile;
import dev.flywheel.events.FeatureKind;
import dev.flywheel.events.FeatureProfile;
import dev.flywheel.events.Histogram;
import dev.flywheel.trainingtrigger.dataset.Split;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The baseline the drift detector compares live data with: per numeric feature the count, missing
 * count, mean, population std, min, max and a histogram over quantile cut points; per categorical
 * feature the category counts (the {@value #MAX_CATEGORIES} most frequent, the rest in {@code
 * other_count}); and the same numeric profile of the model's holdout scores.
 */
public final class BaselineProfiler {

  /** Bins of a numeric histogram (at most; ties merge cut points). */
  public static final int BINS = 10;
  /** Categories listed by name; rarer ones are folded into {@code other_count}. */
  public static final int MAX_CATEGORIES = 50;

  private BaselineProfiler() {}

  /**
   * The profile of a split.
   *
   * @param split the rows, normally the holdout
   * @param featureNames the numeric columns of the split
   * @param categoricalNames the categorical columns of the split
   * @param profiled the model's input features, in its order: each is profiled
   * @param scores the model's scores on the rows; null when it could not score them
   * @param now when the profile is computed
   */
  public static BaselineProfile profile(Split split, List<String> featureNames,
      List<String> categoricalNames, List<String> profiled, float[] scores, Instant now) {
    List<FeatureProfile> features = new ArrayList<>();
    for (String name : profiled) {
      int f = featureNames.indexOf(name);
      if (f >= 0) {
        float[] column = new float[split.rows()];
        for (int i = 0; i < split.rows(); i++) {
          column[i] = split.value(i, f);
        }
        features.add(numeric(name, column));
      } else {
        int c = categoricalNames.indexOf(name);
        if (c < 0) {
          throw new IllegalArgumentException("feature '" + name + "' is not in the dataset");
        }
        String[] column = new String[split.rows()];
        for (int i = 0; i < split.rows(); i++) {
          column[i] = split.categorical()[i][c];
        }
        features.add(categorical(name, column));
      }
    }
    return BaselineProfile.newBuilder().setSampleCount(split.rows()).setComputedAt(now)
        .setFeatures(features).setScore(scores == null ? null : numeric("score", scores)).build();
  }

  /** The profile of one numeric column; NaN counts as missing. */
  public static FeatureProfile numeric(String name, float[] values) {
    double[] present = new double[values.length];
    int n = 0;
    for (float v : values) {
      if (!Float.isNaN(v)) {
        present[n++] = v;
      }
    }
    present = Arrays.copyOf(present, n);
    FeatureProfile.Builder b = FeatureProfile.newBuilder().setName(name)
        .setKind(FeatureKind.NUMERIC).setCount(values.length).setMissingCount(values.length - n)
        .setCategoryCounts(Map.of()).setOtherCount(0);
    if (n == 0) {
      return b.setHistogram(Histogram.newBuilder().setCutPoints(List.of())
          .setCounts(List.of(0L)).build()).build();
    }
    Arrays.sort(present);
    double sum = 0;
    for (double v : present) {
      sum += v;
    }
    double mean = sum / n;
    double sq = 0;
    for (double v : present) {
      sq += (v - mean) * (v - mean);
    }
    List<Double> cuts = new ArrayList<>();
    for (int k = 1; k < BINS; k++) {
      double q = present[(int) Math.min(n - 1, Math.floor((double) k * n / BINS))];
      if (q > present[0] && (cuts.isEmpty() || q > cuts.get(cuts.size() - 1))) {
        cuts.add(q);
      }
    }
    long[] counts = new long[cuts.size() + 1];
    int bin = 0;
    for (double v : present) {
      while (bin < cuts.size() && v >= cuts.get(bin)) {
        bin++;
      }
      counts[bin]++;
    }
    List<Long> countList = new ArrayList<>();
    for (long c : counts) {
      countList.add(c);
    }
    return b.setMean(mean).setStd(Math.sqrt(sq / n)).setMin(present[0])
        .setMax(present[n - 1])
        .setHistogram(Histogram.newBuilder().setCutPoints(cuts).setCounts(countList).build())
        .build();
  }

  /** The profile of one categorical column; null counts as missing. */
  public static FeatureProfile categorical(String name, String[] values) {
    Map<String, Long> counts = new HashMap<>();
    long missing = 0;
    for (String v : values) {
      if (v == null) {
        missing++;
      } else {
        counts.merge(v, 1L, Long::sum);
      }
    }
    List<Map.Entry<String, Long>> sorted = new ArrayList<>(counts.entrySet());
    sorted.sort(Map.Entry.<String, Long>comparingByValue().reversed()
        .thenComparing(Map.Entry.comparingByKey()));
    Map<String, Long> kept = new LinkedHashMap<>();
    long other = 0;
    for (int i = 0; i < sorted.size(); i++) {
      if (i < MAX_CATEGORIES) {
        kept.put(sorted.get(i).getKey(), sorted.get(i).getValue());
      } else {
        other += sorted.get(i).getValue();
      }
    }
    return FeatureProfile.newBuilder().setName(name).setKind(FeatureKind.CATEGORICAL)
        .setCount(values.length).setMissingCount(missing).setCategoryCounts(kept)
        .setOtherCount(other).build();
  }
}
