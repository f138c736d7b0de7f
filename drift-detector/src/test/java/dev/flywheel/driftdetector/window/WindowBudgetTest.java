package dev.flywheel.driftdetector.window;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.driftdetector.Fixtures;
import dev.flywheel.driftdetector.config.DriftDetectorConfig;
import dev.flywheel.driftdetector.config.DriftPolicy;
import dev.flywheel.driftdetector.config.InvalidConfigException;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A model's open windows are one value of the {@code drift-windows} store and one record of its
 * changelog: {@link WindowBudget} keeps that value within half of what a record may carry,
 * whatever the window settings and however many labels arrive, by bounding each window's
 * labelled sample.
 */
class WindowBudgetTest {

  /** Kafka's default {@code max.request.size}. */
  private static final int MAX_REQUEST_SIZE = 1024 * 1024;
  private static final int LABELS_PER_WINDOW = 6_000;
  /** 20 numeric features in 10 bins, a categorical one of 4 categories, and the score. */
  private static final BaselineLayout LAYOUT =
      BaselineLayout.of(Fixtures.baseline(1, 1_000, 20, true));
  private static final String EVENT_ID = "promoted-fraud-detector-v1-1795392000000";

  @ParameterizedTest(name = "{0} with grace {1}: {2} windows, {3} labelled predictions each")
  @CsvSource({
      // duration (none: count windows), grace, windows open at once, labelled sample
      ",      PT0S, 1,  5000",
      "PT1H,  PT5M, 2,  5000",
      "PT15M, PT1H, 5,  4281",
      "PT1M,  PT1H, 61, 273"})
  void shouldKeepAModelsWindowsWithinTheBudgetWhateverTheWindowSettingsAndLabels(
      Duration duration, Duration grace, int open, int sample) {
    // Given a model's policy and a baseline of 20 numeric features, a categorical one and the score
    DriftPolicy policy = duration == null ? DriftPolicy.defaults()
        : DriftPolicy.defaults().withTimeWindows(duration, grace, 0);
    WindowBudget budget = WindowBudget.of(Fixtures.MODEL, MAX_REQUEST_SIZE, policy, LAYOUT,
        EVENT_ID);
    assertThat(budget.fits()).isTrue();
    assertThat(budget.maxOpenWindows()).isEqualTo(open);

    // When as many windows as can be open at once each get 6,000 labels of predictions with
    // 60-character ids (the same windows on the code before budgets took 1.8 MB at PT15M + PT1H)
    ModelWindows state = filled(policy, budget);
    byte[] value = state.toBytes();

    // Then the model's value stays within the budget, below what a record may carry
    assertThat(budget.bytes()).isLessThan(MAX_REQUEST_SIZE / 2);
    assertThat((long) value.length).isLessThanOrEqualTo(budget.bytes());

    // And every window keeps the same number of labelled predictions (the README's figures), all
    // the sample size when it fits, else as many as fill the budget
    assertThat(budget.labelCapacity()).isEqualTo(sample);
    assertThat(state.open()).hasSize(open).allSatisfy(w -> {
      assertThat(w.sampledCount()).isEqualTo(sample);
      assertThat(w.labelledCount()).isEqualTo(LABELS_PER_WINDOW);
    });
    if (sample < WindowCounts.LABELLED_SAMPLE) {
      assertThat((long) value.length)
          .isGreaterThan(budget.bytes() - (long) open * WindowCounts.LABEL_BYTES);
    }

    // And each sample is one of its window's own labels, spread over their arrivals: the score
    // of a label is its window's index times 1,000,000 plus its arrival order
    for (int k = 0; k < open; k++) {
      double[] scores = state.open().get(k).labelledScores();
      long first = k * 1_000_000L;
      double[] labels = state.open().get(k).labels();
      for (int i = 0; i < scores.length; i++) {
        assertThat(scores[i]).isBetween((double) first, (double) first + LABELS_PER_WINDOW - 1);
        assertThat(labels[i]).isEqualTo((scores[i] - first) % 2);
      }
      double meanOrder = Arrays.stream(scores).map(s -> s - first).average().orElseThrow();
      assertThat(meanOrder).isBetween(0.44 * LABELS_PER_WINDOW, 0.56 * LABELS_PER_WINDOW);
    }

    // And the same labels arriving again (a replay) keep the same samples, byte for byte
    assertThat(filled(policy, budget).toBytes()).isEqualTo(value);
  }

