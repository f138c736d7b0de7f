package dev.flywheel.driftdetector.stats;

import static dev.flywheel.driftdetector.stats.Vectors.doubles;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** AUC and log loss against SciPy's Mann-Whitney U and NumPy (drift-vectors.json). */
class PerformanceMetricsTest {

  static List<JsonNode> performance() {
    return Vectors.cases("performance");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("performance")
  void shouldMatchScipyMannWhitneyAuc(JsonNode c) {
    assertThat(PerformanceMetrics.auc(doubles(c.get("scores")), doubles(c.get("labels"))))
        .isCloseTo(c.get("auc").asDouble(), within(1e-12));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("performance")
  void shouldMatchNumpyLogLoss(JsonNode c) {
    assertThat(PerformanceMetrics.logLoss(doubles(c.get("scores")), doubles(c.get("labels"))))
        .isCloseTo(c.get("log_loss").asDouble(), within(1e-12));
  }

  @Test
  void shouldLeaveAucUndefinedWithOneClassOnly() {
    assertThat(PerformanceMetrics.auc(new double[] {0.2, 0.9}, new double[] {1, 1})).isNaN();
  }
}
