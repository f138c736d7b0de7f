package dev.flywheel.driftdetector.window;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** A window's labelled predictions: all of them up to the sample size, a uniform sample beyond. */
class WindowCountsTest {

  private static final int SAMPLE = WindowCounts.LABELLED_SAMPLE;

  @Test
  void shouldKeepEveryLabelUpToTheSampleSizeAndLetALaterLabelReplaceTheEarlier() {
    // Given a window with three labelled predictions
    WindowCounts w = window();
    w.label("p-1", 0.9, 1.0);
    w.label("p-2", 0.2, 0.0);
    w.label("p-3", 0.7, 0.0);

    // When p-3's label is corrected
    w.label("p-3", 0.7, 1.0);

    // Then the window holds the three, with the corrected label, and counts three
    assertThat(w.labelledScores()).containsExactly(0.9, 0.2, 0.7);
    assertThat(w.labels()).containsExactly(1.0, 0.0, 1.0);
    assertThat(w.labelledCount()).isEqualTo(3);
  }

  @Test
  void shouldKeepAUniformSampleOfBoundedSizeAndCountEveryLabel() throws IOException {
    // Given a window, When ten times the sample size of predictions are labelled, their score
    // being their arrival order
    int total = 10 * SAMPLE;
    WindowCounts w = labelled(total);

    // Then every label is counted, and the window keeps the sample size only
    assertThat(w.labelledCount()).isEqualTo(total);
    double[] kept = w.labelledScores();
    assertThat(kept).hasSize(SAMPLE);
    assertThat(w.labels()).hasSize(SAMPLE);
    assertThat(bytes(w).length).isLessThan(SAMPLE * 40 + 1_000);

    // And the sample is spread evenly over the arrivals: its mean order is the middle, and each
    // tenth of the arrivals has about a tenth of it (5,000 draws: the standard error of the mean
    // is about 0.4% of the range, of a tenth's share about 0.4 points)
    double mean = Arrays.stream(kept).average().orElseThrow();
    assertThat(mean).isBetween(0.48 * total, 0.52 * total);
    long[] perTenth = new long[10];
    for (double order : kept) {
      perTenth[(int) (order * 10 / total)]++;
    }
    assertThat(Arrays.stream(perTenth).boxed()).allSatisfy(
        n -> assertThat(n).isBetween(400L, 600L));
  }

  @Test
  void shouldDrawTheSameSampleWhenTheSameLabelsArriveAgain() {
    // Given two windows, When the same labels arrive at each (a task processing them again after
    // a crash), Then they keep the same sample
    WindowCounts first = labelled(3 * SAMPLE);
    WindowCounts again = labelled(3 * SAMPLE);
    assertThat(again.labelIds).isEqualTo(first.labelIds);
    assertThat(again.labelledScores()).containsExactly(first.labelledScores());
  }

  @Test
  void shouldReadBackTheSampleAndTheCountAndReadAWindowWrittenBeforeSampling() throws IOException {
    // Given a window past its sample size
    WindowCounts w = labelled(2 * SAMPLE);
    byte[] written = bytes(w);

    // When it is written and read back, Then the sample and the count are kept, and a later label
    // of a sampled prediction still replaces its earlier one
    WindowCounts read = WindowCounts.read(in(written), (byte) 3);
    assertThat(read.labelledCount()).isEqualTo(2 * SAMPLE);
    assertThat(read.labelledScores()).containsExactly(w.labelledScores());
    String sampled = read.labelIds.get(7);
    read.label(sampled, 0.5, 1.0);
    assertThat(read.labelledCount()).isEqualTo(2 * SAMPLE);
    assertThat(read.labelledScores()[7]).isEqualTo(0.5);

    // And a window in the format before sampling (no count after the labels) counts its labels
    WindowCounts small = labelled(10);
    byte[] current = bytes(small);
    byte[] before = Arrays.copyOf(current, current.length - Long.BYTES);
    assertThat(WindowCounts.read(in(before), (byte) 2).labelledCount()).isEqualTo(10);
  }

  private static WindowCounts window() {
    return new WindowCounts(WindowCounts.NO_BUCKET, new WindowCounts.Counts[0], null);
  }

  private static WindowCounts labelled(int n) {
    WindowCounts w = window();
    for (int i = 0; i < n; i++) {
      w.label("prediction-" + i, i, i % 2);
    }
    return w;
  }

  private static byte[] bytes(WindowCounts w) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      w.write(out);
    }
    return bytes.toByteArray();
  }

  private static DataInputStream in(byte[] bytes) {
    return new DataInputStream(new ByteArrayInputStream(bytes));
  }
}
