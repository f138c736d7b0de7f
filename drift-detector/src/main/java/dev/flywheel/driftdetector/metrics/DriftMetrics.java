package dev.flywheel.driftdetector.metrics;

import dev.flywheel.events.DriftAlert;
import dev.flywheel.events.DriftReport;
import dev.flywheel.events.DriftStatistic;
import dev.flywheel.events.FeatureDrift;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * drift-detector's meters, on the {@link MeterRegistry} it is given:
 *
 * <ul>
 *   <li>{@code flywheel.drift.statistic{model,feature,method}}: gauge, the latest window's value of
 *       each statistic of each feature and of the score ({@code feature=score});
 *   <li>{@code flywheel.drift.p_value{model,feature,method}}: gauge, the latest p-value of the
 *       tests;
 *   <li>{@code flywheel.drift.drifted_share{model}}, {@code flywheel.drift.consecutive{model}},
 *       {@code flywheel.drift.baseline_version{model}}: gauges of the latest window;
 *   <li>{@code flywheel.drift.performance{model,metric}}: gauge, live AUC, log loss, ...;
 *   <li>{@code flywheel.drift.predictions{model,outcome}}: counter of predictions by what became
 *       of them ({@code counted}, {@code no_baseline}, {@code other_version}, {@code late},
 *       {@code discarded_on_switch}, {@code state_too_large}: the version is not monitored
 *       because the counts of the windows its policy keeps open at once would not fit a record
 *       of the windows store's changelog; {@code future_event_time}: its event time is more than
 *       {@code driftDetector.maxEventTimeSkew} ahead of its {@code scored_at}, so it was dropped
 *       before windows and label join); and on the way: {@code held} (a version not promoted
 *       yet: kept until its promotion), {@code released} (a held one taken out by its version's
 *       promotion, then counted under one of the outcomes above), {@code held_overflow} (the
 *       oldest held one sent to {@code flywheel.predictions.dlq} because the model held the
 *       maximum);
 *   <li>{@code flywheel.drift.labels{model,outcome}}: counter of labelled predictions ({@code
 *       counted}, {@code window_closed}, {@code state_too_large});
 *   <li>{@code flywheel.drift.labels.future_event_time}: counter of labels dropped before the
 *       join because their event time is more than {@code driftDetector.maxEventTimeSkew} ahead of
 *       their record's timestamp (a label names no model before it is joined);
 *   <li>{@code flywheel.drift.held_predictions{model}}: gauge, predictions held now (as of the
 *       last change this instance made);
 *   <li>{@code flywheel.drift.reports{model}}, {@code flywheel.drift.alerts{model}}: counters.
 * </ul>
 *
 * <p>Gauges show the last window this instance closed; after a restart they are empty until the
 * next window closes.
 */
public final class DriftMetrics {

  private final MeterRegistry registry;
  private final Map<Tags, AtomicReference<Double>> gauges = new ConcurrentHashMap<>();
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();

  /** Meters on {@code registry}. */
  public DriftMetrics(MeterRegistry registry) {
    this.registry = Objects.requireNonNull(registry, "registry");
  }

  /** Meters nobody reads (tests, benchmarks). */
  public static DriftMetrics discarding() {
    return new DriftMetrics(new SimpleMeterRegistry());
  }

  /** The registry the meters are on. */
  public MeterRegistry registry() {
    return registry;
  }

  /** Counts a promotion whose baseline could not be used: the version is not monitored. */
  public void unusableBaseline(String model) {
    counters.computeIfAbsent(model + "\u0000unusable-baseline", k -> Counter
        .builder("flywheel.drift.baselines.unusable").tag("model", model)
        .description("Promotions whose baseline profile could not be used; those versions are"
            + " not monitored")
        .register(registry)).increment();
  }

  /**
   * Counts one label joined to a prediction of the monitored version by what became of it:
   * {@code counted} into its window's live performance, or {@code window_closed} when it came after
   * its prediction's window had closed.
   */
  public void label(String model, String outcome) {
    counters.computeIfAbsent(model + "\u0000label\u0000" + outcome, k -> Counter
        .builder("flywheel.drift.labels").tag("model", model).tag("outcome", outcome)
        .description("Labels joined to monitored predictions, by what became of them")
        .register(registry)).increment();
  }

  /** Counts a label dropped because its event time is too far ahead of its record's timestamp. */
  public void futureLabel() {
    counters.computeIfAbsent("\u0000future-label", k -> Counter
        .builder("flywheel.drift.labels.future_event_time")
        .description("Labels dropped before the join: event time too far ahead of the record")
        .register(registry)).increment();
  }

  /** Counts one prediction by what became of it. */
  public void prediction(String model, String outcome) {
    counters.computeIfAbsent(model + '\u0000' + outcome, k -> Counter
        .builder("flywheel.drift.predictions").tag("model", model).tag("outcome", outcome)
        .description("Predictions seen by drift detection, by what became of them")
        .register(registry)).increment();
  }

  /** Sets how many predictions of {@code model} are held until their version's promotion. */
  public void held(String model, long count) {
    gauge("flywheel.drift.held_predictions", Tags.of("model", model), count);
  }

  /** Records a closed window's statistics. */
  public void report(DriftReport report) {
    String model = report.getModel();
    for (FeatureDrift f : report.getFeatures()) {
      feature(model, f);
    }
    if (report.getScore() != null) {
      feature(model, report.getScore());
    }
    gauge("flywheel.drift.drifted_share", Tags.of("model", model), report.getDriftedShare());
    gauge("flywheel.drift.consecutive", Tags.of("model", model),
        report.getConsecutiveDrifted());
    gauge("flywheel.drift.baseline_version", Tags.of("model", model),
        report.getBaselineVersion());
    if (report.getPerformance() != null) {
      report.getPerformance().getMetrics().forEach((metric, value) -> gauge(
          "flywheel.drift.performance", Tags.of("model", model, "metric", metric), value));
    }
    Counter.builder("flywheel.drift.reports").tag("model", model)
        .description("Drift reports written").register(registry).increment();
  }

  /** Counts an alert. */
  public void alert(DriftAlert alert) {
    Counter.builder("flywheel.drift.alerts").tag("model", alert.getModel())
        .description("Drift alerts raised").register(registry).increment();
  }

  private void feature(String model, FeatureDrift f) {
    List<DriftStatistic> stats = f.getStatistics();
    for (DriftStatistic s : stats) {
      String method = s.getMethod().name().toLowerCase(Locale.ROOT);
      Tags tags = Tags.of("model", model, "feature", f.getFeature(), "method", method);
      gauge("flywheel.drift.statistic", tags, s.getValue());
      if (s.getPValue() != null) {
        gauge("flywheel.drift.p_value", tags, s.getPValue());
      }
    }
  }

  private void gauge(String name, Tags tags, double value) {
    Tags key = tags.and("__name", name);
    gauges.computeIfAbsent(key, k -> {
      AtomicReference<Double> holder = new AtomicReference<>(Double.NaN);
      Gauge.builder(name, holder, AtomicReference::get).tags(tags).register(registry);
      return holder;
    }).set(value);
  }
}