  @Test
  void shouldKeepAValueWrittenBeforeBudgetsReadableAndCutItToTheBudgetWhenWritten() {
    // Given a model's value as the version before budgets wrote it (format 3): 5 quarter-hour
    // windows of 5,000 labelled predictions each by their 60-character ids, 1.6 MB
    DriftPolicy policy = DriftPolicy.defaults().withTimeWindows(Duration.ofMinutes(15),
        Duration.ofHours(1), 0);
    byte[] before = format3(5, WindowCounts.LABELLED_SAMPLE);
    assertThat(before.length).isGreaterThan(MAX_REQUEST_SIZE);

    // When it is read, and its windows cut to the budget, as the processor does before it writes
    ModelWindows state = ModelWindows.fromBytes(before);
    WindowBudget budget = WindowBudget.of(Fixtures.MODEL, MAX_REQUEST_SIZE, policy,
        BaselineLayout.of(Fixtures.baseline(1, 1_000, 0, false)), state.baselineEventId());
    state.keepLabelled(budget.labelCapacity(state.open().size()));

    // Then it keeps its windows, each with a sample of its labels as large as the budget allows,
    // and fits it
    assertThat(state.open()).hasSize(5).allSatisfy(w -> {
      assertThat(w.sampledCount()).isEqualTo(budget.labelCapacity());
      assertThat(w.labelledCount()).isEqualTo(2 * WindowCounts.LABELLED_SAMPLE);
    });
    assertThat(budget.labelCapacity()).isBetween(1, WindowCounts.LABELLED_SAMPLE - 1);
    assertThat((long) state.toBytes().length).isLessThanOrEqualTo(budget.bytes());

    // And a later label of a prediction still in a sample, by its id, replaces its label
    WindowCounts w = state.open().get(2);
    int order = (int) w.labelledScores()[0];
    w.label(id(2, order), -1, 1, budget.labelCapacity());
    assertThat(w.labelledScores()[0]).isEqualTo(-1);
    assertThat(w.labelledCount()).isEqualTo(2 * WindowCounts.LABELLED_SAMPLE);
  }

  @Test
  void shouldRefuseABaselineWhoseWindowCountsAloneExceedTheBudgetAndSayWhatToChange() {
    // Given minute windows with an hour of grace (61 open at once)
    DriftPolicy policy = DriftPolicy.defaults().withTimeWindows(Duration.ofMinutes(1),
        Duration.ofHours(1), 0);

    // When the baseline has 300 numeric features: 61 windows of counts take 1.7 MB
    WindowBudget budget = WindowBudget.of(Fixtures.MODEL, MAX_REQUEST_SIZE, policy,
        BaselineLayout.of(Fixtures.baseline(1, 1_000, 300, false)), EVENT_ID);

    // Then the windows cannot be kept, and the reason names the settings, the size and the fix
    assertThat(budget.fits()).isFalse();
    assertThat(budget.countsBytes()).isGreaterThan(MAX_REQUEST_SIZE);
    assertThat(budget.labelCapacity()).isZero();
    assertThat(budget.problem(Fixtures.MODEL, 3, "app-drift-windows-changelog"))
        .contains("model 'fraud-detector' version 3 is not monitored",
            "window.duration PT1M and window.grace PT1H", "61 windows are open at once",
            "300 features and the score", String.valueOf(budget.countsBytes()),
            String.valueOf(budget.bytes()), "max.request.size 1048576",
            "lengthen models[fraud-detector].drift.window.duration or shorten its window.grace",
            "at most 18 windows", "max.message.bytes of app-drift-windows-changelog");

    // And with quarter-hour windows (5 open at once) the same baseline fits, with labels
    WindowBudget quarter = WindowBudget.of(Fixtures.MODEL, MAX_REQUEST_SIZE,
        policy.withTimeWindows(Duration.ofMinutes(15), Duration.ofHours(1), 0),
        BaselineLayout.of(Fixtures.baseline(1, 1_000, 300, false)), EVENT_ID);
    assertThat(quarter.fits()).isTrue();
    assertThat(quarter.labelCapacity()).isPositive();
  }

