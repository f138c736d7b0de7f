package dev.flywheel.driftdetector.topology;

import static dev.flywheel.driftdetector.Fixtures.T0;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.driftdetector.Fixtures;
import dev.flywheel.events.BaselineProfile;
import dev.flywheel.events.ModelPromoted;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The check a promotion's baseline passes before it reaches the detector (else: its DLQ). */
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
    assertThatThrownBy(() -> DriftTopology.checked(m))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("model 'fraud-detector' version 3")
        .hasMessageContaining("baseline feature 'f1'")
        .hasMessageContaining("exactly one more count than cut points");
  }

  @Test
  void shouldPassAConsistentBaselineAndAPromotionWithoutOne() {
    ModelPromoted profiled = Fixtures.promoted(1, Fixtures.baseline(1, 1_000, 2, true), T0);
    ModelPromoted unprofiled = Fixtures.promoted(2, null, T0);
    assertThat(DriftTopology.checked(profiled).promoted()).isSameAs(profiled);
    assertThat(DriftTopology.checked(unprofiled).promoted()).isSameAs(unprofiled);
  }
}
