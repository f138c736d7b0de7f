package dev.flywheel.driftdetector.topology;

import static dev.flywheel.driftdetector.Fixtures.T0;
import static dev.flywheel.driftdetector.Fixtures.baseline;
import static dev.flywheel.driftdetector.Fixtures.label;
import static dev.flywheel.driftdetector.Fixtures.promoted;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.flywheel.driftdetector.Fixtures;
import dev.flywheel.driftdetector.config.DriftDetectorConfig;
import dev.flywheel.driftdetector.config.DriftPolicy;
import dev.flywheel.driftdetector.stats.PerformanceMetrics;
import dev.flywheel.events.BaselineProfile;
import dev.flywheel.events.DriftAlert;
import dev.flywheel.events.DriftMethod;
import dev.flywheel.events.DriftReport;
import dev.flywheel.events.DriftStatistic;
import dev.flywheel.events.FeatureDrift;
import dev.flywheel.events.FeatureKind;
import dev.flywheel.events.FeatureProfile;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.Prediction;
import dev.flywheel.events.WindowKind;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DriftTopologyTest {

  private static final int FEATURES = 4;
  private static final int WINDOW = 500;

  @TempDir Path stateDir;
  private DriftDriver driver;

  private DriftDriver open(DriftPolicy policy) {
    driver = new DriftDriver(DriftDetectorConfig.of(Map.of(Fixtures.MODEL, policy)), stateDir);
    return driver;
  }

  @AfterEach
  void close() {
    if (driver != null) {
      driver.close();
    }
  }

  @Test
  void shouldRaiseNoAlertOnStationaryDataOver200WindowsAtTheDefaultPolicy() {
    // Given the default policy (Evidently's methods and thresholds, share 0.5, 2 windows in a
    // row), with windows of 500 predictions to keep the test short, and a 20,000-row baseline
    DriftDriver d = open(DriftPolicy.defaults().withWindowCount(WINDOW));
    d.promote(promoted(1, baseline(1, 20_000, FEATURES, true), T0));
    // When 200 windows of predictions from the baseline's own distributions arrive
    Fixtures.Stream s = new Fixtures.Stream(2, 1, FEATURES, true);
    for (int i = 0; i < 200 * WINDOW; i++) {
      d.predict(s.next(null, null));
    }
    // Then 200 reports are written, none drifted enough to alert
    List<DriftReport> reports = d.reports.readValuesToList();
    assertThat(reports).hasSize(200);
    assertThat(reports).extracting(r -> r.getWindow().getSequence())
        .containsExactlyElementsOf(sequence(200));
    assertThat(d.alerts.isEmpty()).isTrue();
    assertThat(reports).allSatisfy(r -> assertThat(r.getConsecutiveDrifted()).isLessThan(2));
  }

  @Test
  void shouldAlertWithinThreeWindowsOfAHalfSigmaShiftInOneImportantFeature() {
    // Given the default policy with f0 marked important
    DriftDriver d = open(DriftPolicy.defaults().withWindowCount(WINDOW)
        .withImportant(List.of("f0")));
    d.promote(promoted(1, baseline(1, 20_000, FEATURES, false), T0));
    Fixtures.Stream s = new Fixtures.Stream(3, 1, FEATURES, false);
    // And 10 stationary windows
    for (int i = 0; i < 10 * WINDOW; i++) {
      d.predict(s.next(null, null));
    }
    // When f0's mean moves by half a standard deviation in the middle of window 10
    for (int i = 0; i < WINDOW / 2; i++) {
      d.predict(s.next(null, null));
    }
    long shiftAt = s.made();
    double[] shift = {0.5, 0, 0, 0};
    List<DriftAlert> alerts = new ArrayList<>();
    while (alerts.isEmpty() && s.made() < shiftAt + 10L * WINDOW) {
      d.predict(s.next(shift, null));
      alerts.addAll(d.alerts.readValuesToList());
    }
    // Then an alert fires within 3 windows of the shift, naming f0 first
    assertThat(alerts).hasSize(1);
    DriftAlert alert = alerts.get(0);
    long delayPredictions = s.made() - shiftAt;
    long delayWindows = alert.getWindow().getSequence() - 10 + 1;
    System.out.printf("detection delay: %d predictions, %d windows of %d (window %d fired)%n",
        delayPredictions, delayWindows, WINDOW, alert.getWindow().getSequence());
    assertThat(delayWindows).isLessThanOrEqualTo(3);
    assertThat(alert.getTopFeatures()).first().extracting(FeatureDrift::getFeature)
        .isEqualTo("f0");
    assertThat(alert.getBaselineVersion()).isEqualTo(1);
    assertThat(alert.getConsecutiveDrifted()).isEqualTo(2);
    assertThat(alert.getOnset()).isBefore(alert.getWindow().getStartTime());
    assertThat(alert.getPolicy()).contains("2 consecutive windows");
    List<DriftReport> reports = d.reports.readValuesToList();
    assertThat(alert.getReportId()).isEqualTo(reports.get(reports.size() - 1).getEventId());
  }

  @Test
  void shouldCompareOnlyThePredictionsOfTheAliasThePolicyMonitors() {
    // Given a policy monitoring the challenger, v1 the champion and v2 the challenger
    DriftDriver d = open(DriftPolicy.defaults().withWindowCount(WINDOW).withAlias("challenger"));
    d.promote(promoted(1, baseline(1, 1_000, 2, false), T0));
    d.promote(ModelPromoted.newBuilder(promoted(2, baseline(2, 1_000, 2, false),
        T0.plusSeconds(1))).setAlias("challenger").build());

    // When a window's worth of the champion's predictions arrives, and of the challenger's
    // shadow predictions
    Fixtures.Stream champion = new Fixtures.Stream(3, 1, 2, false);
    Fixtures.Stream challenger = new Fixtures.Stream(4, 2, 2, false);
    for (int i = 0; i < WINDOW; i++) {
      d.predict(champion.next(null, null));
      d.predict(Prediction.newBuilder(challenger.next(null, null)).setAlias("challenger")
          .setShadow(true).build());
    }

    // Then one window closed, of the challenger's predictions against its own baseline
    List<DriftReport> reports = d.reports.readValuesToList();
    assertThat(reports).hasSize(1);
    assertThat(reports.get(0).getAlias()).isEqualTo("challenger");
    assertThat(reports.get(0).getBaselineVersion()).isEqualTo(2);
    assertThat(reports.get(0).getWindow().getCount()).isEqualTo(WINDOW);
  }

  @Test
  void shouldCatchACategoryMixChangeWithChiSquare() {
    // Given a 1,000-row baseline, where the default policy judges categories by chi-square
    DriftDriver d = open(DriftPolicy.defaults().withWindowCount(WINDOW));
    d.promote(promoted(1, baseline(4, 1_000, 1, true), T0));
    Fixtures.Stream s = new Fixtures.Stream(5, 1, 1, true);
    // When the channel mix moves from web towards phone for one window
    for (int i = 0; i < WINDOW; i++) {
      d.predict(s.next(null, new double[] {0.35, 0.3, 0.15, 0.2}));
    }
    // Then the channel feature is drifted by its chi-square test
    DriftReport report = d.reports.readValue();
    FeatureDrift channel = feature(report, "channel");
    assertThat(channel.getDecidedBy()).isEqualTo(DriftMethod.CHI_SQUARE);
    assertThat(channel.getDrifted()).isTrue();
    DriftStatistic chi = statistic(channel, DriftMethod.CHI_SQUARE);
    assertThat(chi.getPValue()).isLessThan(0.05);
    assertThat(chi.getDrifted()).isTrue();
    // And the unchanged numeric feature is not
    assertThat(feature(report, "f0").getDrifted()).isFalse();
  }

  @Test
  void shouldFindNoDriftByPsiInASmallWindowWithTheBaselinesCategoryMix() {
    // Given categories judged by PSI at 0.1 (Evidently's PSI threshold), windows of 30
    // predictions, and a baseline of 300,000 rows whose channel mix is web 50 %, pos 30 %,
    // app 10 %, phone 10 % (nothing in the bucket of other categories)
    DriftDriver d = open(DriftPolicy.defaults().withWindowCount(30)
        .withCategorical(new DriftPolicy.Rule(DriftMethod.PSI, 0.1)));
    BaselineProfile b = baseline(13, 1_000, 0, true);
    b.getFeatures().set(0, FeatureProfile.newBuilder().setName("channel")
        .setKind(FeatureKind.CATEGORICAL).setCount(300_000)
        .setCategoryCounts(Map.of("web", 150_000L, "pos", 90_000L, "app", 30_000L,
            "phone", 30_000L))
        .build());
    d.promote(promoted(1, b, T0));
    // When a window of 30 predictions has exactly that mix
    String[] mix = {"web", "pos", "app", "phone"};
    int[] counts = {15, 9, 3, 3};
    int n = 0;
    for (int c = 0; c < mix.length; c++) {
      for (int i = 0; i < counts[c]; i++, n++) {
        d.predict(Fixtures.prediction("e1-" + n, 1, T0.plusSeconds(n), Map.of(),
            Map.of("channel", mix[c]), 0.5));
      }
    }
    // Then the window is not drifted, and channel's PSI is 0
    DriftReport report = d.reports.readValue();
    assertThat(report.getDrifted()).isFalse();
    FeatureDrift channel = feature(report, "channel");
    assertThat(channel.getDecidedBy()).isEqualTo(DriftMethod.PSI);
    assertThat(channel.getDrifted()).isFalse();
    assertThat(statistic(channel, DriftMethod.PSI).getValue()).isZero();
  }

  @Test
  void shouldCompareWindowsAfterAPromotionWithTheNewVersionsBaseline() {
    // Given version 1 served with a N(0, 1) baseline and half a window counted
    DriftDriver d = open(DriftPolicy.defaults().withWindowCount(WINDOW));
    d.promote(promoted(1, baseline(1, 20_000, 2, false), T0));
    Fixtures.Stream v1 = new Fixtures.Stream(6, 1, 2, false);
    for (int i = 0; i < WINDOW / 2; i++) {
      d.predict(v1.next(null, null));
    }
    // When version 2 is promoted, trained on data where f0 moved by 1.0
    var v2Baseline = baseline(7, 20_000, 2, false);
    shiftBaseline(v2Baseline, 1.0);
    d.promote(promoted(2, v2Baseline, T0.plusSeconds(3600)));
    // And version 2 scores data like its own training data, while version 1 predictions linger
    Fixtures.Stream v2 = new Fixtures.Stream(8, 2, 2, false);
    for (int i = 0; i < WINDOW; i++) {
      d.predict(v2.next(new double[] {1.0, 0}, null));
      d.predict(v1.next(null, null));
    }
    // Then exactly one window closes, the first against version 2's baseline, and it is not
    // drifted (against version 1's baseline f0 would be far off)
    List<DriftReport> reports = d.reports.readValuesToList();
    assertThat(reports).hasSize(1);
    DriftReport r = reports.get(0);
    assertThat(r.getBaselineVersion()).isEqualTo(2);
    assertThat(r.getWindow().getSequence()).isZero();
    assertThat(r.getWindow().getCount()).isEqualTo(WINDOW);
    assertThat(feature(r, "f0").getDrifted()).isFalse();
    assertThat(statistic(feature(r, "f0"), DriftMethod.WASSERSTEIN).getValue()).isLessThan(0.1);
    assertThat(d.meters.get("flywheel.drift.predictions").tag("outcome", "other_version")
        .counter().count()).isEqualTo(WINDOW);
    assertThat(d.meters.get("flywheel.drift.predictions").tag("outcome", "discarded_on_switch")
        .counter().count()).isEqualTo(WINDOW / 2);
  }

  @Test
  void shouldReportLivePerformanceFromLabelsJoinedByEventId() {
    // Given a window of 500 predictions, 200 of them labelled (one label corrected later)
    DriftDriver d = open(DriftPolicy.defaults().withWindowCount(WINDOW));
    d.promote(promoted(1, baseline(1, 20_000, 2, false), T0));
    Fixtures.Stream s = new Fixtures.Stream(9, 1, 2, false);
    List<double[]> pairs = new ArrayList<>();
    for (int i = 0; i < WINDOW; i++) {
      Prediction p = s.next(null, null);
      d.predict(p);
      if (i < 200) {
        double y = p.getScore() > 0.5 ^ i % 5 == 0 ? 1 : 0;
        if (i == 3) {
          d.label(label(p.getEventId(), p.getEventTime().plusSeconds(1), 1 - y));
        }
        d.label(label(p.getEventId(), p.getEventTime().plusSeconds(2), y));
        pairs.add(new double[] {p.getScore(), y});
      }
    }
    // Then the report carries AUC and log loss of exactly those 200 pairs
    DriftReport r = d.reports.readValue();
    double[] scores = pairs.stream().mapToDouble(a -> a[0]).toArray();
    double[] ys = pairs.stream().mapToDouble(a -> a[1]).toArray();
    assertThat(r.getPerformance()).isNotNull();
    assertThat(r.getPerformance().getLabelledCount()).isEqualTo(200);
    assertThat(r.getPerformance().getMetrics().get("auc"))
        .isCloseTo(PerformanceMetrics.auc(scores, ys), within(1e-12));
    assertThat(r.getPerformance().getMetrics().get("log_loss"))
        .isCloseTo(PerformanceMetrics.logLoss(scores, ys), within(1e-12));
    assertThat(d.meters.get("flywheel.drift.labels").tag("outcome", "counted").counter()
        .count()).isEqualTo(201);

    // And a label of the window's first prediction that arrives once the window has closed is
    // counted as such
    d.label(label("e1-0", T0.plusSeconds(WINDOW + 10), 1));
    assertThat(d.meters.get("flywheel.drift.labels").tag("outcome", "window_closed").counter()
        .count()).isOne();
  }

  @Test
  void shouldCloseTimeWindowsAtTheirBoundaryOnceGraceHasPassed() {
    // Given hourly windows with 5 minutes of grace
    DriftDriver d = open(DriftPolicy.defaults().withTimeWindows(Duration.ofHours(1),
        Duration.ofMinutes(5), 0));
    d.promote(promoted(1, baseline(1, 20_000, 2, false), T0));
    Fixtures.Stream s = new Fixtures.Stream(10, 1, 2, false);
    // When predictions one second apart fill the first hour and 4 minutes of the next
    for (int i = 0; i < 3600 + 240; i++) {
      d.predict(s.next(null, null));
    }
    // Then the first hour is still open for late predictions
    assertThat(d.reports.isEmpty()).isTrue();
    // When a late one for the first hour arrives, and then stream time passes its grace
    d.predict(Fixtures.prediction("late", 1, T0.plusSeconds(10), Map.of("f0", 0.1, "f1", 0.2),
        Map.of(), 0.3));
    for (int i = 0; i < 61; i++) {
      d.predict(s.next(null, null));
    }
    // Then the first hour closes as a TIME window on its boundaries, with the late prediction
    DriftReport r = d.reports.readValue();
    assertThat(r.getWindow().getKind()).isEqualTo(WindowKind.TIME);
    assertThat(r.getWindow().getStartTime()).isEqualTo(T0);
    assertThat(r.getWindow().getEndTime()).isEqualTo(T0.plus(Duration.ofHours(1)));
    assertThat(r.getWindow().getCount()).isEqualTo(3601);
    // And a prediction for it arriving after that is counted as late, not in a window
    d.predict(Fixtures.prediction("too-late", 1, T0.plusSeconds(20), Map.of("f0", 0.1),
        Map.of(), 0.3));
    assertThat(d.meters.get("flywheel.drift.predictions").tag("outcome", "late").counter()
        .count()).isEqualTo(1);
  }

  @Test
  void shouldNotAlertAgainWithinTheCooldown() {
    // Given alerts after one drifted window and a cooldown of 2 hours of event time
    DriftDriver d = open(DriftPolicy.defaults().withWindowCount(WINDOW)
        .withImportant(List.of("f0")).withAlerting(1, Duration.ofHours(2)));
    d.promote(promoted(1, baseline(1, 20_000, 2, false), T0));
    Fixtures.Stream s = new Fixtures.Stream(11, 1, 2, false);
    // When f0 stays shifted for 31 windows of 500 seconds each (00:00 to 04:18 of event time)
    for (int i = 0; i < 31 * WINDOW; i++) {
      d.predict(s.next(new double[] {1.0, 0}, null));
    }
    // Then every window is drifted, but alerts come only from windows ending at least 2 hours
    // after the last alert: the first window (ends 00:08:19), the 16th (02:13:19), the 31st
    // (04:18:19)
    assertThat(d.reports.readValuesToList()).hasSize(31).allMatch(DriftReport::getDrifted);
    List<DriftAlert> alerts = d.alerts.readValuesToList();
    assertThat(alerts).extracting(a -> a.getWindow().getSequence()).containsExactly(0L, 15L, 30L);
    for (int i = 1; i < alerts.size(); i++) {
      assertThat(Duration.between(alerts.get(i - 1).getEventTime(),
          alerts.get(i).getEventTime())).isGreaterThanOrEqualTo(Duration.ofHours(2));
    }
  }

  @Test
  void shouldPublishAGaugeForEveryStatistic() {
    DriftDriver d = open(DriftPolicy.defaults().withWindowCount(WINDOW));
    d.promote(promoted(1, baseline(1, 20_000, 1, true), T0));
    Fixtures.Stream s = new Fixtures.Stream(12, 1, 1, true);
    for (int i = 0; i < WINDOW; i++) {
      d.predict(s.next(new double[] {2.0}, null));
    }
    DriftReport r = d.reports.readValue();
    double w = statistic(feature(r, "f0"), DriftMethod.WASSERSTEIN).getValue();
    assertThat(d.meters.get("flywheel.drift.statistic").tag("feature", "f0")
        .tag("method", "wasserstein").gauge().value()).isEqualTo(w);
    assertThat(d.meters.get("flywheel.drift.p_value").tag("feature", "channel")
        .tag("method", "chi_square").gauge().value()).isBetween(0.0, 1.0);
    assertThat(d.meters.get("flywheel.drift.statistic").tag("feature", "score")
        .tag("method", "psi").gauge()).isNotNull();
  }

  private static void shiftBaseline(dev.flywheel.events.BaselineProfile b, double by) {
    var f0 = b.getFeatures().get(0);
    f0.setMean(f0.getMean() + by);
    f0.setMin(f0.getMin() + by);
    f0.setMax(f0.getMax() + by);
    f0.getHistogram().setCutPoints(f0.getHistogram().getCutPoints().stream()
        .map(c -> c + by).toList());
  }

  private static List<Long> sequence(int n) {
    List<Long> out = new ArrayList<>();
    for (long i = 0; i < n; i++) {
      out.add(i);
    }
    return out;
  }

  static FeatureDrift feature(DriftReport r, String name) {
    return r.getFeatures().stream().filter(f -> f.getFeature().equals(name)).findFirst()
        .orElseThrow();
  }

  static DriftStatistic statistic(FeatureDrift f, DriftMethod m) {
    return f.getStatistics().stream().filter(s -> s.getMethod() == m).findFirst().orElseThrow();
  }

  @SuppressWarnings("unused")
  private static Instant at(long seconds) {
    return T0.plusSeconds(seconds);
  }
}
