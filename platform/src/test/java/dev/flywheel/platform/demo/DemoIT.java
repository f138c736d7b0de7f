package dev.flywheel.platform.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.devstack.junit.CommittedValues;
import dev.flywheel.events.Prediction;
import dev.flywheel.events.RunStatus;
import dev.flywheel.events.TrainingRun;
import dev.flywheel.events.TriggerKind;
import dev.flywheel.topics.Topic;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code flywheel demo} at small scale: the loop must close by itself — a drift alert, a
 * retraining run it caused, v2 promoted, and v2's predictions — each checked on its topic with a
 * {@code read_committed} consumer of its own, not through the demo's observer.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DemoIT {

  private final StringWriter view = new StringWriter();
  private Demo demo;
  private Demo.Result result;

  @BeforeAll
  void runTheDemo() throws InterruptedException {
    // Given the demo at a modest rate, on free ports, printing line per stage; the budget only
    // matters when the loop does not close (a quiet machine closes it in about two minutes)
    demo = Demo.builder().rate(150).budget(Duration.ofMinutes(8)).seed(7).httpPort(0)
        .out(new PrintWriter(view, true)).ansi(false).build().start();

    // When it runs until the loop closes (or the budget is spent)
    result = demo.run();
  }

  @AfterAll
  void stop() {
    if (demo != null) {
      demo.close();
    }
  }

  @Test
  void shouldReportTheLoopClosedWithARetrainedVersion() {
    assertThat(result.closed()).as("loop closed; missing stage %s; view:%n%s",
        result.missingStage(), view).isTrue();
    assertThat(result.missingStage()).isNull();
    assertThat(result.retrainedVersion()).isGreaterThanOrEqualTo(2);
  }

  @Test
  void shouldFindADriftAlertForTheModelOnTheAlertsTopic() {
    List<String> alerts = readAll(demo.topics().driftAlerts()).stream()
        .map(a -> a.getModel() + " v" + a.getBaselineVersion()).toList();

    assertThat(alerts).as("alerts; view:%n%s", view).contains(Demo.MODEL + " v1");
  }

  @Test
  void shouldFindACompletedRetrainingRunCausedByTheAlert() {
    List<TrainingRun> runs = readAll(demo.topics().trainingRuns());

    List<String> completed = runs.stream()
        .filter(r -> r.getStatus() == RunStatus.COMPLETED && r.getArtifact() != null)
        .flatMap(r -> r.getLineage().getReasons().stream()
            .map(reason -> r.getRunId() + " " + reason.getKind() + " " + reason.getDetail()))
        .toList();
    assertThat(completed).as("completed runs and their reasons; view:%n%s", view)
        .anyMatch(line -> line.contains(" " + TriggerKind.DRIFT_ALERT + " "))
        .anyMatch(line -> line.endsWith(" " + TriggerKind.MANUAL + " " + Demo.BOOTSTRAP_REASON));
  }

  @Test
  void shouldRegisterEveryVersionWithTheModelsConfiguredDescription() {
    List<String> descriptions = readAll(demo.topics().registryState()).stream()
        .filter(s -> s != null && s.getModel().equals(Demo.MODEL))
        .flatMap(s -> s.getVersions().stream())
        .map(v -> "v" + v.getVersion() + ": " + v.getDescription()).distinct().toList();

    assertThat(descriptions).as("versions of the registry state; view:%n%s", view)
        .contains("v1: Scores card payments for fraud before authorisation",
            "v2: Scores card payments for fraud before authorisation");
  }

  @Test
  void shouldFindV2PromotedToChampionFromTheRetrainingRun() {
    List<String> promoted = readAll(demo.topics().modelPromoted()).stream()
        .map(p -> p.getModel() + " " + p.getAlias() + " v" + p.getVersion() + " after v"
            + p.getPreviousVersion())
        .toList();

    assertThat(promoted).as("promotions; view:%n%s", view)
        .contains(Demo.MODEL + " champion v2 after v1");
  }

  @Test
  void shouldFindPredictionsOfV2AfterPredictionsOfV1() {
    Map<Integer, Long> firstScoredAtByVersion = new TreeMap<>();
    for (Prediction p : readAll(demo.topics().predictions())) {
      if (Demo.MODEL.equals(p.getModel()) && !p.getShadow()) {
        firstScoredAtByVersion.merge(p.getVersion(), p.getScoredAt().toEpochMilli(), Math::min);
      }
    }

    assertThat(firstScoredAtByVersion).as("versions that predicted; view:%n%s", view)
        .containsKeys(1, 2);
    assertThat(firstScoredAtByVersion.get(2)).isGreaterThan(firstScoredAtByVersion.get(1));
  }

  @Test
  void shouldPrintEachStageAndTheMeasuredFigures() {
    List<String> summary = DemoSummary.lines(result);

    assertThat(view.toString()).contains("training v1 requested", "v1 promoted to champion",
        "phase 2: traffic shifts", "DRIFT ALERT", "v2 promoted to champion", "v2 serving");
    assertThat(String.join("\n", summary)).contains("The loop closed", "payment -> prediction",
        "drift onset -> v2 serving");
  }

  private <V> List<V> readAll(Topic<String, V> topic) {
    return CommittedValues.of(demo.bootstrapServers(), topic);
  }
}
