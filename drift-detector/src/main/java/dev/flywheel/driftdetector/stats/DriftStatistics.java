package dev.flywheel.driftdetector.stats;

import java.util.Arrays;
import java.util.Objects;
import org.apache.commons.math3.exception.MathArithmeticException;
import org.apache.commons.math3.exception.MathIllegalStateException;
import org.apache.commons.math3.stat.inference.ChiSquareTest;
import org.apache.commons.math3.stat.inference.KolmogorovSmirnovTest;

/**
 * The drift statistics, computed from counts over the baseline's bins (numeric features) or
 * categories (categorical features), so a live window never has to keep its raw values.
 *
 * <p>Each method is checked against SciPy in {@code DriftStatisticsTest} (vectors made by
 * {@code src/test/python/make_vectors.py}):
 *
 * <ul>
 *   <li>{@link #psi}: population stability index, {@code sum (l - b) ln(l / b)} over the bins
 *       of the two sides' shares (counts over their totals), as Evidently computes it: bins empty
 *       on both sides left out, and a bin empty on one side only given a small finite share on
 *       that side (see {@link #PSI_EMPTY_BIN_SHARE}) instead of a zero that would make ln infinite.
 *       Two windows with the same shares give exactly 0, whatever their totals.
 *   <li>{@link #kolmogorovSmirnov}: the two-sample statistic D over the bins (the largest gap of
 *       the two cumulative distributions at the cut points; exactly SciPy's {@code ks_2samp} of the
 *       bin indices) and Smirnov's asymptotic p-value, {@code kstwo.sf(D, round(nm / (n + m)))}
 *       as SciPy's {@code method='asymp'}, from Commons Math's Kolmogorov distribution.
 *   <li>{@link #jensenShannon}: Jensen-Shannon distance in base 2 (in [0, 1]).
 *   <li>{@link #wasserstein}: first Wasserstein distance between two weighted samples, as SciPy's
 *       {@code wasserstein_distance(u, v, u_weights, v_weights)}.
 *   <li>{@link #chiSquare}: Pearson's chi-square test of homogeneity of the 2 x k table (baseline,
 *       live) over the categories present on either side, as SciPy's {@code chi2_contingency(...,
 *       correction=False)}, from Commons Math.
 * </ul>
 */
public final class DriftStatistics {

  /**
   * The share PSI gives, on the empty side, a bin empty on one side only. This is Evidently's
   * convention (its {@code psi} stat test takes the shares from {@code
   * evidently.calculations.stattests.utils.get_binned_data(..., feel_zeroes=True)}): 10⁻⁴, or,
   * when that side's smallest non-zero share is 10⁻⁴ or less, that share divided by 10⁶, so an
   * empty bin stays below every bin that holds something. The shares are not renormalized. A
   * window with nothing in a bin that holds 10% of the baseline adds {@code (0.1 - 10⁻⁴) ln(0.1 /
   * 10⁻⁴)} = 0.69 on its own, whatever the window's size.
   */
  public static final double PSI_EMPTY_BIN_SHARE = 1e-4;

  /** Divides a side's smallest share into its empty bins' share when it is at most 10⁻⁴. */
  static final double PSI_EMPTY_BIN_DIVISOR = 1e6;

  private static final KolmogorovSmirnovTest KS = new KolmogorovSmirnovTest();
  private static final ChiSquareTest CHI_SQUARE = new ChiSquareTest();

  private DriftStatistics() {}

  /** A test statistic with its p-value. */
  public record Test(double statistic, double pValue) {}

  /**
   * Population stability index of {@code live} against {@code baseline}: {@code sum (l - b) ln(l /
   * b)} over the two sides' shares, leaving out bins empty on both sides and giving a bin empty on
   * one side {@link #PSI_EMPTY_BIN_SHARE} there. 0 for the same shares whatever the totals, and 0
   * when either side is empty.
   */
  public static double psi(long[] baseline, long[] live) {
    requireSameLength(baseline, live);
    long n = sum(baseline);
    long m = sum(live);
    if (n == 0 || m == 0) {
      return 0;
    }
    double emptyBaseline = emptyBinShare(baseline, n);
    double emptyLive = emptyBinShare(live, m);
    double psi = 0;
    for (int i = 0; i < baseline.length; i++) {
      if (baseline[i] == 0 && live[i] == 0) {
        continue; // no evidence either way
      }
      double pb = baseline[i] == 0 ? emptyBaseline : (double) baseline[i] / n;
      double pl = live[i] == 0 ? emptyLive : (double) live[i] / m;
      psi += (pl - pb) * Math.log(pl / pb);
    }
    return psi;
  }

