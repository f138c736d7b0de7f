package dev.flywheel.driftdetector.topology;

import static dev.flywheel.driftdetector.Fixtures.T0;
import static dev.flywheel.driftdetector.Fixtures.baseline;
import static dev.flywheel.driftdetector.Fixtures.promoted;
import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.driftdetector.Fixtures;
import dev.flywheel.driftdetector.config.DriftDetectorConfig;
import dev.flywheel.driftdetector.config.DriftPolicy;
import dev.flywheel.driftdetector.window.BaselineLayout;
import dev.flywheel.driftdetector.window.DriftEvaluator;
import dev.flywheel.driftdetector.window.WindowCounts;
import dev.flywheel.events.DriftReport;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.Prediction;
import dev.flywheel.topics.DeadLetterHeaders;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Predictions that reach drift-detector before their version's promotion: held in {@link
 * DriftTopology#HELD_STORE}, counted when the promotion arrives, dead-lettered beyond the cap.
 */
class HeldPredictionsTest {

  private static final int FEATURES = 2;
  private static final int WINDOW = 500;

  @TempDir Path stateDir;
  private DriftDriver driver;

  private DriftDriver open(DriftDetectorConfig config) {
    return open(config, Materialized.StoreType.IN_MEMORY);
  }

  private DriftDriver open(DriftDetectorConfig config, Materialized.StoreType stores) {
    driver = new DriftDriver(config, stateDir, stores);
    return driver;
  }

  private static DriftDetectorConfig windowsOf(int count) {
    return DriftDetectorConfig.of(Map.of(Fixtures.MODEL,
        DriftPolicy.defaults().withWindowCount(count)));
  }

  @AfterEach
  void close() {
    if (driver != null) {
      driver.close();
    }
  }

