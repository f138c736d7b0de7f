package dev.flywheel.platform.demo;

import dev.flywheel.events.TrainingRun;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The figures {@code flywheel demo} measured, as printed at its end. */
final class DemoSummary {

  private DemoSummary() {}

  static List<String> lines(Demo.Result r) {
    LoopObserver.Snapshot s = r.snapshot();
    List<String> out = new ArrayList<>();
    long start = r.startedMs();
    out.add(r.closed()
        ? String.format(Locale.ROOT, "The loop closed in %.1f s: v%d, retrained on a drift alert,"
            + " serves.", (r.snapshot().firstPredictionByVersionAtMs().get(r.retrainedVersion())
            - start) / 1000.0, r.retrainedVersion())
        : "The loop did not close: no " + r.missingStage() + " within the time budget.");
    out.add("");
    out.add("Throughput (averages over each stage's active time)");
    double trafficSecs = Math.max(0.001, (r.endMs() - r.trafficStartMs()) / 1000.0);
    out.add(String.format(Locale.ROOT, "  ingest       %8d payments  %7.1f /s  (+ %d labels%s)",
        r.paymentsSent(), r.paymentsSent() / trafficSecs, r.labelsSent(),
        r.failedBatches() == 0 ? "" : "; " + r.failedBatches() + " batches failed: "
            + r.lastError()));
    if (r.heldBackMs() > 1000) {
      out.add(String.format(Locale.ROOT, "               (new payments held back %.1f s while"
          + " features caught up)", r.heldBackMs() / 1000.0));
    }
    out.add(String.format(Locale.ROOT, "  features     %8d vectors   %7.1f /s", s.features(),
        rate(s.features(), s.firstFeatureAtMs(), s.lastFeatureAtMs())));
    out.add(String.format(Locale.ROOT, "  predictions  %8d           %7.1f /s  %s",
        s.predictions(), rate(s.predictions(), s.firstPredictionAtMs(), s.lastPredictionAtMs()),
        s.predictionsByVersion()));
    out.add(s.latencySamples() == 0 ? "  payment -> prediction latency: no sample"
        : String.format(Locale.ROOT, "  payment -> prediction latency  p50 %d ms, p99 %d ms"
            + " (%d predictions; from the ingest request to the prediction's scored_at)",
            s.latencyP50Ms(), s.latencyP99Ms(), s.latencySamples()));
    out.add("");
    out.add("Stages (seconds from the start of flywheel demo)");
    List<Timed> stages = new ArrayList<>();
    stages.add(new Timed("stack and services up", r.readyMs()));
    stages.add(new Timed("v1 requested (" + Demo.BOOTSTRAP_LABELS + " labels in)",
        r.bootstrapRequestMs()));
    for (TrainingRun run : s.completedRuns().values()) {
      Long at = s.runCompletedAtMs().get(run.getRunId());
      Double auc = run.getMetrics() == null ? null : run.getMetrics().get("auc");
      stages.add(new Timed(run.getRunId() + " completed" + (auc == null ? ""
          : String.format(Locale.ROOT, " (auc %.3f, %.1f s)", auc,
              run.getDurationMs() == null ? 0 : run.getDurationMs() / 1000.0)),
          at == null ? 0 : at));
    }
    for (Map.Entry<Integer, Long> e : s.promotedAtMs().entrySet()) {
      stages.add(new Timed("v" + e.getKey() + " promoted", e.getValue()));
      Long serving = s.firstPredictionByVersionAtMs().get(e.getKey());
      stages.add(new Timed("v" + e.getKey() + " first prediction", serving == null ? 0 : serving));
    }
    stages.add(new Timed("traffic shift (drift onset)", r.shiftMs()));
    Long drifted = s.firstDriftedAtMsByBaseline().get(1);
    stages.add(new Timed("first drifted window against v1", drifted == null ? 0 : drifted));
    stages.add(new Timed("drift alert", s.alertAtMs().isEmpty() ? 0 : s.alertAtMs().get(0)));
    stages.stream()
        .sorted(java.util.Comparator.comparingLong(t -> t.atMs() <= 0 ? Long.MAX_VALUE
            : t.atMs()))
        .forEach(t -> stage(out, t.what(), start, t.atMs()));
    out.add("");
    out.add("Durations");
    if (r.bootstrapRequestMs() > 0 && s.promotedAtMs().containsKey(1)) {
      duration(out, "v1 request -> v1 promoted", r.bootstrapRequestMs(),
          s.promotedAtMs().get(1));
    }
    if (r.shiftMs() > 0 && !s.alertAtMs().isEmpty()) {
      duration(out, "drift onset -> alert", r.shiftMs(), s.alertAtMs().get(0));
    }
    if (r.closed()) {
      int v = r.retrainedVersion();
      TrainingRun run = s.runOf(v).orElseThrow();
      Long runStart = s.runStartedAtMs().get(run.getRunId());
      if (!s.alertAtMs().isEmpty() && runStart != null) {
        duration(out, "alert -> retraining started", s.alertAtMs().get(0), runStart);
      }
      if (run.getDurationMs() != null) {
        out.add(String.format(Locale.ROOT, "  %-36s %6.1f s", "retraining (" + run.getRunId()
            + ")", run.getDurationMs() / 1000.0));
      }
      Long done = s.runCompletedAtMs().get(run.getRunId());
      if (done != null) {
        duration(out, "run completed -> v" + v + " promoted", done, s.promotedAtMs().get(v));
      }
      duration(out, "v" + v + " promoted -> v" + v + " serving", s.promotedAtMs().get(v),
          s.firstPredictionByVersionAtMs().get(v));
      duration(out, "drift onset -> v" + v + " serving", r.shiftMs(),
          s.firstPredictionByVersionAtMs().get(v));
    }
    return out;
  }

  private static double rate(long count, long firstMs, long lastMs) {
    if (count < 2 || lastMs <= firstMs) {
      return 0;
    }
    return count / ((lastMs - firstMs) / 1000.0);
  }

  private static void stage(List<String> out, String what, long start, long atMs) {
    out.add(atMs <= 0 ? String.format(Locale.ROOT, "  %-44s      -", what)
        : String.format(Locale.ROOT, "  %-44s %6.1f s", what, (atMs - start) / 1000.0));
  }

  private static void duration(List<String> out, String what, long fromMs, long toMs) {
    out.add(String.format(Locale.ROOT, "  %-36s %6.1f s", what, (toMs - fromMs) / 1000.0));
  }

  private record Timed(String what, long atMs) {}

  static void print(Demo.Result r, PrintWriter out) {
    out.println();
    lines(r).forEach(out::println);
    out.flush();
  }
}
