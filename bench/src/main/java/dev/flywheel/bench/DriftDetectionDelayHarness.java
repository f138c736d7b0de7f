package dev.flywheel.bench;

import dev.flywheel.driftdetector.config.DriftPolicy;
import dev.flywheel.driftdetector.window.BaselineLayout;
import dev.flywheel.driftdetector.window.DriftEvaluator;
import dev.flywheel.driftdetector.window.ModelWindows;
import dev.flywheel.driftdetector.window.WindowCounts;
import dev.flywheel.events.DriftReport;
import dev.flywheel.events.DriftWindow;
import dev.flywheel.events.Prediction;
import dev.flywheel.events.WindowKind;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Detection delay and false alarms of the default drift policy at its default window (5,000
 * predictions), on the data of {@link DriftThroughputBenchmark} (12 numeric N(0, 1) features, 4
 * categorical ones, the score; a 20,000-row baseline), without Kafka: windows are counted and
 * judged with the classes the detector's processor uses ({@link WindowCounts}, {@link
 * DriftEvaluator}, {@link ModelWindows#verdict}).
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.flywheel.bench.DriftDetectionDelayHarness \
 *     [seeds] [stationaryWindows] [shiftSigma]
 * </pre>
 *
 * <p>Per seed (default 20): a fresh baseline, {@code stationaryWindows} (default 50) windows drawn
 * from the baseline's own distributions (counting windows that are drifted and windows at which
 * the policy — 2 drifted windows in a row — would alert), then feature {@code n0} (marked
 * important) shifts by {@code shiftSigma} (default 0.5) standard deviations at a random prediction
 * of the next window. The delay is the number of predictions from the shift to the end of the
 * window whose report raises the alert.
 */
public final class DriftDetectionDelayHarness {

  private static final int WINDOW = (int) DriftPolicy.DEFAULT_WINDOW_COUNT;

  private DriftDetectionDelayHarness() {}

  public static void main(String[] args) {
    int seeds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
    int stationary = args.length > 1 ? Integer.parseInt(args[1]) : 50;
    double shift = args.length > 2 ? Double.parseDouble(args[2]) : 0.5;
    DriftPolicy policy = DriftPolicy.defaults().withImportant(List.of("n0"));
    int driftedStationary = 0;
    int falseAlerts = 0;
    List<Integer> delays = new ArrayList<>();
    List<Integer> windowsAfter = new ArrayList<>();
    for (int seed = 1; seed <= seeds; seed++) {
      Random random = new Random(seed);
      BaselineLayout layout = BaselineLayout.of(DriftThroughputBenchmark.baseline(random));
      ModelWindows state = new ModelWindows(1, "bench");
      int n = 0;
      for (int w = 0; w < stationary; w++) {
        WindowCounts counts = WindowCounts.empty(layout, WindowCounts.NO_BUCKET);
        for (int i = 0; i < WINDOW; i++) {
          counts.add(layout, DriftThroughputBenchmark.prediction(random, n++));
        }
        DriftReport r = judge(layout, state, counts, policy);
        driftedStationary += r.getDrifted() ? 1 : 0;
        falseAlerts += alerts(r, policy) ? 1 : 0;
      }
      int shiftAt = random.nextInt(WINDOW);
      int sinceShift = 0;
      boolean alerted = false;
      int windows = 0;
      while (!alerted && windows < 20) {
        WindowCounts counts = WindowCounts.empty(layout, WindowCounts.NO_BUCKET);
        for (int i = 0; i < WINDOW; i++) {
          Prediction p = DriftThroughputBenchmark.prediction(random, n++);
          if (windows > 0 || i >= shiftAt) {
            p.getFeatures().put("n0", p.getFeatures().get("n0") + shift);
            sinceShift++;
          }
          counts.add(layout, p);
        }
        windows++;
        alerted = alerts(judge(layout, state, counts, policy), policy);
      }
      delays.add(alerted ? sinceShift : -1);
      windowsAfter.add(alerted ? windows : -1);
      System.out.printf(Locale.ROOT, "seed %d: shift at prediction %d of its window; alert after"
          + " %d predictions (%d windows)%n", seed, shiftAt, sinceShift, windows);
    }
    int[] sorted = delays.stream().mapToInt(Integer::intValue).sorted().toArray();
    System.out.printf(Locale.ROOT, "%d seeds, windows of %,d, %.2f sigma shift of one important"
            + " feature: detected %d/%d; delay median %,d predictions, max %,d (windows incl."
            + " the one with the shift: max %d); stationary: %d of %d windows drifted, %d alert"
            + " points%n", seeds, WINDOW, shift, delays.stream().filter(d -> d >= 0).count(),
        seeds, sorted[sorted.length / 2], sorted[sorted.length - 1],
        windowsAfter.stream().mapToInt(Integer::intValue).max().orElse(-1), driftedStationary,
        seeds * stationary, falseAlerts);
  }

  private static DriftReport judge(BaselineLayout layout, ModelWindows state,
      WindowCounts counts, DriftPolicy policy) {
    long sequence = state.takeSequence();
    DriftWindow window = DriftWindow.newBuilder().setKind(WindowKind.COUNT)
        .setSequence(sequence).setStartTime(Instant.ofEpochMilli(counts.minTime()))
        .setEndTime(Instant.ofEpochMilli(counts.maxTime())).setCount(counts.count()).build();
    DriftReport r = DriftEvaluator.evaluate(new DriftEvaluator.Subject(
        DriftThroughputBenchmark.MODEL, "champion", 1, "report-" + sequence, window), layout,
        counts, policy);
    boolean judged = r.getFeatures().stream().anyMatch(f -> f.getDecidedBy() != null);
    r.setConsecutiveDrifted(state.verdict(judged, r.getDrifted(), counts.minTime()));
    return r;
  }

  private static boolean alerts(DriftReport r, DriftPolicy policy) {
    return r.getDrifted() && r.getConsecutiveDrifted() >= policy.consecutiveWindows();
  }
}
