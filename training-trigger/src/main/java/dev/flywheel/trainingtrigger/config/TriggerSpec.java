package dev.flywheel.trainingtrigger.config;

import java.time.Duration;

/**
 * When a model trains: {@code triggers} of a model entry.
 *
 * <pre>{@code
 * triggers:
 *   drift: true          # retrain on a DriftAlert for the model; default true
 *   newLabels: 5000      # retrain once this many new labels of the model's target arrived; off if absent
 *   schedule: P1D        # retrain every period (ISO-8601); off if absent
 *   cooldown: PT1H       # at least this long between the end of a run and the next start; default PT0S
 *   retry:
 *     maxAttempts: 3     # attempts of a run, the first included; default 3
 *     backoff: PT5M      # wait after the first failure, doubled after each further one; default PT1M
 * }</pre>
 *
 * <p>Manual requests ({@code flywheel train}, {@code POST /models/{model}/train}) are always on.
 *
 * @param drift whether drift alerts for the model trigger a run
 * @param newLabels labels that trigger a run; null when off
 * @param schedule period between scheduled runs; null when off
 * @param cooldown minimum time from a run's end to the next start; never null
 * @param maxAttempts attempts of a run before it stays failed, at least 1
 * @param backoff wait before the second attempt; doubled for each later one; never null
 */
public record TriggerSpec(boolean drift, Long newLabels, Duration schedule, Duration cooldown,
    int maxAttempts, Duration backoff) {

  /** Attempts of a run unless configured. */
  public static final int DEFAULT_MAX_ATTEMPTS = 3;

  /** Wait before a retry unless configured. */
  public static final Duration DEFAULT_BACKOFF = Duration.ofMinutes(1);

  /** Drift on, labels and schedule off, no cooldown, 3 attempts: retried after 1 minute, then 2. */
  public static TriggerSpec defaults() {
    return new TriggerSpec(true, null, null, Duration.ZERO, DEFAULT_MAX_ATTEMPTS, DEFAULT_BACKOFF);
  }

  /** Defaults filled in. */
  public TriggerSpec {
    cooldown = cooldown == null ? Duration.ZERO : cooldown;
    backoff = backoff == null ? DEFAULT_BACKOFF : backoff;
  }

  /**
   * The wait before attempt {@code attempt + 1} after attempt {@code attempt} failed: {@code
   * backoff * 2^(attempt-1)}.
   */
  public Duration backoffAfter(int attempt) {
    int doublings = Math.max(0, Math.min(attempt - 1, 20));
    return backoff.multipliedBy(1L << doublings);
  }

  record Yaml(Boolean drift, Long newLabels, String schedule, String cooldown, Retry retry) {

    record Retry(Integer maxAttempts, String backoff) {}

    TriggerSpec toSpec(String where) {
      if (newLabels != null && newLabels < 1) {
        throw new InvalidConfigException(where + ".newLabels is " + newLabels
            + "; it must be at least 1, or left out to turn the label trigger off");
      }
      Duration s = TimeSpans.parse(where + ".schedule", schedule);
      if (s != null && s.isZero()) {
        throw new InvalidConfigException(where + ".schedule must be longer than zero, or left out");
      }
      int attempts = retry == null || retry.maxAttempts() == null ? DEFAULT_MAX_ATTEMPTS
          : retry.maxAttempts();
      if (attempts < 1) {
        throw new InvalidConfigException(where + ".retry.maxAttempts is " + attempts
            + "; it must be at least 1 (1 means no retry)");
      }
      return new TriggerSpec(drift == null || drift, newLabels, s,
          TimeSpans.parse(where + ".cooldown", cooldown), attempts,
          retry == null ? null : TimeSpans.parse(where + ".retry.backoff", retry.backoff()));
    }
  }
}