  @Test
  void shouldRefuseAtStartWindowSettingsThatCannotFitEvenWithoutFeatures() {
    // Given second windows with a day of grace: 86,401 windows open at once
    DriftDetectorConfig config = DriftDetectorConfig.of(Map.of(Fixtures.MODEL,
        DriftPolicy.defaults().withTimeWindows(Duration.ofSeconds(1), Duration.ofDays(1), 0)));

    // When the service checks its configuration, Then it refuses it, naming the settings
    assertThatThrownBy(() -> WindowBudget.requireFits(config, MAX_REQUEST_SIZE))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("models[fraud-detector].drift.window: duration PT1S with grace"
            + " PT24H keeps up to 86401 windows")
        .hasMessageContaining("max.request.size 1048576")
        .hasMessageContaining("Lengthen window.duration or shorten window.grace");

    // And the default, count, and minute windows with an hour of grace pass
    WindowBudget.requireFits(DriftDetectorConfig.defaults(), MAX_REQUEST_SIZE);
    WindowBudget.requireFits(DriftDetectorConfig.of(Map.of(Fixtures.MODEL,
        DriftPolicy.defaults().withTimeWindows(Duration.ofMinutes(1), Duration.ofHours(1), 0))),
        MAX_REQUEST_SIZE);
  }

  @ParameterizedTest(name = "{0} with grace {1}: {2}")
  @CsvSource({"PT1H, PT0S, 1", "PT1H, PT5M, 2", "PT10M, PT20M, 3", "PT15M, PT1H, 5",
      "PT1M, PT1H, 61", "PT0.001S, PT1S, 1001"})
  void shouldCountTheMostTimeWindowsOpenAtOnceFromDurationAndGrace(Duration duration,
      Duration grace, long open) {
    // Given TIME windows, When the most open at once is asked, Then it is 1 + ceil(grace/duration)
    assertThat(DriftPolicy.defaults().withTimeWindows(duration, grace, 0).maxOpenWindows())
        .isEqualTo(open);
    assertThat(DriftPolicy.defaults().withWindowCount(10).maxOpenWindows()).isOne();
  }

  /** The most windows {@code policy} keeps open, each given its labels as the processor does. */
  private static ModelWindows filled(DriftPolicy policy, WindowBudget budget) {
    ModelWindows state = new ModelWindows(1, EVENT_ID);
    long duration = policy.timeWindows() ? policy.windowDuration().toMillis() : 0;
    for (int k = 0; k < budget.maxOpenWindows(); k++) {
      WindowCounts w = policy.timeWindows() ? state.bucket(LAYOUT, k * duration)
          : state.countWindow(LAYOUT);
      for (int i = 0; i < LABELS_PER_WINDOW; i++) {
        w.label(id(k, i), k * 1_000_000.0 + i, i % 2,
            budget.labelCapacity(state.open().size()));
        state.keepLabelled(budget.labelCapacity(state.open().size()));
      }
    }
    return state;
  }

  /** A 60-character prediction id. */
  private static String id(int window, int order) {
    String id = "prediction-" + window + "-" + order + "-";
    return id + "0f8fad5b-d9cb-469f-a165-70867728950e-0123456789abcdefghijklmnopqrstuv"
        .substring(0, 60 - id.length());
  }

  /**
   * A model's value in format 3 (before budgets): {@code windows} quarter-hour windows with no
   * features, each with {@code labels} labelled predictions by id, of twice as many labels.
   */
  private static byte[] format3(int windows, int labels) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(3);
      out.writeInt(1);
      out.writeUTF(EVENT_ID);
      out.writeLong(0);
      out.writeLong(windows * 900_000L);
      out.writeLong(ModelWindows.NONE);
      out.writeInt(0);
      out.writeLong(ModelWindows.NONE);
      out.writeLong(ModelWindows.NONE);
      out.writeInt(windows);
      for (int k = 0; k < windows; k++) {
        out.writeLong(k * 900_000L);
        out.writeLong(2L * labels);
        out.writeLong(k * 900_000L);
        out.writeLong(k * 900_000L + 899_999);
        out.writeInt(0);
        out.writeBoolean(false);
        out.writeInt(labels);
        for (int i = 0; i < labels; i++) {
          out.writeUTF(id(k, i));
          out.writeDouble(i);
          out.writeDouble(i % 2);
        }
        out.writeLong(2L * labels);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }
}
