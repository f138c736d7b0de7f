package dev.flywheel.trainingtrigger.executor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.events.ExecutorKind;
import dev.flywheel.events.ModelLineage;
import dev.flywheel.events.RunStatus;
import dev.flywheel.events.TrainingRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunWorkerClaimTest {

  @TempDir Path dir;

  private static TrainingRun started(Instant at) {
    return TrainingRun.newBuilder().setEventId("fraud-1/1/STARTED").setEventTime(at)
        .setRunId("fraud-1").setModel("fraud").setStatus(RunStatus.STARTED).setAttempt(1)
        .setStartedAt(at).setLineage(ModelLineage.newBuilder().setRunId("fraud-1")
            .setReasons(List.of()).setTrainer("xgboost").setExecutor(ExecutorKind.COMMAND)
            .build())
        .setParams(Map.of()).build();
  }

  @Test
  void shouldKeepWhatAnAttemptMadeWhenTheSameAttemptRunsAgain() throws Exception {
    // Given an attempt that made its dataset before the service stopped
    Path work = dir.resolve("fraud-1/1");
    TrainingRun started = started(Instant.parse("2026-11-24T01:00:00Z"));
    RunWorker.claim(work, started);
    Files.writeString(work.resolve("dataset.avro"), "rows");

    // When the same attempt (same STARTED event) runs again
    Path again = RunWorker.claim(work, started);

    // Then its directory and what it made are kept
    assertThat(again).isEqualTo(work);
    assertThat(work.resolve("dataset.avro")).hasContent("rows");
  }

  @Test
  void shouldMoveAsideTheDirectoryOfAnotherRunWithTheSameId() throws Exception {
    // Given the directory of fraud-1 attempt 1 from before the coordinator's state was reset
    Path work = dir.resolve("fraud-1/1");
    RunWorker.claim(work, started(Instant.parse("2026-11-20T09:00:00Z")));
    Files.writeString(work.resolve("dataset.avro"), "old rows");

    // When a new fraud-1 attempt 1, started later, claims it
    RunWorker.claim(work, started(Instant.parse("2026-11-24T01:00:00Z")));

    // Then it starts empty but for its own mark, and the old directory is kept beside it
    try (var files = Files.list(work)) {
      assertThat(files).containsExactly(work.resolve(RunWorker.ATTEMPT_FILE));
    }
    try (var siblings = Files.list(work.getParent())) {
      assertThat(siblings.filter(p -> p.getFileName().toString().startsWith("1.replaced-")))
          .singleElement()
          .satisfies(old -> assertThat(old.resolve("dataset.avro")).hasContent("old rows"));
    }
  }

  @Test
  void shouldDeleteAnAttemptsWorkOnceItsOutcomeIsWrittenAndLeaveTheRunForItsRetry()
      throws Exception {
    // Given attempt 1 of fraud-1 with its dataset, and a directory of an earlier fraud-1 beside it
    Path work = dir.resolve("fraud-1/1");
    TrainingRun started = started(Instant.parse("2026-11-24T01:00:00Z"));
    RunWorker.claim(work, started);
    Files.writeString(work.resolve("dataset.avro"), "rows");
    Files.createDirectories(work.resolve("out"));
    Files.writeString(work.resolve("out/model.json"), "{}");
    Files.createDirectories(dir.resolve("fraud-1/1.replaced-1763600000000"));

    // When its FAILED outcome is written and a retry may follow
    RunWorker.removeWork(dir, failed(started), false);

    // Then the attempt's directory and the one moved aside are gone, the run's is kept
    assertThat(dir.resolve("fraud-1")).isEmptyDirectory();
  }

  @Test
  void shouldDeleteTheRunsWorkAfterItsLastAttempt() throws Exception {
    // Given attempt 1 of fraud-1 with its dataset
    TrainingRun started = started(Instant.parse("2026-11-24T01:00:00Z"));
    Path work = RunWorker.claim(RunWorker.attemptDir(dir, started), started);
    Files.writeString(work.resolve("dataset.avro"), "rows");

    // When its outcome is written and no retry can follow
    RunWorker.removeWork(dir, failed(started), true);

    // Then nothing of the run is left
    assertThat(dir).isEmptyDirectory();
  }

  private static TrainingRun failed(TrainingRun started) {
    return TrainingRun.newBuilder(started).setEventId("fraud-1/1/failed")
        .setStatus(RunStatus.FAILED).setError("trainer crashed").build();
  }
}
