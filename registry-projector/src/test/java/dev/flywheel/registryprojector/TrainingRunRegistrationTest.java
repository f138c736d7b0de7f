package dev.flywheel.registryprojector;

import static dev.flywheel.registryprojector.Fixtures.MODEL;
import static dev.flywheel.registryprojector.Fixtures.T0;
import static dev.flywheel.registryprojector.Fixtures.completedRun;
import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.events.CommandOutcome;
import dev.flywheel.events.ModelEvent;
import dev.flywheel.events.ModelVersion;
import dev.flywheel.events.TrainingRun;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Completed training runs become registrations once per run: a run reported again registers
 * nothing more, and a run whose id comes back after training-trigger's coordinator was reset
 * (its numbering began again) is another run and registers its own version.
 */
class TrainingRunRegistrationTest {

  private static final String RUN = MODEL + "-1";

  @TempDir Path stateDir;
  private RegistryDriver driver;

  private RegistryDriver open(RegistryConfig config) {
    driver = new RegistryDriver(config, stateDir);
    return driver;
  }

  @AfterEach
  void close() {
    if (driver != null) {
      driver.close();
    }
  }

  /** The COMPLETED event of run {@code runId} started at {@code startedAt}, with its own model. */
  private static TrainingRun completed(String runId, Instant startedAt, String artifactSeed) {
    Instant finishedAt = startedAt.plus(Duration.ofMinutes(5));
    return TrainingRun.newBuilder(completedRun(runId, MODEL, 0.9))
        .setStartedAt(startedAt).setFinishedAt(finishedAt).setEventTime(finishedAt)
        .setArtifact(Fixtures.artifact(artifactSeed)).build();
  }

  @Test
  void shouldRegisterBothRunsWhenARunIdComesBackAfterTheCoordinatorWasReset() {
    // Given run fraud-detector-1 completed and registered
    RegistryDriver d = open(RegistryConfig.defaults());
    d.runs.pipeInput(RUN, completed(RUN, T0, "first"), T0);
    // When the coordinator's state is reset and its next run, numbered 1 again, completes later
    // with another model
    Instant later = T0.plus(Duration.ofDays(3));
    d.runs.pipeInput(RUN, completed(RUN, later, "after-reset"), later);

    // Then both runs are registered, as versions 1 and 2, each under its own command id
    List<ModelEvent> events = d.events.readValuesToList();
    assertThat(events).extracting(ModelEvent::getOutcome)
        .containsExactly(CommandOutcome.ACCEPTED, CommandOutcome.ACCEPTED);
    assertThat(events).extracting(ModelEvent::getVersion).containsExactly(1, 2);
    assertThat(events).extracting(ModelEvent::getCommandId).doesNotHaveDuplicates()
        .allSatisfy(id -> assertThat(id).startsWith("run:" + RUN + "/"));
    assertThat(d.state(MODEL).getVersions()).extracting(v -> v.getArtifact().getSha256())
        .containsExactly(Fixtures.sha256("first"), Fixtures.sha256("after-reset"));
  }

  @Test
  void shouldRegisterTheSameCompletedEventOnceWhenItIsReportedAgain() {
    // Given a completed run
    RegistryDriver d = open(RegistryConfig.defaults());
    TrainingRun run = completed(RUN, T0, "first");
    // When its COMPLETED event is read twice (a replay of the runs topic, or written twice)
    d.runs.pipeInput(RUN, run, T0);
    d.runs.pipeInput(RUN, run, T0.plusSeconds(30));

    // Then one version is registered, and the second reading decides nothing
    assertThat(d.events.readValuesToList()).singleElement().satisfies(e -> {
      assertThat(e.getOutcome()).isEqualTo(CommandOutcome.ACCEPTED);
      assertThat(e.getVersion()).isEqualTo(1);
    });
    assertThat(d.state(MODEL).getVersions()).hasSize(1);
  }

  @Test
  void shouldNameTheRegistrationAfterTheRunItsAttemptAndWhenItStarted() {
    // Given attempt 2 of a run, started at T0
    RegistryDriver d = open(RegistryConfig.defaults());
    TrainingRun run = TrainingRun.newBuilder(completed(RUN, T0, "first")).setAttempt(2).build();
    // When it completes
    d.runs.pipeInput(RUN, run, T0);
    // Then its registration's command id says which run, attempt and start it was
    assertThat(d.events.readValuesToList()).singleElement()
        .extracting(ModelEvent::getCommandId)
        .isEqualTo("run:" + RUN + "/2/" + T0.toEpochMilli());
  }