  /** The share PSI gives an empty bin of {@code counts} (of {@code total} > 0). */
  private static double emptyBinShare(long[] counts, long total) {
    long smallest = Long.MAX_VALUE;
    for (long c : counts) {
      if (c > 0 && c < smallest) {
        smallest = c;
      }
    }
    double smallestShare = (double) smallest / total;
    return smallestShare <= PSI_EMPTY_BIN_SHARE ? smallestShare / PSI_EMPTY_BIN_DIVISOR
        : PSI_EMPTY_BIN_SHARE;
  }

  /**
   * Two-sample Kolmogorov-Smirnov test of two binned samples; D is 0 and p 1 when either side is
   * empty.
   */
  public static Test kolmogorovSmirnov(long[] baseline, long[] live) {
    requireSameLength(baseline, live);
    long n = sum(baseline);
    long m = sum(live);
    if (n == 0 || m == 0) {
      return new Test(0, 1);
    }
    double d = 0;
    long cb = 0;
    long cl = 0;
    for (int i = 0; i < baseline.length; i++) {
      cb += baseline[i];
      cl += live[i];
      d = Math.max(d, Math.abs((double) cb / n - (double) cl / m));
    }
    double en = (double) n * m / (n + m);
    int rounded = (int) Math.max(1, Math.round(en));
    double p;
    if (d <= 0) {
      p = 1.0;
    } else {
      // Commons Math's Pelz-Good series (n > 140) can fail for a small D: it threw
      // TooManyIterationsException at D = 0.001, n = 1,429 and returned NaN at D = 0.004,
      // n = 333. The limiting distribution is exact enough there.
      p = rounded <= SMALL_N && rounded * d * d >= TAIL_ND2 ? twiceSmirnov(rounded, d) : Double.NaN;
      if (Double.isNaN(p)) {
        try {
          p = 1.0 - KS.cdf(d, rounded);
        } catch (MathIllegalStateException | MathArithmeticException e) {
          p = Double.NaN;
        }
      }
      if (!Double.isFinite(p)) {
        p = kolmogorovSurvival(d, en);
      }
    }
    return new Test(d, Math.min(1, Math.max(0, p)));
  }

  /** Up to this n Commons Math computes the Kolmogorov distribution exactly (Durbin's matrix). */
  static final int SMALL_N = 140;
  /** From this n d², the two-sided tail is taken as twice the one-sided one (see below). */
  static final double TAIL_ND2 = 4.0;

  /**
   * P(D_n >= d) as {@code 2 P(D+_n >= d)}, for n ≤ {@value #SMALL_N} and n d² ≥ {@value
   * #TAIL_ND2}: the two-sided tail is twice the one-sided one less the chance that both sides
   * exceed d, which there is below 1e-14 (SciPy's {@code 2 * smirnov(n, d)} against {@code
   * kstwo.sf(d, n)}: largest gap 1.5e-14 over n = 1..140; SciPy's own {@code kolmogn} switches to
   * this form from n d² ≥ 18). Commons Math's exact Durbin matrix there costs O((nd)³ log n) per
   * call — for a window of 100 predictions far from its baseline, a 199 × 199 matrix raised to the
   * 100th power per feature, which made it drift-detector's bottleneck — while this sum is O(n).
   */
  static double twiceSmirnov(int n, double d) {
    return Math.min(1.0, 2.0 * smirnovUpperTail(n, d));
  }

  /**
   * P(D+_n >= d), the one-sided Kolmogorov-Smirnov tail, exactly, by Birnbaum and Tingey's
   * formula: {@code d Σ_{j=0}^{⌊n(1-d)⌋} C(n, j) (1 - d - j/n)^(n-j) (d + j/n)^(j-1)}, each term
   * in logarithms.
   */
  static double smirnovUpperTail(int n, double d) {
    if (d <= 0) {
      return 1.0;
    }
    if (d >= 1) {
      return 0.0;
    }
    int last = (int) Math.floor(n * (1 - d));
    double logChoose = 0; // ln C(n, 0)
    double sum = 0;
    for (int j = 0; j <= last; j++) {
      if (j > 0) {
        logChoose += Math.log((double) (n - j + 1) / j);
      }
      double below = 1 - d - (double) j / n;
      if (below <= 0) {
        continue; // a zero factor (j = n(1 - d) exactly, j < n)
      }
      sum += Math.exp(logChoose + (n - j) * Math.log(below)
          + (j - 1) * Math.log(d + (double) j / n));
    }
    return Math.min(1.0, d * sum);
  }

