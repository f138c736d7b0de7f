package dev.flywheel.events;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@link FeatureProfile}s of a baseline, computed from a column of values: what training
 * writes into {@code model.promoted} and the drift detector compares live values with.
 *
 * <p>Numeric: count, missing count (NaN), mean, population std, min, max and a histogram of
 * {@value #BINS} quantile bins, whose cut points are the values at ranks {@code k·n/BINS} for k in
 * 1..BINS-1; equal cut points merge, so constant or heavily tied columns get fewer bins. A value
 * {@code v} falls in bin {@code i} when {@code cut[i-1] <= v < cut[i]}. Categorical: the counts of
 * the {@value #MAX_CATEGORIES} most frequent categories (ties by name), the rest in {@code
 * other_count}, null as missing.
 */
public final class FeatureProfiles {

  /** Bins of a numeric histogram (at most; ties merge cut points). */
  public static final int BINS = 10;
  /** Categories listed by name; rarer ones are folded into {@code other_count}. */
  public static final int MAX_CATEGORIES = 50;

  private FeatureProfiles() {}

  /** The profile of one numeric column; NaN counts as missing. */
  public static FeatureProfile numeric(String name, float[] values) {
    double[] widened = new double[values.length];
    for (int i = 0; i < values.length; i++) {
      widened[i] = values[i];
    }
    return numeric(name, widened);
  }

  /** The profile of one numeric column; NaN counts as missing. */
  public static FeatureProfile numeric(String name, double[] values) {
    double[] present = Arrays.stream(values).filter(v -> !Double.isNaN(v)).toArray();
    int n = present.length;
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
      double q = present[(int) Math.min(n - 1, (long) k * n / BINS)];
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
    List<Long> countList = new ArrayList<>(counts.length);
    for (long c : counts) {
      countList.add(c);
    }
    return b.setMean(mean).setStd(Math.sqrt(sq / n)).setMin(present[0]).setMax(present[n - 1])
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
