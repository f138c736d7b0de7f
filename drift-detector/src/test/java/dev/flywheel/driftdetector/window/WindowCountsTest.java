package dev.flywheel.driftdetector.window;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** A window's labelled predictions: all of them up to its capacity, a uniform sample beyond. */
class WindowCountsTest {

  private static final int SAMPLE = WindowCounts.LABELLED_SAMPLE;

  @Test
  void shouldKeepEveryLabelUpToTheSampleSizeAndLetALaterLabelReplaceTheEarlier() {
    // Given a window with three labelled predictions
    WindowCounts w = window();
    w.label("p-1", 0.9, 1.0, SAMPLE);
    w.label("p-2", 0.2, 0.0, SAMPLE);
    w.label("p-3", 0.7, 0.0, SAMPLE);

    // When p-3's label is corrected
    w.label("p-3", 0.7, 1.0, SAMPLE);

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
    assertThat(bytes(w).length).isLessThanOrEqualTo(
        WindowCounts.leastBytes() + SAMPLE * WindowCounts.LABEL_BYTES);

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
    assertThat(again.labelKeys).isEqualTo(first.labelKeys);
    assertThat(again.labelledScores()).containsExactly(first.labelledScores());
  }

  @Test
  void shouldReadBackTheSampleAndTheCountAndLetALaterLabelOfASampledPredictionReplaceIt()
      throws IOException {
    // Given a window past its sample size
    WindowCounts w = labelled(2 * SAMPLE);
    byte[] written = bytes(w);

    // When it is written and read back, Then the sample and the count are kept, each labelled
    // prediction taking LABEL_BYTES
    WindowCounts read = WindowCounts.read(in(written), (byte) 4);
    assertThat(written).hasSize(WindowCounts.leastBytes() + SAMPLE * WindowCounts.LABEL_BYTES);
    assertThat(read.labelledCount()).isEqualTo(2 * SAMPLE);
    assertThat(read.labelledScores()).containsExactly(w.labelledScores());

    // And a later label of a sampled prediction still replaces its earlier one
    int order = (int) read.labelledScores()[7];
    read.label("prediction-" + order, 0.5, 1.0, SAMPLE);
    assertThat(read.labelledCount()).isEqualTo(2 * SAMPLE);
    assertThat(read.labelledScores()[7]).isEqualTo(0.5);
  }

  @Test
  void shouldReadWindowsWrittenWithPredictionIdsBeforeAndWhileSamplingByThoseIds()
      throws IOException {
    // Given windows written by earlier versions: with their labelled predictions' ids, and a
    // count of them (format 3) or not (format 2, before sampling)
    byte[] format3 = oldWindow(10, true);
    byte[] format2 = oldWindow(10, false);

    // When they are read
    WindowCounts three = WindowCounts.read(in(format3), (byte) 3);
    WindowCounts two = WindowCounts.read(in(format2), (byte) 2);

    // Then they keep their labels and counts
    assertThat(three.labelledScores()).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
    assertThat(three.labelledCount()).isEqualTo(25);
    assertThat(two.labelledCount()).isEqualTo(10);

    // And a later label of one of their predictions, by its id, replaces the earlier one
    three.label("prediction-4", 0.5, 1.0, SAMPLE);
    assertThat(three.labelledCount()).isEqualTo(25);
    assertThat(three.labelledScores()[4]).isEqualTo(0.5);
    assertThat(three.labels()[4]).isEqualTo(1.0);
  }

  @Test
  void shouldCutALargerSampleToTheCapacityKeepingASampleOfIt() {
    // Given two windows with the same full sample
    WindowCounts w = labelled(3 * SAMPLE);
    WindowCounts same = labelled(3 * SAMPLE);
    double[] before = w.labelledScores();

    // When they are cut to 1,000 labelled predictions
    w.keepLabelled(1_000);
    same.keepLabelled(1_000);

    // Then each keeps 1,000 of its sample, the same ones, with the count of all its labels
    assertThat(w.sampledCount()).isEqualTo(1_000);
    assertThat(w.labelledCount()).isEqualTo(3 * SAMPLE);
    assertThat(Arrays.stream(before).boxed().toList())
        .containsAll(Arrays.stream(w.labelledScores()).boxed().toList());
    assertThat(same.labelledScores()).containsExactly(w.labelledScores());

    // And later labels keep a sample of that size, a correction of a kept one still replacing it
    for (int i = 3 * SAMPLE; i < 4 * SAMPLE; i++) {
      w.label("prediction-" + i, i, i % 2, 1_000);
    }
    assertThat(w.sampledCount()).isEqualTo(1_000);
    assertThat(w.labelledCount()).isEqualTo(4 * SAMPLE);
    int order = sampledOrder(w);
    w.label("prediction-" + order, -1, 1, 1_000);
    assertThat(w.labelledCount()).isEqualTo(4 * SAMPLE);
    assertThat(w.labelledScores()).contains(-1.0).doesNotContain(order);
  }

  /** The arrival order of the first sampled prediction (its score). */
  private static int sampledOrder(WindowCounts w) {
    return (int) w.labelledScores()[0];
  }

  /**
   * A window with no features as versions before format 4 wrote it: {@code n} labelled
   * predictions by id, and, from format 3, the count of labels (25).
   */
  private static byte[] oldWindow(int n, boolean withCount) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeLong(WindowCounts.NO_BUCKET);
      out.writeLong(n);
      out.writeLong(0);
      out.writeLong(n);
      out.writeInt(0);
      out.writeBoolean(false);
      out.writeInt(n);
      for (int i = 0; i < n; i++) {
        out.writeUTF("prediction-" + i);
        out.writeDouble(i);
        out.writeDouble(i % 2);
      }
      if (withCount) {
        out.writeLong(25);
      }
    }
    return bytes.toByteArray();
  }

  private static WindowCounts window() {
    return new WindowCounts(WindowCounts.NO_BUCKET, new WindowCounts.Counts[0], null);
  }

  private static WindowCounts labelled(int n) {
    WindowCounts w = window();
    for (int i = 0; i < n; i++) {
      w.label("prediction-" + i, i, i % 2, SAMPLE);
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