  @Test
  void shouldNotRegisterAgainARunRegisteredUnderTheFormerCommandIdWhenTheRunsAreReplayed() {
    // Given a run registered by an earlier release, under the command id run:<run_id>
    RegistryDriver d = open(RegistryConfig.defaults());
    TrainingRun run = completed(RUN, T0, "first");
    d.send(Fixtures.command(TrainingRunRegistrar.COMMAND_ID_PREFIX + RUN,
        TrainingRunRegistrar.command(run, null).getActor(),
        TrainingRunRegistrar.command(run, null).getCommand()));
    // When this release reads the runs topic from the start again
    d.runs.pipeInput(RUN, run, T0.plusSeconds(30));

    // Then the run is not registered a second time, and nothing is decided
    assertThat(d.events.readValuesToList()).isEmpty();
    assertThat(d.state(MODEL).getVersions()).hasSize(1);
  }

  @Test
  void shouldRegisterANewRunWhoseIdWasRegisteredUnderTheFormerCommandId() {
    // Given run fraud-detector-1 registered by an earlier release, under run:<run_id>
    RegistryDriver d = open(RegistryConfig.defaults());
    TrainingRun first = completed(RUN, T0, "first");
    d.send(Fixtures.command(TrainingRunRegistrar.COMMAND_ID_PREFIX + RUN,
        TrainingRunRegistrar.command(first, null).getActor(),
        TrainingRunRegistrar.command(first, null).getCommand()));
    // When, after the coordinator was reset, another run numbered 1 completes with another model
    Instant later = T0.plus(Duration.ofDays(3));
    d.runs.pipeInput(RUN, completed(RUN, later, "after-reset"), later);

    // Then it is registered as version 2
    assertThat(d.events.readValuesToList()).singleElement().satisfies(e -> {
      assertThat(e.getOutcome()).isEqualTo(CommandOutcome.ACCEPTED);
      assertThat(e.getVersion()).isEqualTo(2);
    });
  }

  @Test
  void shouldRecogniseAFormerRegistrationWhoseVersionIsNoLongerHeldInFull() {
    // Given a model whose state holds one version in full, and a run registered by an earlier
    // release under run:<run_id>, followed by a newer version that moved it out of the state
    RegistryDriver d = open(RegistryConfig.parse("""
        registry:
          stateVersions: 1
        """));
    TrainingRun run = completed(RUN, T0, "first");
    d.send(Fixtures.command(TrainingRunRegistrar.COMMAND_ID_PREFIX + RUN,
        TrainingRunRegistrar.command(run, null).getActor(),
        TrainingRunRegistrar.command(run, null).getCommand()));
    d.send(Fixtures.register("by-hand", 0.8));
    assertThat(d.state(MODEL).getVersions()).extracting(ModelVersion::getVersion)
        .containsExactly(2);
    // When the runs topic is read from the start again
    d.runs.pipeInput(RUN, run, T0.plusSeconds(30));

    // Then the run is not registered again, and nothing is decided
    assertThat(d.events.readValuesToList()).isEmpty();
    assertThat(d.state(MODEL).getOlderVersions()).hasSize(1);
  }

  @Test
  void shouldTakeTheFormerIdOnlyFromTheIdOfARunsRegistration() {
    // Given ids of run registrations, of the former form, of a follow-up and of a person's command
    // When their former ids are asked for
    // Then only a run's registration has one: run:<run_id>, whatever its run id holds
    assertThat(TrainingRunRegistrar.formerCommandId("run:fraud-detector-1/2/1794924000000"))
        .contains("run:fraud-detector-1");
    assertThat(TrainingRunRegistrar.formerCommandId("run:team/churn-4/1/1794924000000"))
        .contains("run:team/churn-4");
    assertThat(TrainingRunRegistrar.formerCommandId("run:fraud-detector-1")).isEmpty();
    assertThat(TrainingRunRegistrar.formerCommandId("run:fraud-detector-1/auto-promote/champion"))
        .isEmpty();
    assertThat(TrainingRunRegistrar.formerCommandId("run:/1/1794924000000")).isEmpty();
    assertThat(TrainingRunRegistrar.formerCommandId("cli-register-1")).isEmpty();
  }
}
