package dev.flywheel.driftdetector.window;

import dev.flywheel.events.Prediction;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One open window of a model: how many predictions it holds, their event-time span, the counts of
 * every feature and of the score over the baseline's bins or categories, and the labelled
 * predictions: all of them up to {@link #LABELLED_SAMPLE}, then a uniform sample of that size
 * (reservoir sampling), so that a window's state stays bounded however many labels arrive.
 * Mutable; kept in the {@code drift-windows} store through {@link ModelWindows}.
 */
public final class WindowCounts {

  /** Bucket of a COUNT window, which has no event-time boundary. */
  public static final long NO_BUCKET = Long.MIN_VALUE;

  /** Most labelled predictions a window keeps; beyond, a uniform sample of this many. */
  public static final int LABELLED_SAMPLE = 5_000;

  long bucket;
  long count;
  long minTime = Long.MAX_VALUE;
  long maxTime = Long.MIN_VALUE;
  final Counts[] features;
  final Counts score;
  final List<String> labelIds = new ArrayList<>();
  final List<double[]> labelled = new ArrayList<>();
  /** Where each sampled prediction's label is in {@link #labelled}; rebuilt when read. */
  private final Map<String, Integer> labelSlot = new HashMap<>();
  /** Labelled predictions of the window, sampled or not. */
  long labelledTotal;

  WindowCounts(long bucket, Counts[] features, Counts score) {
    this.bucket = bucket;
    this.features = features;
    this.score = score;
  }

  /** An empty window shaped by {@code layout}. */
  public static WindowCounts empty(BaselineLayout layout, long bucket) {
    Counts[] f = new Counts[layout.features().size()];
    for (int i = 0; i < f.length; i++) {
      BaselineLayout.Slot s = layout.features().get(i);
      f[i] = new Counts(s.size());
    }
    Counts score = layout.score() == null ? null : new Counts(layout.score().size());
    return new WindowCounts(bucket, f, score);
  }

  /** Counts one prediction's feature values and score. */
  public void add(BaselineLayout layout, Prediction p) {
    long t = p.getEventTime().toEpochMilli();
    count++;
    minTime = Math.min(minTime, t);
    maxTime = Math.max(maxTime, t);
    Map<String, Double> numeric = p.getFeatures();
    Map<String, String> categorical = p.getCategoricalFeatures();
    for (int i = 0; i < features.length; i++) {
      BaselineLayout.Slot slot = layout.features().get(i);
      if (slot.categorical()) {
        String v = categorical == null ? null : categorical.get(slot.name());
        if (v == null) {
          features[i].missing++;
        } else {
          features[i].counts[slot.category(v)]++;
        }
      } else {
        Double v = numeric == null ? null : numeric.get(slot.name());
        features[i].addNumeric(slot, v);
      }
    }
    if (score != null) {
      score.addNumeric(layout.score(), p.getScore());
    }
  }

  /**
   * Records the label of one of this window's predictions. A later label of a prediction in the
   * sample replaces the earlier one; once the window holds more than {@link #LABELLED_SAMPLE}
   * labelled predictions, the n-th replaces a random one of the sample with probability
   * {@code LABELLED_SAMPLE / n} (Algorithm R). The draw is seeded by the prediction id and n, so
   * that processing the same labels again keeps the same sample.
   */
  public void label(String predictionId, double score, double label) {
    Integer i = labelSlot.get(predictionId);
    if (i != null) {
      labelled.set(i, new double[] {score, label});
      return;
    }
    labelledTotal++;
    if (labelIds.size() < LABELLED_SAMPLE) {
      labelSlot.put(predictionId, labelIds.size());
      labelIds.add(predictionId);
      labelled.add(new double[] {score, label});
      return;
    }
    long draw = new SplittableRandom(((long) predictionId.hashCode() << 32) ^ labelledTotal)
        .nextLong(labelledTotal);
    if (draw < LABELLED_SAMPLE) {
      int slot = (int) draw;
      labelSlot.remove(labelIds.get(slot));
      labelSlot.put(predictionId, slot);
      labelIds.set(slot, predictionId);
      labelled.set(slot, new double[] {score, label});
    }
  }

  /**
   * Labelled predictions of the window, including those not kept in the sample. Exact up to
   * {@link #LABELLED_SAMPLE}; beyond it, a later label of a prediction that is not in the sample
   * cannot be told from a first one and is counted again.
   */
  public long labelledCount() {
    return labelledTotal;
  }

  /** Whether a prediction at event time {@code t} belongs to this window's span. */
  public boolean covers(long t, long durationMs) {
    if (bucket != NO_BUCKET) {
      return t >= bucket && t < bucket + durationMs;
    }
    return count > 0 && t >= minTime && t <= maxTime;
  }

  /** Predictions counted. */
  public long count() {
    return count;
  }

  /** Event-time bucket start of a TIME window, or {@link #NO_BUCKET}. */
  public long bucket() {
    return bucket;
  }

  /** Earliest event time counted. */
  public long minTime() {
    return minTime;
  }

  /** Latest event time counted. */
  public long maxTime() {
    return maxTime;
  }

  /** Counts of the feature at {@code index} of the layout. */
  public Counts feature(int index) {
    return features[index];
  }

  /** Counts of the score, or null without a score profile. */
  public Counts score() {
    return score;
  }

  /** Scores of the sampled labelled predictions. */
  public double[] labelledScores() {
    return labelled.stream().mapToDouble(a -> a[0]).toArray();
  }

  /** Labels of the sampled labelled predictions, in the same order. */
  public double[] labels() {
    return labelled.stream().mapToDouble(a -> a[1]).toArray();
  }

  void write(DataOutputStream out) throws IOException {
    out.writeLong(bucket);
    out.writeLong(count);
    out.writeLong(minTime);
    out.writeLong(maxTime);
    out.writeInt(features.length);
    for (Counts c : features) {
      c.write(out);
    }
    out.writeBoolean(score != null);
    if (score != null) {
      score.write(out);
    }
    out.writeInt(labelIds.size());
    for (int i = 0; i < labelIds.size(); i++) {
      out.writeUTF(labelIds.get(i));
      out.writeDouble(labelled.get(i)[0]);
      out.writeDouble(labelled.get(i)[1]);
    }
    out.writeLong(labelledTotal);
  }

  /**
   * A window written by {@link #write}; {@code format} 2 (before sampling) has no total, which is
   * then the number of labels it holds.
   */
  static WindowCounts read(DataInputStream in, byte format) throws IOException {
    long bucket = in.readLong();
    long count = in.readLong();
    long min = in.readLong();
    long max = in.readLong();
    Counts[] f = new Counts[in.readInt()];
    for (int i = 0; i < f.length; i++) {
      f[i] = Counts.read(in);
    }
    Counts score = in.readBoolean() ? Counts.read(in) : null;
    WindowCounts w = new WindowCounts(bucket, f, score);
    w.count = count;
    w.minTime = min;
    w.maxTime = max;
    int n = in.readInt();
    for (int i = 0; i < n; i++) {
      String id = in.readUTF();
      w.labelSlot.put(id, i);
      w.labelIds.add(id);
      w.labelled.add(new double[] {in.readDouble(), in.readDouble()});
    }
    w.labelledTotal = format >= 3 ? in.readLong() : n;
    return w;
  }

  /** Live counts of one feature: missing values and counts per bin or category. */
  public static final class Counts {
    long missing;
    final long[] counts;

    Counts(int size) {
      counts = new long[size];
    }

    void addNumeric(BaselineLayout.Slot slot, Double v) {
      if (v == null || v.isNaN()) {
        missing++;
        return;
      }
      counts[slot.bin(v)]++;
    }

    /** Values that were missing (null, absent or NaN). */
    public long missing() {
      return missing;
    }

    /** Counts per bin or category (a copy). */
    public long[] counts() {
      return counts.clone();
    }

    void write(DataOutputStream out) throws IOException {
      out.writeLong(missing);
      out.writeInt(counts.length);
      for (long c : counts) {
        out.writeLong(c);
      }
    }

    static Counts read(DataInputStream in) throws IOException {
      long missing = in.readLong();
      Counts c = new Counts(in.readInt());
      c.missing = missing;
      for (int i = 0; i < c.counts.length; i++) {
        c.counts[i] = in.readLong();
      }
      return c;
    }
  }
}
