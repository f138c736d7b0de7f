package dev.flywheel.servingsink;

import dev.flywheel.events.ServingCheck;
import dev.flywheel.servingsink.model.ServedModel;
import dev.flywheel.servingsink.model.ServedModels;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * serving-sink's meters, in the registry the caller passes in:
 *
 * <ul>
 *   <li>{@code flywheel.serving.predictions} (counter; model, version, alias, mode, shadow):
 *       predictions emitted — its rate is predictions/s per model and version;
 *   <li>{@code flywheel.serving.latency} (timer with percentile histogram; model, alias, mode):
 *       time to score one row (a micro-batch's time divided by its rows);
 *   <li>{@code flywheel.serving.swaps} (counter; model, alias): versions swapped in;
 *   <li>{@code flywheel.serving.refusals} (counter; model, alias, check): versions refused;
 *   <li>{@code flywheel.serving.version} (gauge; model, alias): the version served now;
 *   <li>{@code flywheel.serving.unscored} (counter; reason): feature vectors no model scored;
 *   <li>{@code flywheel.serving.dead.letters} (counter; reason): records sent to a dead-letter
 *       topic.
 * </ul>
 */
public final class ServingMetrics {

  private final MeterRegistry registry;
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();
  private final Map<String, Timer> timers = new ConcurrentHashMap<>();
  private final Set<ServedModels.Key> gauges = ConcurrentHashMap.newKeySet();

  public ServingMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** Counts {@code n} predictions of one model version. */
  public void predictions(ServedModel model, String mode, boolean shadow, int n) {
    predictions(model.model(), model.version(), model.alias(), mode, shadow, n);
  }

  /** Counts {@code n} predictions of {@code model} version {@code version} under {@code alias}. */
  public void predictions(String model, int version, String alias, String mode, boolean shadow,
      int n) {
    String key = "p|" + model + "|" + version + "|" + alias + "|" + mode + "|" + shadow;
    counters.computeIfAbsent(key, k -> Counter.builder("flywheel.serving.predictions")
        .description("Predictions emitted").tag("model", model)
        .tag("version", Integer.toString(version)).tag("alias", alias)
        .tag("mode", mode).tag("shadow", Boolean.toString(shadow)).register(registry))
        .increment(n);
  }

  /** Records the scoring latency of {@code rows} rows that took {@code nanos} together. */
  public void latency(ServedModel model, String mode, long nanos, int rows) {
    String key = model.model() + "|" + model.alias() + "|" + mode;
    Timer timer = timers.computeIfAbsent(key, k -> Timer.builder("flywheel.serving.latency")
        .description("Time to score one row").tag("model", model.model())
        .tag("alias", model.alias()).tag("mode", mode).publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofNanos(1_000)).maximumExpectedValue(Duration.ofSeconds(1))
        .register(registry));
    long perRow = nanos / Math.max(rows, 1);
    for (int i = 0; i < rows; i++) {
      timer.record(perRow, TimeUnit.NANOSECONDS);
    }
  }

  /** Counts a swap and makes sure the version gauge of the key exists. */
  public void swapped(ServedModel model, ServedModels served) {
    counter("flywheel.serving.swaps", "Model versions swapped in", "model", model.model(),
        "alias", model.alias()).increment();
    ServedModels.Key key = new ServedModels.Key(model.model(), model.alias());
    if (gauges.add(key)) {
      Gauge.builder("flywheel.serving.version", served,
              s -> s.peek(key.model(), key.alias()).map(m -> (double) m.version())
                  .orElse(Double.NaN))
          .description("Model version served").tag("model", key.model())
          .tag("alias", key.alias()).register(registry);
    }
  }

  /** Counts a refused version. */
  public void refused(String model, String alias, ServingCheck check) {
    counter("flywheel.serving.refusals", "Model versions refused", "model", model, "alias",
        alias, "check", check.name()).increment();
  }

  /** Counts feature vectors no served model scored. */
  public void unscored(String reason, int n) {
    counter("flywheel.serving.unscored", "Feature vectors no model scored", "reason", reason)
        .increment(n);
  }

  /** Counts a dead letter. */
  public void deadLetter(String reason) {
    deadLetters(reason, 1);
  }

  /** Counts {@code n} dead letters. */
  public void deadLetters(String reason, int n) {
    counter("flywheel.serving.dead.letters", "Records sent to a dead-letter topic", "reason",
        reason).increment(n);
  }

  /** The swaps counted so far for a model and alias (for health and tests). */
  public double swaps(String model, String alias) {
    Counter c = registry.find("flywheel.serving.swaps").tags("model", model, "alias", alias)
        .counter();
    return c == null ? 0 : c.count();
  }

  private Counter counter(String name, String description, String... tags) {
    String key = name + "|" + String.join("|", tags);
    return counters.computeIfAbsent(key, k -> Counter.builder(name).description(description)
        .tags(tags).register(registry));
  }
}
