package dev.flywheel.driftdetector.topology;

import static dev.flywheel.driftdetector.Fixtures.T0;
import static dev.flywheel.driftdetector.Fixtures.baseline;
import static dev.flywheel.driftdetector.Fixtures.promoted;
import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.driftdetector.Fixtures;
import dev.flywheel.driftdetector.config.DriftDetectorConfig;
import dev.flywheel.driftdetector.config.DriftPolicy;
import ch.qos.logback.classic.Level;
import dev.flywheel.devstack.junit.LogLines;
import dev.flywheel.driftdetector.window.ModelWindows;
import dev.flywheel.driftdetector.window.WindowCounts;
import dev.flywheel.events.DriftReport;
import dev.flywheel.events.LivePerformance;
import dev.flywheel.events.Prediction;
import dev.flywheel.topics.RecordSize;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model's windows are one value of {@link DriftTopology#WINDOWS_STORE}, and so one record of its
 * changelog: a value larger than the producer's {@code max.request.size} fails the task at every
 * commit. With TIME windows, about (duration + grace) / duration windows are open at once, each
 * with its labelled sample.
 */
class WindowStateSizeTest {

  /** A small {@code max.request.size}, so that a few hundred labels per window reach it. */
  private static final int MAX_REQUEST_SIZE = 64 * 1024;
  private static final int PER_WINDOW = 400;
  private static final Duration WINDOW = Duration.ofMinutes(15);
  private static final Duration GRACE = Duration.ofHours(1);

  @TempDir Path first;
  @TempDir Path second;

  @Test
  void shouldKeepAModelsWindowsWithinARecordWithQuarterHourWindowsAnHourOfGraceAndManyLabels() {
    // Given quarter-hour TIME windows with an hour of grace (5 windows open at once) and a
    // producer whose max.request.size is 64 KiB
    // When 400 predictions with long ids fall in each of 5 quarters, every one of them labelled
    Run run = run(first);

    // Then the model's windows value never exceeded what a record of the changelog may carry
    int limit = RecordSize.maxValueBytes(
        Fixtures.MODEL.getBytes(StandardCharsets.UTF_8).length, MAX_REQUEST_SIZE);
    assertThat(run.largestValue).isPositive().isLessThanOrEqualTo(limit);

    // And the 5 windows were open together, each counting all its labels and keeping a sample of
    // them (only labelled pairs of its own predictions), fewer than it was sent
    assertThat(run.openBeforeClose).hasSize(5);
    for (int k = 0; k < 5; k++) {
      WindowCounts w = run.openBeforeClose.get(k);
      assertThat(w.labelledCount()).isEqualTo(PER_WINDOW);
      assertThat(w.labelledScores()).hasSizeBetween(1, PER_WINDOW - 1);
      Set<Double> sent = run.scores.get(k);
      for (double s : w.labelledScores()) {
        assertThat(sent).contains(s);
      }
    }

    // And every window closes with live performance over its labels
    assertThat(run.reports).hasSize(5);
    assertThat(run.reports).allSatisfy(r -> {
      assertThat(r.getWindow().getCount()).isEqualTo(PER_WINDOW);
      LivePerformance p = r.getPerformance();
      assertThat(p.getLabelledCount()).isEqualTo(PER_WINDOW);
      assertThat(p.getMetrics()).containsKeys("auc", "log_loss");
    });

    // And the same inputs processed again (a replay) give the same samples and the same reports
    Run again = run(second);
    for (int k = 0; k < 5; k++) {
      assertThat(again.openBeforeClose.get(k).labelledScores())
          .containsExactly(run.openBeforeClose.get(k).labelledScores());
      assertThat(again.openBeforeClose.get(k).labels())
          .containsExactly(run.openBeforeClose.get(k).labels());
    }
    assertThat(again.reports).isEqualTo(run.reports);
  }

