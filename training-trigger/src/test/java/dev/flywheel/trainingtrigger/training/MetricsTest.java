package dev.flywheel.trainingtrigger.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class MetricsTest {

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
}
