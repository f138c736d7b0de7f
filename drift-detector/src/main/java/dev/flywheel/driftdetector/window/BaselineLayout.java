package dev.flywheel.driftdetector.window;

import dev.flywheel.events.BaselineProfile;
import dev.flywheel.events.FeatureKind;
import dev.flywheel.events.FeatureProfile;
import dev.flywheel.events.Histogram;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * How live values of one model version are counted against its baseline: per feature (and for
 * the score) the baseline's bins or categories, so that a window holds counts of exactly the same
 * shape as the baseline.
 */
public final class BaselineLayout {

  private final BaselineProfile baseline;
  private final List<Slot> features;
  private final Slot score;

  private BaselineLayout(BaselineProfile baseline) {
    this.baseline = baseline;
    List<Slot> slots = new ArrayList<>();
    for (FeatureProfile p : baseline.getFeatures()) {
      slots.add(new Slot(p));
    }
    this.features = List.copyOf(slots);
    this.score = baseline.getScore() == null ? null : new Slot(baseline.getScore());
  }

  /**
   * The layout of {@code baseline}.
   *
   * @throws IllegalArgumentException naming the feature when the profile is inconsistent
   *     (histogram counts not one more than cut points, cut points not increasing, a numeric
   *     feature without a histogram)
   */
  public static BaselineLayout of(BaselineProfile baseline) {
    return new BaselineLayout(baseline);
  }

  /** The profile this layout was made from. */
  public BaselineProfile baseline() {
    return baseline;
  }

  /** One slot per profiled feature, in the baseline's feature order. */
  public List<Slot> features() {
    return features;
  }

  /** The score's slot; null when the baseline has no score profile. */
  public Slot score() {
    return score;
  }

  /** One profiled feature (or the score): its baseline counts and how a live value is binned. */
  public static final class Slot {
    private final FeatureProfile profile;
    private final boolean categorical;
    private final double[] cuts;
    private final long[] baselineCounts;
    private final double[] baselineValues;
    private final Map<String, Integer> categories;

    Slot(FeatureProfile p) {
      this.profile = p;
      this.categorical = p.getKind() == FeatureKind.CATEGORICAL;
      if (categorical) {
        TreeSet<String> names = new TreeSet<>(p.getCategoryCounts().keySet());
        categories = new HashMap<>();
        baselineCounts = new long[names.size() + 1];
        int i = 0;
        for (String name : names) {
          categories.put(name, i);
          baselineCounts[i++] = p.getCategoryCounts().get(name);
        }
        baselineCounts[i] = p.getOtherCount();
        requireNonNegative(p.getName(), baselineCounts);
        cuts = null;
        baselineValues = null;
      } else {
        Histogram h = p.getHistogram();
        if (h == null) {
          throw new IllegalArgumentException("baseline feature '" + p.getName() + "' is numeric"
              + " but has no histogram; the trainer must write cut points and counts");
        }
        cuts = h.getCutPoints().stream().mapToDouble(Double::doubleValue).toArray();
        baselineCounts = h.getCounts().stream().mapToLong(Long::longValue).toArray();
        if (baselineCounts.length != cuts.length + 1) {
          throw new IllegalArgumentException("baseline feature '" + p.getName() + "' has "
              + baselineCounts.length + " histogram counts for " + cuts.length
              + " cut points; a histogram needs exactly one more count than cut points");
        }
        requireNonNegative(p.getName(), baselineCounts);
        for (int i = 0; i < cuts.length; i++) {
          if (!Double.isFinite(cuts[i])) {
            throw new IllegalArgumentException("baseline feature '" + p.getName()
                + "' has cut point " + cuts[i] + " at index " + i + "; cut points must be finite");
          }
        }
        for (int i = 1; i < cuts.length; i++) {
          if (!(cuts[i] > cuts[i - 1])) {
            throw new IllegalArgumentException("baseline feature '" + p.getName()
                + "' has cut points that are not strictly increasing at index " + i + " ("
                + cuts[i - 1] + ", " + cuts[i] + ")");
          }
        }
        baselineValues = representatives(p, cuts);
        categories = null;
      }
    }

    private static void requireNonNegative(String feature, long[] counts) {
      for (int i = 0; i < counts.length; i++) {
        if (counts[i] < 0) {
          throw new IllegalArgumentException("baseline feature '" + feature + "' has count "
              + counts[i] + " at index " + i + "; counts cannot be negative");
        }
      }
    }

    /** The feature's name ({@code score} for the score). */
    public String name() {
      return profile.getName();
    }

    /** The baseline profile. */
    public FeatureProfile profile() {
      return profile;
    }

    /** Whether the feature is categorical. */
    public boolean categorical() {
      return categorical;
    }

    /** Number of bins (numeric) or categories plus the other bucket (categorical). */
    public int size() {
      return baselineCounts.length;
    }

    /** The baseline's counts over {@link #size()} bins or categories. */
    public long[] baselineCounts() {
      return baselineCounts.clone();
    }

    /**
     * Where the values of each bin are taken to lie for the Wasserstein distance, for the
     * baseline and the live window alike (so that two samples of one distribution are at distance
     * about 0): the middle of an interior bin; for an outer bin the middle between its cut point
     * and the baseline's minimum (maximum), but no further out than one width of the adjacent bin
     * beyond the cut point, so that a few extreme training rows do not stretch the tails.
     */
    public double[] baselineValues() {
      return baselineValues.clone();
    }

    /** Bin of a numeric value: bin i holds [c_i, c_{i+1}), with open-ended outer bins. */
    public int bin(double value) {
      int lo = 0;
      int hi = cuts.length;
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        if (cuts[mid] <= value) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      return lo;
    }

    /** Index of a category; categories the baseline does not list go to the other bucket (last). */
    public int category(String value) {
      Integer i = categories.get(value);
      return i == null ? baselineCounts.length - 1 : i;
    }

    private static double[] representatives(FeatureProfile p, double[] cuts) {
      int k = cuts.length + 1;
      double[] out = new double[k];
      if (k == 1) {
        out[0] = p.getMean() == null ? 0 : p.getMean();
        return out;
      }
      for (int i = 1; i < k - 1; i++) {
        out[i] = (cuts[i - 1] + cuts[i]) / 2;
      }
      Double min = p.getMin();
      Double max = p.getMax();
      double lowCut = cuts[0];
      double highCut = cuts[k - 2];
      double lowWidth = k > 2 ? cuts[1] - cuts[0] : 0;
      double highWidth = k > 2 ? cuts[k - 2] - cuts[k - 3] : 0;
      out[0] = min != null && min < lowCut
          ? Math.max((min + lowCut) / 2, k > 2 ? lowCut - lowWidth : min) : lowCut;
      out[k - 1] = max != null && max > highCut
          ? Math.min((highCut + max) / 2, k > 2 ? highCut + highWidth : max) : highCut;
      return out;
    }

    @Override
    public String toString() {
      return name() + (categorical ? " categories " + categories.keySet()
          : " cuts " + Arrays.toString(cuts));
    }
  }
}
