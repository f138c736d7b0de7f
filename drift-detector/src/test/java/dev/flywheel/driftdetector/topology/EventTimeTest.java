package dev.flywheel.driftdetector.topology;

import static dev.flywheel.driftdetector.Fixtures.T0;
import static dev.flywheel.driftdetector.Fixtures.baseline;
import static dev.flywheel.driftdetector.Fixtures.label;
import static dev.flywheel.driftdetector.Fixtures.promoted;
import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.driftdetector.Fixtures;
import dev.flywheel.driftdetector.config.DriftDetectorConfig;
import dev.flywheel.driftdetector.config.DriftPolicy;
import dev.flywheel.events.DriftAlert;
import dev.flywheel.events.DriftReport;
import dev.flywheel.events.Prediction;
import dev.flywheel.events.WindowKind;
import io.micrometer.core.instrument.Counter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How event times far ahead, stragglers and sparse windows are handled. */
class EventTimeTest {

  private static final Instant YEAR_2100 = Instant.parse("2100-01-01T00:00:00Z");

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
  void shouldKeepClosingFullTimeWindowsAfterAPredictionFromTheFarFuture() {
    // Given hourly windows with 5 minutes of grace, and an hour and 10 minutes of predictions
    DriftDriver d = open(DriftPolicy.defaults().withTimeWindows(Duration.ofHours(1),
        Duration.ofMinutes(5), 0));
    d.promote(promoted(1, baseline(1, 20_000, 2, false), T0));
    Fixtures.Stream s = new Fixtures.Stream(20, 1, 2, false);
    for (int i = 0; i < 3600 + 600; i++) {
      d.predict(s.next(null, null));
    }
    // When one prediction carries an event time in 2100, scored now
    Prediction now = s.next(null, null);
    d.predict(Prediction.newBuilder(now).setPredictionId("p-future").setEventTime(YEAR_2100)
        .build());
    // And predictions go on for two more hours
    for (int i = 0; i < 2 * 3600; i++) {
      d.predict(s.next(null, null));
    }
    // Then the hours up to 03:10 close whole, one after the other, none cut short (01:00 lacks
    // only the far-future one)
    List<DriftReport> reports = d.reports.readValuesToList();
    assertThat(reports).extracting(r -> r.getWindow().getKind()).containsOnly(WindowKind.TIME);
    assertThat(reports).extracting(r -> r.getWindow().getStartTime())
        .containsExactly(T0, T0.plus(Duration.ofHours(1)), T0.plus(Duration.ofHours(2)));
    assertThat(reports).extracting(r -> r.getWindow().getCount())
        .containsExactly(3600L, 3599L, 3600L);
    // And the far-future prediction is counted as such, nothing as late
    assertThat(predictions(d, "future_event_time").count()).isOne();
    assertThat(d.meters.find("flywheel.drift.predictions").tag("outcome", "late").counter())
        .isNull();
  }

  @Test
  void shouldKeepJoiningLabelsAfterAPredictionFromTheFarFuture() {
    // Given count windows of 500, and a prediction whose event time is in microseconds
    DriftDriver d = open(DriftPolicy.defaults().withWindowCount(500));
    d.promote(promoted(1, baseline(1, 20_000, 2, false), T0));
    Fixtures.Stream s = new Fixtures.Stream(21, 1, 2, false);
    Prediction first = s.next(null, null);
    d.predict(Prediction.newBuilder(first).setEventTime(
        Instant.ofEpochMilli(first.getEventTime().toEpochMilli() * 1000)).build());
    // When 499 predictions follow, each labelled a second later, and a 500th closes the window
    for (int i = 0; i < 499; i++) {
      Prediction p = s.next(null, null);
      d.predict(p);
      d.label(label(p.getEventId(), p.getEventTime().plusSeconds(1), i % 2));
    }
    d.predict(s.next(null, null));
    // Then the window holds those 500 predictions, and all 499 labels
    DriftReport r = d.reports.readValue();
    assertThat(r.getWindow().getCount()).isEqualTo(500);
    assertThat(r.getPerformance()).isNotNull();
    assertThat(r.getPerformance().getLabelledCount()).isEqualTo(499);
    assertThat(predictions(d, "future_event_time").count()).isOne();
  }

