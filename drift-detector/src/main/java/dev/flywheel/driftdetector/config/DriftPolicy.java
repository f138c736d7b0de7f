package dev.flywheel.driftdetector.config;

import dev.flywheel.events.DriftMethod;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * When a model's live windows count as drifted and when that raises an alert: the {@code drift:}
 * key of a model entry in {@code flywheel.yaml}. Defaults follow Evidently's: a numeric feature is
 * judged by the Kolmogorov-Smirnov test (drifted at p &lt; 0.05) when the baseline has at most
 * {@link #smallSample} rows and by the normalized Wasserstein distance (drifted at &ge; 0.1)
 * above; a categorical feature by the chi-square test (p &lt; 0.05) or the Jensen-Shannon
 * distance (&ge; 0.1). PSI, when chosen, is judged at &ge; 0.2, the level customarily read as a
 * significant shift (Evidently's own PSI default is 0.1). A window is drifted when at least
 * {@link #share} of the judged features drifted, or any {@link #important} one did; an alert
 * fires after {@link #consecutiveWindows} drifted windows in a row, at most once per
 * {@link #cooldown}.
 *
 * <pre>{@code
 * models:
 *   - name: fraud-detector
 *     drift:
 *       alias: champion            # whose predictions are compared; default champion
 *       window:
 *         count: 5000              # close a window after this many predictions
 *         duration: PT1H           # and/or at event-time boundaries this far apart
 *         grace: PT5M              # how late a prediction may arrive for a TIME window
 *       numeric: {method: auto}    # auto, ks, wasserstein, psi or jensen_shannon; threshold: 0.1
 *       categorical: {method: auto}  # auto, chi_square, jensen_shannon or psi
 *       smallSample: 1000          # auto picks the test up to this many baseline rows
 *       minSamples: 30             # fewer non-missing live values: the feature is not judged
 *       share: 0.5                 # share of judged features that makes a window drifted
 *       important: [amount]        # any of these drifted makes the window drifted
 *       consecutiveWindows: 2      # drifted windows in a row before an alert
 *       cooldown: PT6H             # event time after an alert before the next one
 *       topFeatures: 5             # features of evidence carried by an alert
 * }</pre>
 *
 * @param alias the alias whose served version's predictions are compared; never null
 * @param windowCount predictions per window; 0 when windows close only by time
 * @param windowDuration event-time length of TIME windows; null when windows close only by count
 * @param grace how long after a TIME window's end predictions for it are still counted
 * @param numeric how numeric features (and the score) are judged; never null
 * @param categorical how categorical features are judged; never null
 * @param smallSample baseline rows up to which {@code auto} uses a test rather than a distance
 * @param minSamples the least non-missing live values for a feature to be judged
 * @param share share of judged features, in (0, 1], at which a window counts as drifted
 * @param important features whose drift alone makes a window drifted; never null
 * @param consecutiveWindows drifted windows in a row before an alert, at least 1
 * @param cooldown event time after an alert during which no other alert fires
 * @param topFeatures how many drifted features an alert carries
 */
public record DriftPolicy(String alias, long windowCount, Duration windowDuration, Duration grace,
    Rule numeric, Rule categorical, long smallSample, long minSamples, double share,
    Set<String> important, int consecutiveWindows, Duration cooldown, int topFeatures) {

  /** Alias compared unless configured. */
  public static final String DEFAULT_ALIAS = "champion";
  /** Predictions per window unless configured. */
  public static final long DEFAULT_WINDOW_COUNT = 5000;
  /** Baseline rows up to which {@code auto} picks a statistical test (Evidently's 1,000). */
  public static final long DEFAULT_SMALL_SAMPLE = 1000;
  /** Least live values for a verdict unless configured. */
  public static final long DEFAULT_MIN_SAMPLES = 30;
  /** Share of drifted features for a drifted window (Evidently's dataset drift share). */
  public static final double DEFAULT_SHARE = 0.5;
  /** Drifted windows in a row before an alert unless configured. */
  public static final int DEFAULT_CONSECUTIVE_WINDOWS = 2;
  /** Quiet time after an alert unless configured. */
  public static final Duration DEFAULT_COOLDOWN = Duration.ofHours(6);
  /** Features carried as evidence unless configured. */
  public static final int DEFAULT_TOP_FEATURES = 5;

  /** Checks ranges; {@code where} is not needed because {@link DriftDetectorConfig} checks first. */
  public DriftPolicy {
    Objects.requireNonNull(alias, "alias");
    Objects.requireNonNull(numeric, "numeric");
    Objects.requireNonNull(categorical, "categorical");
    grace = grace == null ? Duration.ZERO : grace;
    important = Set.copyOf(important == null ? Set.of() : important);
    cooldown = cooldown == null ? Duration.ZERO : cooldown;
    if (windowCount <= 0 && windowDuration == null) {
      throw new InvalidConfigException("drift.window needs a count, a duration or both");
    }
    if (windowDuration != null && (windowDuration.isZero() || windowDuration.isNegative())) {
      throw new InvalidConfigException("drift.window.duration must be positive, e.g. PT1H");
    }
    if (windowDuration != null && windowDuration.toMillis() < 1) {
      throw new InvalidConfigException("drift.window.duration is " + windowDuration
          + "; windows are cut in milliseconds of event time, so it must be at least PT0.001S,"
          + " e.g. PT1H");
    }
    if (!(share > 0 && share <= 1)) {
      throw new InvalidConfigException("drift.share is " + share + "; it must be in (0, 1], e.g."
          + " 0.5 for half of the features");
    }
    if (consecutiveWindows < 1) {
      throw new InvalidConfigException("drift.consecutiveWindows is " + consecutiveWindows
          + "; it must be at least 1");
    }
    if (topFeatures < 1) {
      throw new InvalidConfigException("drift.topFeatures is " + topFeatures
          + "; it must be at least 1");
    }
    if (minSamples < 1) {
      throw new InvalidConfigException("drift.minSamples is " + minSamples
          + "; it must be at least 1");
    }
  }

  /** The default policy: count windows of 5,000, Evidently's methods and thresholds. */
  public static DriftPolicy defaults() {
    return new DriftPolicy(DEFAULT_ALIAS, DEFAULT_WINDOW_COUNT, null, Duration.ZERO,
        Rule.auto(), Rule.auto(), DEFAULT_SMALL_SAMPLE, DEFAULT_MIN_SAMPLES, DEFAULT_SHARE,
        Set.of(), DEFAULT_CONSECUTIVE_WINDOWS, DEFAULT_COOLDOWN, DEFAULT_TOP_FEATURES);
  }

  /** This policy comparing the predictions of the version served under {@code monitored}. */
  public DriftPolicy withAlias(String monitored) {
    return new DriftPolicy(monitored, windowCount, windowDuration, grace, numeric, categorical,
        smallSample, minSamples, share, important, consecutiveWindows, cooldown, topFeatures);
  }

  /** This policy with count windows of {@code count} predictions (and no time boundary). */
  public DriftPolicy withWindowCount(long count) {
    return new DriftPolicy(alias, count, null, grace, numeric, categorical, smallSample,
        minSamples, share, important, consecutiveWindows, cooldown, topFeatures);
  }

  /** This policy with TIME windows of {@code duration} and {@code grace}, and a count cap (0: none). */
  public DriftPolicy withTimeWindows(Duration duration, Duration grace, long countCap) {
    return new DriftPolicy(alias, countCap, duration, grace, numeric, categorical, smallSample,
        minSamples, share, important, consecutiveWindows, cooldown, topFeatures);
  }

  /** This policy with these important features. */
  public DriftPolicy withImportant(List<String> features) {
    return new DriftPolicy(alias, windowCount, windowDuration, grace, numeric, categorical,
        smallSample, minSamples, share, Set.copyOf(features), consecutiveWindows, cooldown,
        topFeatures);
  }

  /** This policy with another rule for categorical features. */
  public DriftPolicy withCategorical(Rule rule) {
    return new DriftPolicy(alias, windowCount, windowDuration, grace, numeric, rule, smallSample,
        minSamples, share, important, consecutiveWindows, cooldown, topFeatures);
  }

  /** This policy with another rule for numeric features. */
  public DriftPolicy withNumeric(Rule rule) {
    return new DriftPolicy(alias, windowCount, windowDuration, grace, rule, categorical,
        smallSample, minSamples, share, important, consecutiveWindows, cooldown, topFeatures);
  }

  /** This policy with another hysteresis and cooldown. */
  public DriftPolicy withAlerting(int consecutive, Duration quiet) {
    return new DriftPolicy(alias, windowCount, windowDuration, grace, numeric, categorical,
        smallSample, minSamples, share, important, consecutive, quiet, topFeatures);
  }

  /** Whether windows close at event-time boundaries. */
  public boolean timeWindows() {
    return windowDuration != null;
  }

  /**
   * The most windows of a model open at once: 1 for COUNT windows; for TIME windows {@code 1 +
   * ceil(grace / duration)}, since a window stays open until stream time passes its end by the
   * grace and a new one starts every duration (PT1H with PT5M of grace: 2; PT15M with PT1H: 5;
   * PT1M with PT1H: 61).
   */
  public long maxOpenWindows() {
    if (!timeWindows()) {
      return 1;
    }
    long duration = windowDuration.toMillis();
    long graceMs = grace.toMillis();
    return 1 + graceMs / duration + (graceMs % duration == 0 ? 0 : 1);
  }

  /** The policy in words, as an alert carries it. */
  public String describe() {
    String shareText = String.format(java.util.Locale.ROOT, ">= %.0f%% of features drifted",
        share * 100);
    String importantText = important.isEmpty() ? ""
        : " (or any of " + important.stream().sorted().toList() + ")";
    return shareText + importantText + " for " + consecutiveWindows + " consecutive window"
        + (consecutiveWindows == 1 ? "" : "s") + ", cooldown " + cooldown;
  }

  /**
   * How a kind of feature is judged: a method ({@code null} for auto) and its threshold
   * ({@code null} for the method's default).
   *
   * @param method the deciding statistic, or null to pick by sample size
   * @param threshold a maximum p-value for tests, a minimum value for PSI and distances; null for
   *     the method's default
   */
  public record Rule(DriftMethod method, Double threshold) {

    /** Method by sample size, default thresholds. */
    public static Rule auto() {
      return new Rule(null, null);
    }

    /** This method at its default threshold. */
    public static Rule of(DriftMethod method) {
      return new Rule(method, null);
    }

    /** The deciding method for a baseline of {@code baselineRows} rows. */
    public DriftMethod methodFor(boolean categoricalFeature, long baselineRows, long smallSample) {
      if (method != null) {
        return method;
      }
      if (categoricalFeature) {
        return baselineRows <= smallSample ? DriftMethod.CHI_SQUARE : DriftMethod.JENSEN_SHANNON;
      }
      return baselineRows <= smallSample ? DriftMethod.KOLMOGOROV_SMIRNOV
          : DriftMethod.WASSERSTEIN;
    }

    /** The threshold applied to {@code m}. */
    public double thresholdFor(DriftMethod m) {
      return threshold != null ? threshold : defaultThreshold(m);
    }

    /** Evidently's default thresholds, except PSI: 0.2 (Evidently's is 0.1). */
    public static double defaultThreshold(DriftMethod m) {
      return switch (m) {
        case KOLMOGOROV_SMIRNOV, CHI_SQUARE -> 0.05;
        case PSI -> 0.2;
        case JENSEN_SHANNON, WASSERSTEIN -> 0.1;
        default -> throw new IllegalArgumentException("no threshold for " + m);
      };
    }
  }
}