  /**
   * P(D > d) for two samples of effective size {@code en} from Kolmogorov's limiting
   * distribution with Stephens' small-sample correction: {@code Q(λ) = 2 Σ (-1)^(i-1)
   * exp(-2 i² λ²)} at {@code λ = (√en + 0.12 + 0.11 / √en) d}; as SciPy's {@code
   * kstwobign.sf(λ)}.
   */
  static double kolmogorovSurvival(double d, double en) {
    double root = Math.sqrt(en);
    double lambda = (root + 0.12 + 0.11 / root) * d;
    if (lambda < 0.2) {
      return 1.0; // Q(0.2) = 1 - 2.7e-22
    }
    double sum = 0;
    for (int i = 1; i <= 100; i++) {
      double term = Math.exp(-2.0 * i * i * lambda * lambda);
      sum += (i % 2 == 1 ? 2 : -2) * term;
      if (term < 1e-17) {
        break;
      }
    }
    return Math.min(1, Math.max(0, sum));
  }

  /** Jensen-Shannon distance in base 2 of the two normalized count vectors; 0 when either is empty. */
  public static double jensenShannon(long[] baseline, long[] live) {
    requireSameLength(baseline, live);
    double n = sum(baseline);
    double m = sum(live);
    if (n == 0 || m == 0) {
      return 0;
    }
    double js = 0;
    for (int i = 0; i < baseline.length; i++) {
      double p = baseline[i] / n;
      double q = live[i] / m;
      double mid = (p + q) / 2;
      if (p > 0) {
        js += p * Math.log(p / mid);
      }
      if (q > 0) {
        js += q * Math.log(q / mid);
      }
    }
    return Math.sqrt(Math.max(0, js / 2) / Math.log(2));
  }

  /**
   * First Wasserstein distance between a sample of {@code uValues} weighted by {@code uWeights}
   * and one of {@code vValues} weighted by {@code vWeights}: the area between the two cumulative
   * distributions. Entries with weight 0 are ignored; 0 when either side has no weight.
   */
  public static double wasserstein(double[] uValues, long[] uWeights, double[] vValues,
      long[] vWeights) {
    if (uValues.length != uWeights.length || vValues.length != vWeights.length) {
      throw new IllegalArgumentException("every value needs one weight");
    }
    double uTotal = sum(uWeights);
    double vTotal = sum(vWeights);
    if (uTotal == 0 || vTotal == 0) {
      return 0;
    }
    int nu = uValues.length;
    int nv = vValues.length;
    double[] all = new double[nu + nv];
    double[] du = new double[nu + nv];
    double[] dv = new double[nu + nv];
    Integer[] order = new Integer[nu + nv];
    for (int i = 0; i < nu; i++) {
      all[i] = uValues[i];
      du[i] = uWeights[i] / uTotal;
    }
    for (int j = 0; j < nv; j++) {
      all[nu + j] = vValues[j];
      dv[nu + j] = vWeights[j] / vTotal;
    }
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Double.compare(all[a], all[b]));
    double cu = 0;
    double cv = 0;
    double area = 0;
    for (int i = 0; i < order.length - 1; i++) {
      cu += du[order[i]];
      cv += dv[order[i]];
      area += Math.abs(cu - cv) * (all[order[i + 1]] - all[order[i]]);
    }
    return area;
  }

  /**
   * Chi-square test of homogeneity of the category counts of two samples; categories empty on
   * both sides are left out. Statistic 0 and p 1 when fewer than two categories remain or either
   * side is empty.
   */
  public static Test chiSquare(long[] baseline, long[] live) {
    requireSameLength(baseline, live);
    int kept = 0;
    for (int i = 0; i < baseline.length; i++) {
      if (baseline[i] + live[i] > 0) {
        kept++;
      }
    }
    if (kept < 2 || sum(baseline) == 0 || sum(live) == 0) {
      return new Test(0, 1);
    }
    long[] b = new long[kept];
    long[] l = new long[kept];
    int j = 0;
    for (int i = 0; i < baseline.length; i++) {
      if (baseline[i] + live[i] > 0) {
        b[j] = baseline[i];
        l[j++] = live[i];
      }
    }
    return new Test(CHI_SQUARE.chiSquareDataSetsComparison(b, l),
        CHI_SQUARE.chiSquareTestDataSetsComparison(b, l));
  }

  private static void requireSameLength(long[] baseline, long[] live) {
    Objects.requireNonNull(baseline, "baseline");
    Objects.requireNonNull(live, "live");
    if (baseline.length != live.length) {
      throw new IllegalArgumentException("baseline has " + baseline.length
          + " bins but the live window " + live.length);
    }
  }

  static long sum(long[] counts) {
    long s = 0;
    for (long c : counts) {
      s += c;
    }
    return s;
  }
}