  @Test
  void shouldLeaveAVersionUnmonitoredWhenTheCountsOfItsOpenWindowsCannotFitARecordAndSayWhy() {
    // Given minute windows with an hour of grace (61 open at once) and Kafka's default
    // max.request.size, and a promoted baseline of 300 numeric features: 61 windows of their
    // counts would take 1.7 MB
    DriftDetectorConfig config = DriftDetectorConfig.of(Map.of(Fixtures.MODEL,
        DriftPolicy.defaults().withTimeWindows(Duration.ofMinutes(1), GRACE, 0)));
    try (LogLines log = LogLines.of(DriftProcessor.class);
        DriftDriver d = new DriftDriver(config, first)) {
      d.promote(promoted(1, baseline(1, 1_000, 300, false), T0));

      // When predictions of that version arrive, and labels of some
      Fixtures.Stream s = new Fixtures.Stream(7, 1, 300, false);
      for (int i = 0; i < 20; i++) {
        Prediction p = s.next(null, null);
        d.predict(p);
        if (i % 4 == 0) {
          d.label(Fixtures.label(p.getEventId(), p.getEventTime().plusSeconds(1), 1));
        }
      }
      d.predict(Fixtures.prediction("closing", 1, T0.plus(Duration.ofHours(2)),
          Map.of("f0", 0.0), Map.of(), 0.5));

      // Then none is counted into a window: no window is kept, no report written
      ModelWindows state = d.driver.<String, ModelWindows>getKeyValueStore(
          DriftTopology.WINDOWS_STORE).get(Fixtures.MODEL);
      assertThat(state.open()).isEmpty();
      assertThat(d.reports.isEmpty()).isTrue();
      // And they are counted as state_too_large, with one error naming the settings and the fix
      assertThat(d.meters.get("flywheel.drift.predictions").tag("outcome", "state_too_large")
          .counter().count()).isEqualTo(21);
      assertThat(d.meters.get("flywheel.drift.labels").tag("outcome", "state_too_large")
          .counter().count()).isEqualTo(5);
      assertThat(log.count(Level.ERROR, "model 'fraud-detector' version 1 is not monitored"))
          .isOne();
      assertThat(log.contain("window.duration PT1M and window.grace PT1H up to 61 windows are"
          + " open at once, each counting 300 features and the score")).isTrue();
      assertThat(log.contain("so that at most 18 windows are open at once")).isTrue();
    }
  }

  private record Run(int largestValue, List<WindowCounts> openBeforeClose,
      List<Set<Double>> scores, List<DriftReport> reports) {}

  private static Run run(Path stateDir) {
    DriftDetectorConfig config = DriftDetectorConfig.of(Map.of(Fixtures.MODEL,
        DriftPolicy.defaults().withTimeWindows(WINDOW, GRACE, 0)));
    try (DriftDriver d = new DriftDriver(config, stateDir, Materialized.StoreType.IN_MEMORY,
        Map.of(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG),
            MAX_REQUEST_SIZE))) {
      d.promote(promoted(1, baseline(1, 1_000, 2, false), T0));
      KeyValueStore<String, ModelWindows> store =
          d.driver.getKeyValueStore(DriftTopology.WINDOWS_STORE);
      Random random = new Random(42);
      String padding = "0123456789".repeat(4);
      long step = WINDOW.toMillis() / PER_WINDOW;
      int largest = 0;
      List<Set<Double>> scores = new ArrayList<>();
      for (int k = 0; k < 5; k++) {
        Set<Double> windowScores = new HashSet<>();
        scores.add(windowScores);
        for (int i = 0; i < PER_WINDOW; i++) {
          Instant t = T0.plus(WINDOW.multipliedBy(k)).plusMillis(i * step);
          double score = random.nextDouble();
          String eventId = "event-" + k + "-" + i + "-" + padding;
          Prediction p = Fixtures.prediction(eventId, 1, t,
              Map.of("f0", random.nextGaussian(), "f1", random.nextGaussian()), Map.of(), score);
          d.predict(p);
          d.label(Fixtures.label(eventId, t.plusSeconds(1), random.nextDouble() < score ? 1 : 0));
          windowScores.add(score);
          byte[] value = ModelWindows.serde().serializer()
              .serialize("changelog", store.get(Fixtures.MODEL));
          largest = Math.max(largest, value.length);
        }
      }
      List<WindowCounts> open = List.copyOf(store.get(Fixtures.MODEL).open());
      // stream time past the last quarter's end and grace closes all five
      d.predict(Fixtures.prediction("closing", 1, T0.plus(WINDOW.multipliedBy(5)).plus(GRACE),
          Map.of("f0", 0.0, "f1", 0.0), Map.of(), 0.5));
      return new Run(largest, open, scores, d.reports.readValuesToList());
    }
  }
}
