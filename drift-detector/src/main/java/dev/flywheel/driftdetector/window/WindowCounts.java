package dev.flywheel.driftdetector.window;

import dev.flywheel.events.Prediction;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One open window of a model: how many predictions it holds, their event-time span, the counts of
 * every feature and of the score over the baseline's bins or categories, and the labelled
 * predictions: all of them up to the window's capacity, then a uniform sample of that size
 * (reservoir sampling), so that a window's state stays bounded however many labels arrive. The
 * capacity is at most {@link #LABELLED_SAMPLE}, and less when the model's windows would otherwise
 * not fit the byte budget of their store value ({@link WindowBudget}); each labelled prediction
 * takes {@link #LABEL_BYTES} in the store, whatever the length of its id. Mutable; kept in the
 * {@code drift-windows} store through {@link ModelWindows}.
 */
public final class WindowCounts {

  /** Bucket of a COUNT window, which has no event-time boundary. */
  public static final long NO_BUCKET = Long.MIN_VALUE;

  /** Most labelled predictions a window keeps; beyond, a uniform sample of at most this many. */
  public static final int LABELLED_SAMPLE = 5_000;

  /**
   * Bytes one labelled prediction of the sample takes in the stored value: the key of its
   * prediction id (64 bits of its SHA-256), its score and its label.
   */
  public static final int LABEL_BYTES = 3 * Long.BYTES;

  long bucket;
  long count;
  long minTime = Long.MAX_VALUE;
  long maxTime = Long.MIN_VALUE;
  final Counts[] features;
  final Counts score;
  /** The {@link #labelKey} of each sampled prediction's id, in the order of {@link #labelled}. */
  final List<Long> labelKeys = new ArrayList<>();
  final List<double[]> labelled = new ArrayList<>();
  /** Where each sampled prediction's label is in {@link #labelled}; rebuilt when read. */
  private final Map<Long, Integer> labelSlot = new HashMap<>();
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
   * Records the label of one of this window's predictions, the window keeping at most {@code
   * capacity} labelled predictions (at most {@link #LABELLED_SAMPLE}; {@link
   * WindowBudget#labelCapacity}). A later label of a prediction in the sample replaces the earlier
   * one; once the window holds {@code capacity} labelled predictions, the n-th replaces a random
   * one of the sample with probability {@code capacity / n} (Algorithm R). The draw is seeded by
   * the prediction id and n, so that processing the same labels again keeps the same sample. A
   * sample larger than {@code capacity} (kept under a larger budget) is cut to it ({@link
   * #keepLabelled}).
   */
  public void label(String predictionId, double score, double label, int capacity) {
    long key = labelKey(predictionId);
    Integer i = labelSlot.get(key);
    if (i != null) {
      labelled.set(i, new double[] {score, label});
      return;
    }
    labelledTotal++;
    if (labelKeys.size() < capacity) {
      labelSlot.put(key, labelKeys.size());
      labelKeys.add(key);
      labelled.add(new double[] {score, label});
      return;
    }
    if (!labelKeys.isEmpty()) {
      long draw = new SplittableRandom(((long) predictionId.hashCode() << 32) ^ labelledTotal)
          .nextLong(labelledTotal);
      if (draw < labelKeys.size()) {
        int slot = (int) draw;
        labelSlot.remove(labelKeys.get(slot));
        labelSlot.put(key, slot);
        labelKeys.set(slot, key);
        labelled.set(slot, new double[] {score, label});
      }
    }
    keepLabelled(capacity);
  }

  /**
   * Cuts the sample to at most {@code capacity} labelled predictions, dropping ones drawn at random
   * (seeded by the window's state, so the same state keeps the same ones): a uniform sample of a
   * uniform sample, so the rest is still a uniform sample of the window's labels. For a window
   * kept under a larger budget (by an earlier version, or before a change of the window settings).
   */
  public void keepLabelled(int capacity) {
    int size = labelKeys.size();
    if (size <= Math.max(0, capacity)) {
      return;
    }
    SplittableRandom random = new SplittableRandom(labelledTotal ^ ((long) size << 32) ^ bucket);
    while (size > Math.max(0, capacity)) {
      int drop = random.nextInt(size);
      int last = size - 1;
      labelSlot.remove(labelKeys.get(drop));
      if (drop != last) {
        labelKeys.set(drop, labelKeys.get(last));
        labelled.set(drop, labelled.get(last));
        labelSlot.put(labelKeys.get(drop), drop);
      }
      labelKeys.remove(last);
      labelled.remove(last);
      size = last;
    }
  }

  /**
   * The key a prediction id is kept by in the sample: the first 64 bits of its SHA-256, so that a
   * sampled prediction takes {@link #LABEL_BYTES} whatever the length of its id. Two ids of one
   * window sharing a key (about one chance in 10^15 per label for a sample of 5,000) would make
   * the second label replace the first as a correction would.
   */
  static long labelKey(String predictionId) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256")
          .digest(predictionId.getBytes(StandardCharsets.UTF_8));
      return ByteBuffer.wrap(digest).getLong();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }

  /** Labelled predictions kept in the sample. */
  public int sampledCount() {
    return labelKeys.size();
  }

  /**
   * Labelled predictions of the window, including those not kept in the sample. Exact while the
   * sample holds every one; beyond, a later label of a prediction that is not in the sample
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
    out.writeInt(labelKeys.size());
    for (int i = 0; i < labelKeys.size(); i++) {
      out.writeLong(labelKeys.get(i));
      out.writeDouble(labelled.get(i)[0]);
      out.writeDouble(labelled.get(i)[1]);
    }
    out.writeLong(labelledTotal);
  }

  /**
   * Bytes an empty window of {@code layout} takes in the stored value: its counts and the fixed
   * fields; each labelled prediction adds {@link #LABEL_BYTES}.
   */
  static int emptyBytes(BaselineLayout layout) {
    return bytes(empty(layout, NO_BUCKET));
  }

  /** Bytes of a window with no feature and no score profile, the least a window takes. */
  static int leastBytes() {
    return bytes(new WindowCounts(NO_BUCKET, new Counts[0], null));
  }

  private static int bytes(WindowCounts w) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      w.write(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.size();
  }

  /**
   * A window written by {@link #write} in {@code format}: format 4 keeps the sampled predictions
   * by {@link #labelKey}; formats 2 and 3 by their id, read as its key; format 2 (before sampling)
   * has no total, which is then the number of labels it holds.
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
      long key = format >= 4 ? in.readLong() : labelKey(in.readUTF());
      w.labelSlot.put(key, i);
      w.labelKeys.add(key);
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