  @ParameterizedTest
  @EnumSource(names = {"IN_MEMORY", "ROCKS_DB"})
  void shouldCountPredictionsOfAVersionThatArriveBeforeItsPromotionWhenItArrives(
      Materialized.StoreType stores) {
    // Given version 1 promoted and 100 of its predictions counted
    DriftDriver d = open(windowsOf(WINDOW), stores);
    d.promote(promoted(1, baseline(1, 20_000, FEATURES, false), T0));
    Fixtures.Stream v1 = new Fixtures.Stream(20, 1, FEATURES, false);
    for (int i = 0; i < 100; i++) {
      d.predict(v1.next(null, null));
    }
    // And 200 predictions of version 2 that arrive before version 2's promotion
    Fixtures.Stream v2 = new Fixtures.Stream(21, 2, FEATURES, false);
    List<Prediction> sent = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      Prediction p = v2.next(new double[] {0.3, 0}, null);
      sent.add(p);
      d.predict(p);
    }
    assertThat(d.heldKeys()).hasSize(200);
    assertThat(count(d, "held")).isEqualTo(200);
    // When version 2 is promoted, and 299 later predictions of version 2 arrive
    ModelPromoted promotedV2 = promoted(2, baseline(22, 20_000, FEATURES, false),
        T0.plusSeconds(3600));
    d.promote(promotedV2);
    for (int i = 0; i < WINDOW - 201; i++) {
      Prediction p = v2.next(new double[] {0.3, 0}, null);
      sent.add(p);
      d.predict(p);
    }
    // Then the held predictions are counted and the hold store holds none
    assertThat(d.heldKeys()).isEmpty();
    assertThat(count(d, "released")).isEqualTo(200);
    assertThat(count(d, "no_baseline")).isZero();
    assertThat(d.meters.get("flywheel.drift.held_predictions").gauge().value()).isZero();
    // And the window of version 2 is still one prediction short
    assertThat(d.reports.isEmpty()).isTrue();
    // When the 500th prediction of version 2 arrives
    Prediction last = v2.next(new double[] {0.3, 0}, null);
    sent.add(last);
    d.predict(last);
    // Then one window of exactly 500 closes against version 2's baseline, starting at the first
    // held prediction, and its statistics are those of exactly the 500 predictions of version 2
    List<DriftReport> reports = d.reports.readValuesToList();
    assertThat(reports).hasSize(1);
    DriftReport r = reports.get(0);
    assertThat(r.getBaselineVersion()).isEqualTo(2);
    assertThat(r.getWindow().getSequence()).isZero();
    assertThat(r.getWindow().getCount()).isEqualTo(WINDOW);
    assertThat(r.getWindow().getStartTime()).isEqualTo(sent.get(0).getEventTime());
    assertThat(r.getWindow().getEndTime()).isEqualTo(last.getEventTime());
    DriftReport expected = evaluate(promotedV2, sent, r);
    assertThat(r.getFeatures()).isEqualTo(expected.getFeatures());
    assertThat(r.getScore()).isEqualTo(expected.getScore());
    assertThat(count(d, "counted")).isEqualTo(100 + WINDOW);
    assertThat(count(d, "discarded_on_switch")).isEqualTo(100);
  }

  @Test
  void shouldCountPredictionsReadBeforeAnyPromotionOfTheModel() {
    // Given a replay from the start, where 300 predictions of version 1 are read before the
    // model's first promotion
    DriftDriver d = open(windowsOf(WINDOW));
    Fixtures.Stream v1 = new Fixtures.Stream(23, 1, FEATURES, false);
    for (int i = 0; i < 300; i++) {
      d.predict(v1.next(null, null));
    }
    // When version 1 is promoted and 200 more predictions arrive
    d.promote(promoted(1, baseline(1, 20_000, FEATURES, false), T0));
    for (int i = 0; i < 200; i++) {
      d.predict(v1.next(null, null));
    }
    // Then the first window holds all 500, from the first prediction on
    DriftReport r = d.reports.readValue();
    assertThat(r.getWindow().getCount()).isEqualTo(WINDOW);
    assertThat(r.getWindow().getStartTime()).isEqualTo(T0);
    assertThat(d.heldKeys()).isEmpty();
    assertThat(count(d, "no_baseline")).isZero();
  }

  @ParameterizedTest
  @EnumSource(names = {"IN_MEMORY", "ROCKS_DB"})
  void shouldSendTheOldestHeldPredictionToTheDlqWithAReasonBeyondTheCap(
      Materialized.StoreType stores) {
    // Given at most 3 held predictions per model and windows of 3
    DriftDriver d = open(windowsOf(3).withMaxHeldPredictions(3), stores);
    d.promote(promoted(1, baseline(1, 20_000, FEATURES, false), T0));
    // When 5 predictions of version 2 arrive before its promotion
    Fixtures.Stream v2 = new Fixtures.Stream(24, 2, FEATURES, false);
    List<Prediction> sent = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      Prediction p = v2.next(null, null);
      sent.add(p);
      d.predict(p);
    }
    // Then the 2 oldest go to flywheel.predictions.dlq, keyed by entity, in the predictions
    // topic's wire format, with a reason that says what to fix
    List<TestRecord<byte[], byte[]>> dead = d.predictionsDlq.readRecordsToList();
    assertThat(dead).hasSize(2);
    for (int i = 0; i < 2; i++) {
      TestRecord<byte[], byte[]> rec = dead.get(i);
      Prediction p = d.topics.predictions().valueSerde().deserializer()
          .deserialize(d.topics.predictions().name(), rec.value());
      assertThat(p).isEqualTo(sent.get(i));
      assertThat(new String(rec.key(), StandardCharsets.UTF_8))
          .isEqualTo(sent.get(i).getEntityId());
      String error = new String(rec.headers().lastHeader(DeadLetterHeaders.ERROR).value(),
          StandardCharsets.UTF_8);
      assertThat(error).contains("at most 3 predictions of model 'fraud-detector'",
          "version 2", "driftDetector.maxHeldPredictions", "promoted under alias 'champion'");
      assertThat(rec.headers().lastHeader(DeadLetterHeaders.ORIGIN)).isNotNull();
      assertThat(rec.headers().lastHeader(DeadLetterHeaders.FAILED_AT)).isNotNull();
    }
    assertThat(count(d, "held_overflow")).isEqualTo(2);
    assertThat(d.heldKeys()).hasSize(3);
    // When version 2 is promoted
    d.promote(promoted(2, baseline(25, 20_000, FEATURES, false), T0.plusSeconds(3600)));
    // Then the 3 still held fill one window, and none is dead-lettered twice
    DriftReport r = d.reports.readValue();
    assertThat(r.getBaselineVersion()).isEqualTo(2);
    assertThat(r.getWindow().getCount()).isEqualTo(3);
    assertThat(r.getWindow().getStartTime()).isEqualTo(sent.get(2).getEventTime());
    assertThat(d.predictionsDlq.isEmpty()).isTrue();
    assertThat(d.heldKeys()).isEmpty();
  }

  @Test
  void shouldSettleHeldPredictionsOfAVersionSkippedByANewerPromotionAsOtherVersion() {
    // Given version 1 promoted and 10 predictions of version 2 held (2 was never promoted)
    DriftDriver d = open(windowsOf(WINDOW));
    d.promote(promoted(1, baseline(1, 20_000, FEATURES, false), T0));
    Fixtures.Stream v2 = new Fixtures.Stream(26, 2, FEATURES, false);
    for (int i = 0; i < 10; i++) {
      d.predict(v2.next(null, null));
    }
    // And 5 predictions of version 4 held
    Fixtures.Stream v4 = new Fixtures.Stream(27, 4, FEATURES, false);
    for (int i = 0; i < 5; i++) {
      d.predict(v4.next(null, null));
    }
    // When version 3 is promoted
    d.promote(promoted(3, baseline(28, 20_000, FEATURES, false), T0.plusSeconds(60)));
    // Then version 2's held predictions are counted as other_version, version 4's stay held
    assertThat(count(d, "other_version")).isEqualTo(10);
    assertThat(count(d, "released")).isEqualTo(10);
    assertThat(d.heldKeys()).hasSize(5);
    assertThat(d.meters.get("flywheel.drift.held_predictions").gauge().value()).isEqualTo(5);
  }

  @Test
  void shouldNotHoldPredictionsOfAVersionRolledBackFrom() {
    // Given versions 1 and 2 promoted, then the alias rolled back to version 1
    DriftDriver d = open(windowsOf(WINDOW));
    d.promote(promoted(1, baseline(1, 20_000, FEATURES, false), T0));
    d.promote(promoted(2, baseline(29, 20_000, FEATURES, false), T0.plusSeconds(60)));
    d.promote(promoted(1, baseline(1, 20_000, FEATURES, false), T0.plusSeconds(120)));
    // When predictions of version 2 linger
    Fixtures.Stream v2 = new Fixtures.Stream(30, 2, FEATURES, false);
    for (int i = 0; i < 10; i++) {
      d.predict(v2.next(null, null));
    }
    // Then they are counted as other_version, as before, and not held
    assertThat(count(d, "other_version")).isEqualTo(10);
    assertThat(d.heldKeys()).isEmpty();
  }

  private static double count(DriftDriver d, String outcome) {
    var c = d.meters.find("flywheel.drift.predictions").tag("outcome", outcome).counter();
    return c == null ? 0 : c.count();
  }

  private static DriftReport evaluate(ModelPromoted promoted, List<Prediction> window,
      DriftReport actual) {
    BaselineLayout layout = BaselineLayout.of(promoted.getBaseline());
    WindowCounts counts = WindowCounts.empty(layout, WindowCounts.NO_BUCKET);
    window.forEach(p -> counts.add(layout, p));
    return DriftEvaluator.evaluate(new DriftEvaluator.Subject(Fixtures.MODEL, "champion",
        promoted.getVersion(), actual.getEventId(), actual.getWindow()), layout, counts,
        DriftPolicy.defaults().withWindowCount(WINDOW));
  }
}
