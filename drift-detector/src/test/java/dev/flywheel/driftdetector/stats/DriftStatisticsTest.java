package dev.flywheel.driftdetector.stats;

import static dev.flywheel.driftdetector.stats.Vectors.doubles;
import static dev.flywheel.driftdetector.stats.Vectors.longs;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.assertj.core.api.Assertions.withinPercentage;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.apache.commons.math3.distribution.NormalDistribution;
import org.junit.jupiter.api.Test;

/** Each statistic against SciPy's value for the same counts (drift-vectors.json). */
class DriftStatisticsTest {

  static List<JsonNode> numeric() {
    return Vectors.cases("numeric");
  }

  static List<JsonNode> categorical() {
    return Vectors.cases("categorical");
  }

  static List<JsonNode> psiEdgeCases() {
    return Vectors.cases("psi");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("numeric")
  void shouldMatchScipyKsTwoSampleOverBins(JsonNode c) {
    DriftStatistics.Test ks = DriftStatistics.kolmogorovSmirnov(longs(c.get("baseline")),
        longs(c.get("live")));
    assertThat(ks.statistic()).isCloseTo(c.get("ks_statistic").asDouble(), within(1e-12));
    assertThat(ks.pValue()).isCloseTo(c.get("ks_p_value").asDouble(), within(1e-7));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("numeric")
  void shouldMatchScipyJensenShannonOfHistograms(JsonNode c) {
    assertThat(DriftStatistics.jensenShannon(longs(c.get("baseline")), longs(c.get("live"))))
        .isCloseTo(c.get("jensen_shannon").asDouble(), within(1e-12));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("numeric")
  void shouldMatchScipyWeightedWasserstein(JsonNode c) {
    double w = DriftStatistics.wasserstein(doubles(c.get("wasserstein_u_values")),
        longs(c.get("baseline")), doubles(c.get("wasserstein_v_values")), longs(c.get("live")));
    assertThat(w).isCloseTo(c.get("wasserstein").asDouble(), within(1e-12));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("numeric")
  void shouldMatchReferencePsiOfHistograms(JsonNode c) {
    assertThat(DriftStatistics.psi(longs(c.get("baseline")), longs(c.get("live"))))
        .isCloseTo(c.get("psi").asDouble(), within(1e-12));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("categorical")
  void shouldMatchReferencePsiOfCategories(JsonNode c) {
    assertThat(DriftStatistics.psi(longs(c.get("baseline")), longs(c.get("live"))))
        .isCloseTo(c.get("psi").asDouble(), within(1e-12));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("psiEdgeCases")
  void shouldMatchReferencePsiOfEmptyBinsAndEqualShares(JsonNode c) {
    assertThat(DriftStatistics.psi(longs(c.get("baseline")), longs(c.get("live"))))
        .isCloseTo(c.get("psi").asDouble(), within(1e-12));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("categorical")
  void shouldMatchScipyChiSquareContingency(JsonNode c) {
    DriftStatistics.Test chi = DriftStatistics.chiSquare(longs(c.get("baseline")),
        longs(c.get("live")));
    assertThat(chi.statistic()).isCloseTo(c.get("chi_square").asDouble(), within(1e-8));
    assertThat(chi.pValue()).isCloseTo(c.get("chi_square_p_value").asDouble(), within(1e-10));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("categorical")
  void shouldMatchScipyJensenShannonOfCategories(JsonNode c) {
    assertThat(DriftStatistics.jensenShannon(longs(c.get("baseline")), longs(c.get("live"))))
        .isCloseTo(c.get("jensen_shannon").asDouble(), within(1e-12));
  }

  @Test
  void shouldGivePsiZeroForTheBaselinesSharesWhateverTheWindowsSize() {
    // Given a baseline of 300,000 rows and a window of 30 with exactly its shares (50/30/10/10 %),
    // the last bucket empty on both sides
    long[] baseline = {150_000, 90_000, 30_000, 30_000, 0};
    long[] window = {15, 9, 3, 3, 0};
    // When PSI compares them
    double psi = DriftStatistics.psi(baseline, window);
    // Then there is no difference at all
    assertThat(psi).isZero();
  }

  @Test
  void shouldGivePsiZeroForTheSameSharesWithoutAnyEmptyBin() {
    assertThat(DriftStatistics.psi(new long[] {5_000, 3_000, 1_000, 1_000},
        new long[] {15, 9, 3, 3})).isZero();
  }

  @Test
  void shouldLeavePsiUnchangedByBinsEmptyOnBothSides() {
    // Given a window that differs from its baseline
    long[] baseline = {5_000, 3_000, 2_000};
    long[] window = {40, 35, 25};
    double without = DriftStatistics.psi(baseline, window);
    // When the same counts come with bins that neither side has anything in
    double with = DriftStatistics.psi(new long[] {0, 5_000, 0, 3_000, 2_000, 0},
        new long[] {0, 40, 0, 35, 25, 0});
    // Then PSI is the same
    assertThat(without).isPositive();
    assertThat(with).isEqualTo(without);
  }

  @Test
  void shouldGiveABinEmptyInTheWindowTheShareOneInTenThousand() {
    // Given a live window with nothing in the first bin
    double psi = DriftStatistics.psi(new long[] {100, 100, 100}, new long[] {0, 150, 150});
    // Then PSI is finite: that bin counts with a share of 1e-4 in the window
    double third = 1.0 / 3;
    double expected = (third - 1e-4) * Math.log(third / 1e-4) + 2 * (0.5 - third)
        * Math.log(0.5 / third);
    assertThat(psi).isFinite().isPositive().isCloseTo(expected, within(1e-12));
  }

  @Test
  void shouldGiveACategoryEmptyInTheBaselineTheShareOneInTenThousand() {
    // Given a window in which 30 of 500 predictions carry a category the baseline never saw
    double psi = DriftStatistics.psi(new long[] {600, 400, 0}, new long[] {270, 200, 30});
    // Then PSI is finite: that category counts with a share of 1e-4 in the baseline
    double expected = (0.54 - 0.6) * Math.log(0.54 / 0.6)
        + (0.06 - 1e-4) * Math.log(0.06 / 1e-4);
    assertThat(psi).isFinite().isPositive().isCloseTo(expected, within(1e-12));
  }

  @Test
  void shouldKeepAnEmptyBinBelowTheSidesSmallestShare() {
    // Given a baseline whose smallest share, 100 of 3,000,000, is below 1e-4, and a bin it lacks
    double psi = DriftStatistics.psi(new long[] {2_000_000, 999_900, 100, 0},
        new long[] {2_000, 950, 0, 10});
    // Then its empty bin counts with that share divided by 1e6 (the window's with 1e-4)
    double[] b = {2_000_000 / 3e6, 999_900 / 3e6, 100 / 3e6, 100 / 3e6 / 1e6};
    double[] l = {2_000 / 2_960.0, 950 / 2_960.0, 1e-4, 10 / 2_960.0};
    double expected = 0;
    for (int i = 0; i < b.length; i++) {
      expected += (l[i] - b[i]) * Math.log(l[i] / b[i]);
    }
    assertThat(psi).isFinite().isCloseTo(expected, within(1e-12));
  }

  @Test
  void shouldRefuseBinCountsOfDifferentLengthsSayingWhich() {
    assertThatThrownBy(() -> DriftStatistics.psi(new long[] {1, 2}, new long[] {1, 2, 3}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("baseline has 2 bins but the live window 3");
  }

  @Test
  void shouldReportNoDifferenceForAnEmptyWindow() {
    long[] base = {10, 20, 30};
    long[] none = {0, 0, 0};
    assertThat(DriftStatistics.kolmogorovSmirnov(base, none).pValue()).isEqualTo(1.0);
    assertThat(DriftStatistics.jensenShannon(base, none)).isZero();
    assertThat(DriftStatistics.psi(base, none)).isZero();
    assertThat(DriftStatistics.chiSquare(base, none).pValue()).isEqualTo(1.0);
  }

  @Test
  void shouldMatchScipyKstwobignInTheLargeSampleFallback() {
    // Reference: scipy.stats.kstwobign.sf((sqrt(en) + 0.12 + 0.11 / sqrt(en)) * d), SciPy 1.17.1
    assertThat(DriftStatistics.kolmogorovSurvival(0.05, 2000))
        .isCloseTo(8.595441737413993e-05, within(1e-12));
    assertThat(DriftStatistics.kolmogorovSurvival(0.02, 4000))
        .isCloseTo(0.08052004710842524, within(1e-12));
    assertThat(DriftStatistics.kolmogorovSurvival(0.3, 100))
        .isCloseTo(1.8948486068759575e-08, within(1e-15));
    assertThat(DriftStatistics.kolmogorovSurvival(0.01, 5000))
        .isCloseTo(0.697339988052793, within(1e-12));
  }

  @Test
  void shouldGiveAPValueForATinyGapBetweenLargeSamples() {
    // Given 2,000 baseline rows and a window of 5,000 whose CDFs differ by 0.001 (Commons Math's
    // Pelz-Good series exceeds its 100,000 iterations for D = 0.001 at n = 1,429)
    DriftStatistics.Test ks = DriftStatistics.kolmogorovSmirnov(new long[] {1_000, 1_000},
        new long[] {2_495, 2_505});
    // Then D is that gap and the p-value that of no difference
    assertThat(ks.statistic()).isCloseTo(0.001, within(1e-12));
    assertThat(ks.pValue()).isEqualTo(1.0);
  }

  @Test
  void shouldGiveAPValueForEveryShiftOfLargeWindowsWithoutThrowing() {
    // Given decile bins of N(0, 1) and baselines and windows of many sizes
    NormalDistribution normal = new NormalDistribution();
    double[] cuts = new double[9];
    for (int i = 0; i < 9; i++) {
      cuts[i] = normal.inverseCumulativeProbability((i + 1) / 10.0);
    }
    for (long baselineRows : new long[] {500, 2_000, 20_000, 1_000_000}) {
      long[] base = binned(normal, cuts, 0, baselineRows);
      for (long window : new long[] {1_000, 5_000, 20_000}) {
        // When the window's mean moves from 0 to 4 standard deviations
        for (int step = 0; step <= 400; step++) {
          long[] live = binned(normal, cuts, step / 100.0, window);
          // Then there is a p-value in [0, 1]
          DriftStatistics.Test ks = DriftStatistics.kolmogorovSmirnov(base, live);
          assertThat(ks.pValue()).as("baseline %d, window %d, shift %d%%", baselineRows, window,
              step).isBetween(0.0, 1.0);
        }
      }
    }
  }

  private static long[] binned(NormalDistribution normal, double[] cuts, double shift, long n) {
    long[] out = new long[cuts.length + 1];
    double previous = 0;
    long placed = 0;
    for (int i = 0; i < cuts.length; i++) {
      double cdf = normal.cumulativeProbability(cuts[i] - shift);
      out[i] = Math.round((cdf - previous) * n);
      placed += out[i];
      previous = cdf;
    }
    out[cuts.length] = Math.max(0, n - placed);
    return out;
  }

  @Test
  void shouldTakeTheFarTailOfSmallSamplesAsTwiceTheOneSidedTail() {
    // Reference: scipy.stats.kstwo.sf(d, n), SciPy 1.17.1 (n d² from 4 to 36)
    assertThat(DriftStatistics.twiceSmirnov(100, 0.2))
        .isCloseTo(0.0005551927327988775, within(1e-13));
    assertThat(DriftStatistics.twiceSmirnov(100, 0.35))
        .isCloseTo(1.865228719089831e-11, within(1e-20));
    assertThat(DriftStatistics.twiceSmirnov(100, 0.6)).isCloseTo(5.912822156396238e-35,
        withinPercentage(1e-6));
    assertThat(DriftStatistics.twiceSmirnov(50, 0.3))
        .isCloseTo(0.00017353260202718738, within(1e-13));
    assertThat(DriftStatistics.twiceSmirnov(140, 0.18))
        .isCloseTo(0.0001932001834783552, within(1e-13));
    assertThat(DriftStatistics.twiceSmirnov(10, 0.7))
        .isCloseTo(1.9544800000000034e-05, within(1e-13));
  }

  @Test
  void shouldGiveTheSamePValueEitherSideOfTheSwitchToTheTailForm() {
    // Given two windows of 100 whose D puts n d² just below and just above 4 (en = 99.5 -> 100
    // against a 20,000-row baseline): below, Commons Math's exact matrix; above, the tail form
    long[] baseline = {5_000, 5_000, 5_000, 5_000};
    DriftStatistics.Test below = DriftStatistics.kolmogorovSmirnov(baseline,
        new long[] {44, 6, 25, 25});
    DriftStatistics.Test above = DriftStatistics.kolmogorovSmirnov(baseline,
        new long[] {45, 5, 25, 25});

    // Then each is SciPy's kstwo.sf(D, 100) (SciPy 1.17.1)
    assertThat(below.statistic()).isCloseTo(0.19, within(1e-12));
    assertThat(below.pValue()).isCloseTo(0.0012339926382722768, within(1e-7));
    assertThat(above.statistic()).isCloseTo(0.20, within(1e-12));
    assertThat(above.pValue()).isCloseTo(0.0005551927327988775, within(1e-13));
  }
}
