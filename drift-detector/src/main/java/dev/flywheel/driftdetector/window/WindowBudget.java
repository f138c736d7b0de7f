package dev.flywheel.driftdetector.window;

import dev.flywheel.driftdetector.config.DriftDetectorConfig;
import dev.flywheel.driftdetector.config.DriftPolicy;
import dev.flywheel.driftdetector.config.InvalidConfigException;
import dev.flywheel.topics.RecordSize;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * How large the {@code drift-windows} value of one model may grow, and so how many labelled
 * predictions each of its windows keeps. A model's open windows are one value of the store and
 * one record of its changelog, which the producer refuses beyond its {@code max.request.size}: the
 * task would fail at every commit, and after every restore, stopping drift detection for every
 * model of the task. So the value is kept within {@link #valueBytes}: half of what a record may
 * carry (the rest is headroom; the value is also written to the store's cache at every
 * prediction, so a smaller one is cheaper).
 *
 * <p>The counts come first: the fixed fields, and for each of the most windows that can be open
 * at once ({@link DriftPolicy#maxOpenWindows}) the counts of every feature and of the score over
 * the baseline's bins or categories. What is left is shared evenly by those windows for their
 * labelled samples, at {@link WindowCounts#LABEL_BYTES} a labelled prediction, each window
 * keeping at most {@link WindowCounts#LABELLED_SAMPLE}. When the counts alone do not fit ({@link
 * #fits()} is false), the model's windows cannot be kept for this baseline. The budget depends on
 * the configuration and the promotion only, so a task processing the same records again keeps the
 * same samples.
 */
public final class WindowBudget {

  /** A model's windows take at most this share of what a record of the changelog may carry. */
  public static final double RECORD_SHARE = 0.5;

  private final long bytes;
  private final long headerBytes;
  private final long windowBytes;
  private final long maxOpen;
  private final int maxRequestSize;
  private final DriftPolicy policy;
  private final BaselineLayout layout;

  private WindowBudget(long bytes, long headerBytes, long windowBytes, int maxRequestSize,
      DriftPolicy policy, BaselineLayout layout) {
    this.bytes = bytes;
    this.headerBytes = headerBytes;
    this.windowBytes = windowBytes;
    this.maxOpen = policy.maxOpenWindows();
    this.maxRequestSize = maxRequestSize;
    this.policy = policy;
    this.layout = layout;
  }

  /**
   * The most bytes the windows of {@code model} may take: {@link #RECORD_SHARE} of what a record
   * keyed by the model's name may carry for a producer whose {@code max.request.size} is {@code
   * maxRequestSize} (524,025 bytes for a 14-letter name and Kafka's default of 1 MiB).
   */
  public static long valueBytes(String model, int maxRequestSize) {
    int keyBytes = model.getBytes(StandardCharsets.UTF_8).length;
    return (long) (RecordSize.maxValueBytes(keyBytes, maxRequestSize) * RECORD_SHARE);
  }

  /**
   * The budget of the windows of {@code model} under {@code policy}, compared with the baseline
   * laid out as {@code layout} of the promotion {@code eventId}, for a producer whose {@code
   * max.request.size} is {@code maxRequestSize}.
   */
  public static WindowBudget of(String model, int maxRequestSize, DriftPolicy policy,
      BaselineLayout layout, String eventId) {
    return new WindowBudget(valueBytes(model, maxRequestSize), ModelWindows.headerBytes(eventId),
        WindowCounts.emptyBytes(layout), maxRequestSize, policy, layout);
  }

  /** Whether the counts of the most windows that can be open at once fit the budget. */
  public boolean fits() {
    return countsBytes() <= bytes;
  }

  /** The most bytes the model's windows may take. */
  public long bytes() {
    return bytes;
  }

  /** Bytes of the model's windows without labels, with the most windows open at once. */
  public long countsBytes() {
    if (maxOpen > bytes) {
      return Long.MAX_VALUE;
    }
    return headerBytes + maxOpen * windowBytes;
  }

  /** Bytes one window takes without labels. */
  public long windowBytes() {
    return windowBytes;
  }

  /** The most windows open at once ({@link DriftPolicy#maxOpenWindows}). */
  public long maxOpenWindows() {
    return maxOpen;
  }

  /** The labelled predictions each window keeps at most, with the most windows open at once. */
  public int labelCapacity() {
    return labelCapacity(0);
  }

  /**
   * The labelled predictions each window keeps at most when {@code open} windows are open: the
   * bytes left by the counts, shared by the most windows that can be open at once (or by {@code
   * open}, when more are, as after a change of the window settings), at most {@link
   * WindowCounts#LABELLED_SAMPLE}; 0 when the counts do not fit.
   */
  public int labelCapacity(int open) {
    long windows = Math.max(open, maxOpen);
    if (windows > bytes) {
      return 0;
    }
    long free = bytes - headerBytes - windows * windowBytes;
    if (free <= 0) {
      return 0;
    }
    return (int) Math.min(WindowCounts.LABELLED_SAMPLE, free / windows / WindowCounts.LABEL_BYTES);
  }

  /**
   * Why the windows of version {@code version} of {@code model} cannot be kept, and what to
   * change; {@code changelog} is the store's changelog topic.
   */
  public String problem(String model, int version, String changelog) {
    int features = layout.features().size();
    long bins = layout.features().stream().mapToLong(BaselineLayout.Slot::size).sum()
        + (layout.score() == null ? 0 : layout.score().size());
    long fitting = (bytes - headerBytes) / windowBytes;
    String windows = policy.timeWindows()
        ? "with window.duration " + policy.windowDuration() + " and window.grace "
            + policy.grace() + " up to " + maxOpen + " windows are open at once"
        : "with windows closed by count one window is open at a time";
    String raise = "raise max.request.size (FLYWHEEL_KAFKA_MAX_REQUEST_SIZE) together with"
        + " max.message.bytes of " + changelog;
    String fix = policy.timeWindows() && fitting >= 1
        ? "lengthen models[" + model + "].drift.window.duration or shorten its window.grace in"
            + " flywheel.yaml so that at most " + fitting + " windows are open at once (1 + grace"
            + " / duration, rounded up), or profile fewer features, or " + raise
        : "profile fewer features (or fewer categories), or " + raise;
    return "model '" + model + "' version " + version + " is not monitored for drift: " + windows
        + ", each counting " + features + " features" + (layout.score() == null ? ""
        : " and the score") + " over " + bins + " bins and categories (" + windowBytes
        + " bytes a window), which take " + (maxOpen > bytes ? "more than " + bytes
        : String.valueOf(countsBytes())) + " bytes, more than the " + bytes + " bytes a model's"
        + " windows may take (half of a record of " + changelog + ": max.request.size "
        + maxRequestSize + " less the key and the record's overhead). Fix: " + fix
        + ", then restart drift-detector: the model is monitored from its next prediction";
  }

  /**
   * Checks, before any baseline is known, that the most windows each configured policy can keep
   * open at once would fit even with no feature and no score.
   *
   * @throws InvalidConfigException naming the model, the window settings and what to change
   */
  public static void requireFits(DriftDetectorConfig config, int maxRequestSize) {
    long header = ModelWindows.headerBytes("");
    long least = WindowCounts.leastBytes();
    for (Map.Entry<String, DriftPolicy> e : config.policies().entrySet()) {
      String model = e.getKey();
      DriftPolicy policy = e.getValue();
      long bytes = valueBytes(model, maxRequestSize);
      long open = policy.maxOpenWindows();
      if (open <= (bytes - header) / least) {
        continue;
      }
      throw new InvalidConfigException("models[" + model + "].drift.window: duration "
          + policy.windowDuration() + " with grace " + policy.grace() + " keeps up to " + open
          + " windows of the model open at once, which take at least "
          + (open > bytes ? "more than " + bytes : String.valueOf(header + open * least))
          + " bytes before counting any feature, more than the " + bytes + " bytes a model's"
          + " windows may take (half of a record of the drift-windows changelog:"
          + " max.request.size " + maxRequestSize + " less the key and the record's overhead)."
          + " Lengthen window.duration or shorten window.grace so that far fewer than "
          + (bytes - header) / least + " windows are open at once (1 + grace / duration, rounded"
          + " up; each window also counts every feature of the baseline over its bins), or raise"
          + " max.request.size (FLYWHEEL_KAFKA_MAX_REQUEST_SIZE)");
    }
  }
}
