package dev.flywheel.driftdetector.topology;

import static dev.flywheel.driftdetector.Fixtures.T0;
import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.driftdetector.Fixtures;
import dev.flywheel.driftdetector.metrics.DriftMetrics;
import dev.flywheel.events.BaselineProfile;
import dev.flywheel.events.ModelPromoted;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The check a promotion's baseline passes before it reaches the detector; a version whose baseline
 * fails it is taken as promoted but not monitored.
 */
class BaselineCheckTest {

  @Test
  void shouldRefuseAHistogramWithoutOneMoreCountThanCutPointsNamingModelVersionAndFeature() {
    // Given a promotion whose f1 histogram lost a count
    BaselineProfile baseline = Fixtures.baseline(1, 1_000, 2, false);
    List<Long> counts = new ArrayList<>(baseline.getFeatures().get(1).getHistogram().getCounts());
    counts.remove(0);
    baseline.getFeatures().get(1).getHistogram().setCounts(counts);
    ModelPromoted m = Fixtures.promoted(3, baseline, T0);
    // Then the check says which model, version and feature, and what a histogram needs
    assertThat(DriftTopology.baselineProblem(m)).hasValueSatisfying(problem -> assertThat(problem)
        .contains("model 'fraud-detector' version 3", "baseline feature 'f1'",
            "exactly one more count than cut points"));
    // And the version goes on as promoted but not monitored, and is counted
    DriftMetrics metrics = DriftMetrics.discarding();
    ModelPromoted taken = DriftTopology.checked(m, metrics).promoted();
    assertThat(taken.getVersion()).isEqualTo(3);
    assertThat(taken.getBaseline()).isNull();
    assertThat(metrics.registry().get("flywheel.drift.baselines.unusable").counter().count())
        .isOne();
  }

  @Test
  void shouldRefuseNegativeCountsAndCutPointsThatAreNotFinite() {
    // Given a baseline with a negative count, and one with an infinite cut point
    BaselineProfile negative = Fixtures.baseline(1, 1_000, 2, false);
    List<Long> counts = new ArrayList<>(negative.getFeatures().get(0).getHistogram().getCounts());
    counts.set(2, -1L);
    negative.getFeatures().get(0).getHistogram().setCounts(counts);
    BaselineProfile infinite = Fixtures.baseline(1, 1_000, 2, false);
    List<Double> cuts = new ArrayList<>(
        infinite.getFeatures().get(1).getHistogram().getCutPoints());
    cuts.set(cuts.size() - 1, Double.POSITIVE_INFINITY);
    infinite.getFeatures().get(1).getHistogram().setCutPoints(cuts);

    // Then each is named with what is wrong
    assertThat(DriftTopology.baselineProblem(Fixtures.promoted(4, negative, T0)))
        .hasValueSatisfying(p -> assertThat(p).contains("'f0'", "counts cannot be negative"));
    assertThat(DriftTopology.baselineProblem(Fixtures.promoted(5, infinite, T0)))
        .hasValueSatisfying(p -> assertThat(p).contains("'f1'", "must be finite"));
  }

  @Test
  void shouldPassAConsistentBaselineAndAPromotionWithoutOne() {
    ModelPromoted profiled = Fixtures.promoted(1, Fixtures.baseline(1, 1_000, 2, true), T0);
    ModelPromoted unprofiled = Fixtures.promoted(2, null, T0);
    DriftMetrics metrics = DriftMetrics.discarding();
    assertThat(DriftTopology.checked(profiled, metrics).promoted()).isSameAs(profiled);
    assertThat(DriftTopology.checked(unprofiled, metrics).promoted()).isSameAs(unprofiled);
    assertThat(metrics.registry().find("flywheel.drift.baselines.unusable").counter()).isNull();
  }
}