  @Test
  void shouldDropALabelFromTheFarFutureAndKeepJoiningTheOthers() {
    // Given count windows of 500
    DriftDriver d = open(DriftPolicy.defaults().withWindowCount(500));
    d.promote(promoted(1, baseline(1, 20_000, 2, false), T0));
    Fixtures.Stream s = new Fixtures.Stream(22, 1, 2, false);
    Prediction first = s.next(null, null);
    d.predict(first);
    // When a label written now says it became known in 2100
    d.labels.pipeInput(first.getEventId(), label(first.getEventId(), YEAR_2100, 1),
        first.getEventTime().plusSeconds(1));
    // And 498 more predictions arrive, each labelled a second later, the label read first (labels
    // and predictions come from different topics), and a 500th closes the window
    for (int i = 0; i < 498; i++) {
      Prediction p = s.next(null, null);
      d.label(label(p.getEventId(), p.getEventTime().plusSeconds(1), i % 2));
      d.predict(p);
    }
    d.predict(s.next(null, null));
    // Then the far-future label is dropped and counted, and the others all join
    DriftReport r = d.reports.readValue();
    assertThat(r.getPerformance()).isNotNull();
    assertThat(r.getPerformance().getLabelledCount()).isEqualTo(498);
    assertThat(d.meters.get("flywheel.drift.labels.future_event_time").counter().count())
        .isOne();
  }

  @Test
  void shouldCountAStragglerBeyondGraceAsLateAfterAPauseInTraffic() {
    // Given hourly windows with 5 minutes of grace and a full first hour
    DriftDriver d = open(DriftPolicy.defaults().withTimeWindows(Duration.ofHours(1),
        Duration.ofMinutes(5), 0));
    d.promote(promoted(1, baseline(1, 20_000, 2, false), T0));
    Fixtures.Stream s = new Fixtures.Stream(23, 1, 2, false);
    for (int i = 0; i < 3600; i++) {
      d.predict(s.next(null, null));
    }
    // And traffic pauses until 03:00, when a prediction closes the first hour
    d.predict(at(s.next(null, null), T0.plus(Duration.ofHours(3))));
    assertThat(d.reports.readValuesToList()).hasSize(1);
    // When a straggler of 01:30, past its hour's end and grace, arrives
    d.predict(at(s.next(null, null), T0.plus(Duration.ofMinutes(90))));
    // Then it is late: no window of 01:00 opens and closes with it alone
    assertThat(d.reports.readValuesToList()).isEmpty();
    assertThat(predictions(d, "late").count()).isOne();
  }

  @Test
  void shouldNotBreakADriftedRunWithAWindowTooSparseToJudge() {
    // Given hourly windows without grace, alerts after 2 drifted windows in a row
    DriftDriver d = open(DriftPolicy.defaults().withTimeWindows(Duration.ofHours(1),
        Duration.ZERO, 0).withImportant(List.of("f0")).withAlerting(2, Duration.ofHours(6)));
    d.promote(promoted(1, baseline(1, 20_000, 2, false), T0));
    Fixtures.Stream s = new Fixtures.Stream(24, 1, 2, false);
    double[] shift = {1.0, 0};
    // When 00:00 is drifted, 01:00 has too few predictions to judge, 02:00 is drifted again
    for (int i = 0; i < 600; i++) {
      d.predict(at(s.next(shift, null), T0.plusSeconds(i)));
    }
    for (int i = 0; i < 5; i++) {
      d.predict(at(s.next(shift, null), T0.plus(Duration.ofHours(1)).plusSeconds(i)));
    }
    for (int i = 0; i < 600; i++) {
      d.predict(at(s.next(shift, null), T0.plus(Duration.ofHours(2)).plusSeconds(i)));
    }
    d.predict(at(s.next(shift, null), T0.plus(Duration.ofHours(3))));
    // Then the sparse window is reported undrifted, and 02:00 continues the run begun at 00:00
    List<DriftReport> reports = d.reports.readValuesToList();
    assertThat(reports).extracting(DriftReport::getDrifted).containsExactly(true, false, true);
    List<DriftAlert> alerts = d.alerts.readValuesToList();
    assertThat(alerts).hasSize(1);
    assertThat(alerts.get(0).getConsecutiveDrifted()).isEqualTo(2);
    assertThat(alerts.get(0).getOnset()).isEqualTo(T0);
    assertThat(alerts.get(0).getWindow().getStartTime()).isEqualTo(T0.plus(Duration.ofHours(2)));
  }

  private static Prediction at(Prediction p, Instant t) {
    return Prediction.newBuilder(p).setEventTime(t).setScoredAt(t).build();
  }

  private static Counter predictions(DriftDriver d, String outcome) {
    return d.meters.get("flywheel.drift.predictions").tag("outcome", outcome).counter();
  }
}
