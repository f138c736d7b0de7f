package dev.flywheel.featurestreams;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * How a filter compares numbers: an integer as written with a long value exactly, as 64-bit
 * integers (a double merges ids beyond 2^53); anything else as doubles, as before.
 */
class FeatureFilterTest {

  private static final long BASE = 1L << 60;

  @Test
  void shouldCompareLongValuesWithIntegersExactly() {
    // Given filters against 2^60 + 1, which a double holds as 2^60
    FeatureFilter eq = FeatureFilter.parse("device_id == 1152921504606846977");
    FeatureFilter gt = FeatureFilter.parse("device_id > 1152921504606846976");
    FeatureFilter lt = FeatureFilter.parse("device_id < 9223372036854775807");

    // Then only 2^60 + 1 itself is equal, not 2^60 (held as its double) nor 2^60 + 2
    assertThat(eq.testNumber(FeatureEvent.number(BASE + 1))).isTrue();
    assertThat(eq.testNumber(FeatureEvent.number(BASE))).isFalse();
    assertThat(eq.testNumber(FeatureEvent.number(BASE + 2))).isFalse();
    assertThat(gt.testNumber(FeatureEvent.number(BASE + 1))).isTrue();
    assertThat(gt.testNumber(FeatureEvent.number(BASE))).isFalse();
    assertThat(lt.testNumber(FeatureEvent.number(Long.MAX_VALUE))).isFalse();
    assertThat(lt.testNumber(FeatureEvent.number(Long.MAX_VALUE - 1))).isTrue();
  }

  @Test
  void shouldCompareOtherNumbersAsDoubles() {
    // Given filters on doubles, with a fraction, an exponent, and an integer
    FeatureFilter tenth = FeatureFilter.parse("amount == 0.1");
    FeatureFilter thousand = FeatureFilter.parse("amount <= 1e3");
    FeatureFilter zero = FeatureFilter.parse("amount == 0");
    FeatureFilter notFive = FeatureFilter.parse("amount != 5");

    // Then they compare as doubles do: 0.1 equals the literal 0.1, -0.0 equals 0, NaN is not 5
    assertThat(tenth.testNumber(0.1)).isTrue();
    assertThat(thousand.testNumber(1000.0)).isTrue();
    assertThat(thousand.testNumber(1000.5)).isFalse();
    assertThat(thousand.testNumber(FeatureEvent.number(BASE + 1))).isFalse();
    assertThat(zero.testNumber(-0.0)).isTrue();
    assertThat(zero.testNumber(0.5)).isFalse();
    assertThat(notFive.testNumber(Double.NaN)).isTrue();
    assertThat(notFive.testNumber(null)).isTrue();
  }
}
