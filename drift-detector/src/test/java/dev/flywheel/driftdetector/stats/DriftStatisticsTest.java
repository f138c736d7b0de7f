package dev.flywheel.driftdetector.stats;

import static dev.flywheel.driftdetector.stats.Vectors.doubles;
import static dev.flywheel.driftdetector.stats.Vectors.longs;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** Each statistic against SciPy's value for the same counts (drift-vectors.json). */
class DriftStatisticsTest {

  static List<JsonNode> numeric() {
    return Vectors.cases("numeric");
  }

  static List<JsonNode> categorical() {
    return Vectors.cases("categorical");
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
  void shouldKeepPsiFiniteWhenABinIsEmptyOnOneSide() {
    // Given a live window with nothing in the first bin
    double psi = DriftStatistics.psi(new long[] {100, 100, 100}, new long[] {0, 150, 150});
    // Then the smoothed PSI is finite and large
    assertThat(psi).isFinite().isGreaterThan(1.0);
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
    assertThat(DriftStatistics.chiSquare(base, none).pValue()).isEqualTo(1.0);
  }
}
