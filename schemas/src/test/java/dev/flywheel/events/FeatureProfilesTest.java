package dev.flywheel.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class FeatureProfilesTest {

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
    FeatureProfile p = FeatureProfiles.numeric("amount", values);
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
    FeatureProfile p = FeatureProfiles.numeric("flag", values);
    // Then one cut point, two bins, all values counted
    assertThat(p.getHistogram().getCutPoints()).containsExactly(1.0);
    assertThat(p.getHistogram().getCounts()).containsExactly(90L, 10L);
  }

  @Test
  void shouldCountCategoriesAndMissingValues() {
    // Given
    String[] values = {"web", "pos", "web", null, "atm"};
    // When
    FeatureProfile p = FeatureProfiles.categorical("channel", values);
    // Then
    assertThat(p.getKind()).isEqualTo(FeatureKind.CATEGORICAL);
    assertThat(p.getMissingCount()).isEqualTo(1);
    assertThat(p.getCategoryCounts()).containsEntry("web", 2L).containsEntry("pos", 1L)
        .containsEntry("atm", 1L);
    assertThat(List.copyOf(p.getCategoryCounts().keySet()).get(0)).isEqualTo("web");
    assertThat(p.getOtherCount()).isZero();
  }

  @Test
  void shouldProfileDoublesAsTheirFloatColumnWhenTheyAreExactInFloat() {
    // Given the same column as doubles and as floats
    double[] doubles = new double[200];
    float[] floats = new float[200];
    for (int i = 0; i < 200; i++) {
      doubles[i] = (i * 37) % 101;
      floats[i] = (float) doubles[i];
    }
    // When
    FeatureProfile fromDoubles = FeatureProfiles.numeric("x", doubles);
    FeatureProfile fromFloats = FeatureProfiles.numeric("x", floats);
    // Then
    assertThat(fromDoubles).isEqualTo(fromFloats);
  }

  @Test
  void shouldGiveOneEmptyBinWhenEveryValueIsMissing() {
    // When
    FeatureProfile p = FeatureProfiles.numeric("gone", new double[] {Double.NaN, Double.NaN});
    // Then
    assertThat(p.getCount()).isEqualTo(2);
    assertThat(p.getMissingCount()).isEqualTo(2);
    assertThat(p.getHistogram().getCutPoints()).isEmpty();
    assertThat(p.getHistogram().getCounts()).containsExactly(0L);
  }

  @Test
  void shouldFoldCategoriesBeyondTheBoundIntoOther() {
    // Given 60 categories, category i seen 100 - i times
    List<String> values = new java.util.ArrayList<>();
    for (int i = 0; i < 60; i++) {
      for (int k = 0; k < 100 - i; k++) {
        values.add("c" + i);
      }
    }
    // When
    FeatureProfile p = FeatureProfiles.categorical("many", values.toArray(String[]::new));
    // Then the 50 most frequent are named, the other 10 (counts 50..41) are folded
    assertThat(p.getCategoryCounts()).hasSize(FeatureProfiles.MAX_CATEGORIES)
        .containsKey("c0").containsKey("c49").doesNotContainKey("c50");
    assertThat(p.getOtherCount()).isEqualTo(455L);
  }
}
