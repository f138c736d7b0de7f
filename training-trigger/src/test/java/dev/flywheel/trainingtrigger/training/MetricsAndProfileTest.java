package dev.flywheel.trainingtrigger.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.flywheel.events.FeatureKind;
import dev.flywheel.events.FeatureProfile;
import java.util.List;
import org.junit.jupiter.api.Test;

class MetricsAndProfileTest {

  @Test
  void shouldComputeAucFromRanksWithTiesAveraged() {
    // Given scores where one positive ties with one negative
    float[] labels = {0, 0, 1, 1};
    float[] scores = {0.1f, 0.5f, 0.5f, 0.9f};
    // Then AUC = (1 + 0.5 + 1 + 1) / 4
    assertThat(Metrics.auc(labels, scores)).isCloseTo(0.875, within(1e-9));
  }

  @Test
  void shouldComputePrecisionAndRecallAtTheThreshold() {
    // Given
    float[] labels = {1, 1, 0, 0, 1};
    float[] scores = {0.9f, 0.4f, 0.6f, 0.1f, 0.7f};
    // When deciding at 0.5
    var m = Metrics.binary(labels, scores, 0.5);
    // Then 2 of 3 decided positives are right, 2 of 3 positives are found
    assertThat(m.get(Metrics.PRECISION)).isCloseTo(2.0 / 3, within(1e-9));
    assertThat(m.get(Metrics.RECALL)).isCloseTo(2.0 / 3, within(1e-9));
    assertThat(m.get(Metrics.ACCURACY)).isCloseTo(0.6, within(1e-9));
  }

  @Test
  void shouldProfileANumericColumnWithQuantileBinsAndMissingCount() {
    // Given 1..100 and 5 missing values
    float[] values = new float[105];
    for (int i = 0; i < 100; i++) {
      values[i] = i + 1;
    }
    for (int i = 100; i < 105; i++) {
      values[i] = Float.NaN;
    }
    // When
    FeatureProfile p = BaselineProfiler.numeric("amount", values);
    // Then
    assertThat(p.getKind()).isEqualTo(FeatureKind.NUMERIC);
    assertThat(p.getCount()).isEqualTo(105);
    assertThat(p.getMissingCount()).isEqualTo(5);
    assertThat(p.getMean()).isCloseTo(50.5, within(1e-9));
    assertThat(p.getStd()).isCloseTo(Math.sqrt((100.0 * 100 - 1) / 12), within(1e-6));
    assertThat(p.getMin()).isEqualTo(1.0);
    assertThat(p.getMax()).isEqualTo(100.0);
    assertThat(p.getHistogram().getCutPoints()).hasSize(9).isSorted()
        .containsExactly(11.0, 21.0, 31.0, 41.0, 51.0, 61.0, 71.0, 81.0, 91.0);
    assertThat(p.getHistogram().getCounts()).containsOnly(10L).hasSize(10);
  }

  @Test
  void shouldMergeTiedCutPointsSoTheyStayStrictlyIncreasing() {
    // Given a column that is mostly one value
    float[] values = new float[100];
    for (int i = 90; i < 100; i++) {
      values[i] = 1;
    }
    // When
    FeatureProfile p = BaselineProfiler.numeric("flag", values);
    // Then one cut point, two bins, all values counted
    assertThat(p.getHistogram().getCutPoints()).containsExactly(1.0);
    assertThat(p.getHistogram().getCounts()).containsExactly(90L, 10L);
  }

  @Test
  void shouldCountCategoriesAndMissingValues() {
    // Given
    String[] values = {"web", "pos", "web", null, "atm"};
    // When
    FeatureProfile p = BaselineProfiler.categorical("channel", values);
    // Then
    assertThat(p.getKind()).isEqualTo(FeatureKind.CATEGORICAL);
    assertThat(p.getMissingCount()).isEqualTo(1);
    assertThat(p.getCategoryCounts()).containsEntry("web", 2L).containsEntry("pos", 1L)
        .containsEntry("atm", 1L);
    assertThat(List.copyOf(p.getCategoryCounts().keySet()).get(0)).isEqualTo("web");
    assertThat(p.getOtherCount()).isZero();
  }
}
