package dev.flywheel.platform.demo;

import dev.flywheel.events.DriftReport;
import dev.flywheel.events.FeatureDrift;
import java.io.PrintWriter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * What {@code flywheel demo} shows while the loop runs. On a terminal: a panel redrawn in place
 * about twice a second (plain ANSI) with events, features and predictions per second, the model
 * versions serving, the latest drift statistics and the timeline of stages. Elsewhere (a pipe, a
 * CI log): one line per stage and a status line every {@link #STATUS_EVERY_MS}.
 */
final class DemoView {

  /** How often a non-terminal view prints a status line. */
  static final long STATUS_EVERY_MS = 10_000;

  private static final String CLEAR_BELOW = "\u001b[J";
  private static final String BOLD = "\u001b[1m";
  private static final String RED = "\u001b[31m";
  private static final String GREEN = "\u001b[32m";
  private static final String RESET = "\u001b[0m";
  private static final int TIMELINE_LINES = 12;

  private final PrintWriter out;
  private final boolean ansi;
  private final Supplier<String> phase;
  private final Deque<Sample> samples = new ArrayDeque<>();
  private int drawnLines;
  private int printedStages;
  private long lastStatusMs;

  DemoView(PrintWriter out, boolean ansi, Supplier<String> phase) {
    this.out = out;
    this.ansi = ansi;
    this.phase = phase;
  }

  /** Redraws the panel, or prints the stages not printed yet (and a status line when due). */
  void refresh(LoopObserver.Snapshot s, long paymentsSent, long labelsSent, long elapsedMs) {
    samples.addLast(new Sample(s.atMs(), paymentsSent, s.features(), s.predictions()));
    while (samples.size() > 2 && samples.peekFirst().atMs() < s.atMs() - 3_000) {
      samples.removeFirst();
    }
    if (ansi) {
      draw(s, paymentsSent, labelsSent, elapsedMs);
    } else {
      List<LoopObserver.Stage> stages = s.timeline();
      for (; printedStages < stages.size(); printedStages++) {
        out.println(stages.get(printedStages).line());
      }
      if (s.atMs() - lastStatusMs >= STATUS_EVERY_MS) {
        lastStatusMs = s.atMs();
        out.println(String.format(Locale.ROOT, "%+7.1fs  [%s] %s", elapsedMs / 1000.0,
            phase.get(), rates(s, paymentsSent, labelsSent)));
      }
      out.flush();
    }
  }

  private String rates(LoopObserver.Snapshot s, long paymentsSent, long labelsSent) {
    Sample first = samples.peekFirst();
    Sample last = samples.peekLast();
    double secs = Math.max(0.001, (last.atMs() - first.atMs()) / 1000.0);
    return String.format(Locale.ROOT,
        "events %.0f/s, features %.0f/s, predictions %.0f/s (sent %d payments, %d labels; %d"
            + " vectors, %d predictions)",
        (last.payments() - first.payments()) / secs, (last.features() - first.features()) / secs,
        (last.predictions() - first.predictions()) / secs, paymentsSent, labelsSent, s.features(),
        s.predictions());
  }

  private void draw(LoopObserver.Snapshot s, long paymentsSent, long labelsSent,
      long elapsedMs) {
    List<String> lines = new ArrayList<>();
    lines.add(BOLD + String.format(Locale.ROOT, "flywheel demo  %5.1fs  %s", elapsedMs / 1000.0,
        phase.get()) + RESET);
    lines.add("  " + rates(s, paymentsSent, labelsSent));
    lines.add("  serving      " + serving(s));
    lines.add("  latency      " + (s.latencySamples() == 0 ? "-" : String.format(Locale.ROOT,
        "payment -> prediction p50 %d ms, p99 %d ms (%d predictions)", s.latencyP50Ms(),
        s.latencyP99Ms(), s.latencySamples())));
    lines.addAll(drift(s.latestReport(), s.reports()));
    lines.add(BOLD + "  timeline" + RESET);
    List<LoopObserver.Stage> stages = s.timeline();
    for (LoopObserver.Stage st : stages.subList(Math.max(0, stages.size() - TIMELINE_LINES),
        stages.size())) {
      String line = "  " + st.line();
      if (st.what().startsWith("DRIFT ALERT") || st.what().contains("FAILED")
          || st.what().contains("rejected")) {
        line = RED + line + RESET;
      } else if (st.what().contains("promoted") || st.what().contains("serving")) {
        line = GREEN + line + RESET;
      }
      lines.add(line);
    }
    StringBuilder b = new StringBuilder();
    if (drawnLines > 0) {
      b.append("\u001b[").append(drawnLines).append('A').append('\r');
    }
    b.append(CLEAR_BELOW);
    for (String l : lines) {
      b.append(l).append("\u001b[K").append('\n');
    }
    out.print(b);
    out.flush();
    drawnLines = lines.size();
  }

  private static String serving(LoopObserver.Snapshot s) {
    if (s.predictionsByVersion().isEmpty()) {
      return s.promotedAtMs().isEmpty() ? "no model yet (waiting for labels and training)"
          : "v" + s.latestPromoted() + " promoted, loading";
    }
    return s.predictionsByVersion().entrySet().stream()
        .map(e -> "v" + e.getKey() + ": " + e.getValue() + " predictions")
        .collect(Collectors.joining(", ")) + "  (champion v" + s.latestPromoted() + ")";
  }

  static List<String> drift(DriftReport r, long reports) {
    if (r == null) {
      return List.of("  drift        no report yet");
    }
    List<String> lines = new ArrayList<>();
    lines.add(String.format(Locale.ROOT,
        "  drift        window %d vs v%d baseline: %.0f%% of features drifted%s, %d in a row"
            + " (%d reports)", r.getWindow().getSequence(), r.getBaselineVersion(),
        r.getDriftedShare() * 100, r.getDrifted() ? " -> DRIFTED" : "",
        r.getConsecutiveDrifted(), reports));
    List<FeatureDrift> top = r.getFeatures().stream()
        .sorted(Comparator.comparing((FeatureDrift f) -> !f.getDrifted())
            .thenComparing(f -> f.getFeature().toString()))
        .limit(4).toList();
    for (FeatureDrift f : top) {
      lines.add("               " + describe(f));
    }
    return lines;
  }

  static String describe(FeatureDrift f) {
    String stats = f.getStatistics().stream()
        .map(st -> String.format(Locale.ROOT, "%s %.3f%s", st.getMethod(), st.getValue(),
            st.getPValue() == null ? "" : String.format(Locale.ROOT, " (p %.3g)", st.getPValue())))
        .collect(Collectors.joining(", "));
    return String.format(Locale.ROOT, "%-24s %s %s", f.getFeature(),
        f.getDrifted() ? "drifted" : "stable ", stats);
  }

  /** Prints what is left of the timeline (non-terminal views) and ends the panel. */
  void finish(LoopObserver.Snapshot s) {
    if (!ansi) {
      List<LoopObserver.Stage> stages = s.timeline();
      for (; printedStages < stages.size(); printedStages++) {
        out.println(stages.get(printedStages).line());
      }
    }
    out.flush();
  }

  private record Sample(long atMs, long payments, long features, long predictions) {}
}
