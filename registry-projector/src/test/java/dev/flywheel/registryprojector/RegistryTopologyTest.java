package dev.flywheel.registryprojector;

import static dev.flywheel.registryprojector.Fixtures.MODEL;
import static dev.flywheel.registryprojector.Fixtures.T0;
import static dev.flywheel.registryprojector.Fixtures.alice;
import static dev.flywheel.registryprojector.Fixtures.approve;
import static dev.flywheel.registryprojector.Fixtures.archive;
import static dev.flywheel.registryprojector.Fixtures.command;
import static dev.flywheel.registryprojector.Fixtures.completedRun;
import static dev.flywheel.registryprojector.Fixtures.forModel;
import static dev.flywheel.registryprojector.Fixtures.human;
import static dev.flywheel.registryprojector.Fixtures.promote;
import static dev.flywheel.registryprojector.Fixtures.register;
import static dev.flywheel.registryprojector.Fixtures.rejectVersion;
import static dev.flywheel.registryprojector.Fixtures.removeAlias;
import static dev.flywheel.registryprojector.Fixtures.rollback;
import static dev.flywheel.registryprojector.Fixtures.setAlias;
import static dev.flywheel.registryprojector.Fixtures.startedRun;
import static dev.flywheel.registryprojector.Fixtures.tags;
import static dev.flywheel.registryprojector.Fixtures.unarchive;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.events.Actor;
import dev.flywheel.events.CommandOutcome;
import dev.flywheel.events.ModelEvent;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.ModelRegistryState;
import dev.flywheel.events.ModelVersion;
import dev.flywheel.events.PromoteVersion;
import dev.flywheel.events.RegistryCommand;
import dev.flywheel.events.VersionStatus;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.errors.StreamsException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistryTopologyTest {

  private static final Actor RISK = human("rita@example.com", "risk-approver");

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

  @Test
  void shouldAssignVersionNumbersInOrderOfRegistration() {
    // Given an open policy
    RegistryDriver d = open(RegistryConfig.defaults());
    // When two versions are registered
    ModelEvent first = d.decide(register("a", 0.80));
    ModelEvent second = d.decide(register("b", 0.82));
    // Then they are versions 1 and 2, accepted, in a gap-free history
    assertThat(List.of(first, second)).extracting(ModelEvent::getOutcome)
        .containsOnly(CommandOutcome.ACCEPTED);
    assertThat(first.getVersion()).isEqualTo(1);
    assertThat(second.getVersion()).isEqualTo(2);
    assertThat(second.getSequence()).isEqualTo(2);
    assertThat(d.state(MODEL).getVersions()).extracting(v -> v.getStatus())
        .containsExactly(VersionStatus.ACTIVE, VersionStatus.ACTIVE);
  }

  @Test
  void shouldRejectRegistrationWithMalformedDigestSayingWhatToFix() {
    RegistryDriver d = open(RegistryConfig.defaults());
    RegistryCommand bad = register("a", 0.8);
    ((dev.flywheel.events.RegisterVersion) bad.getCommand()).getArtifact().setSha256("XYZ");

    ModelEvent event = d.decide(bad);

    assertThat(event.getOutcome()).isEqualTo(CommandOutcome.REJECTED);
    assertThat(event.getReason()).contains("artifact sha256 'XYZ' is not 64 lowercase"
        + " hexadecimal characters; give the SHA-256 digest of the model file");
    // the model's only command was rejected: it has no state (no version) at all
    assertThat(d.state(MODEL)).isNull();
  }

  @Test
  void shouldRejectRegisteringTheSameArtifactTwice() {
    RegistryDriver d = open(RegistryConfig.defaults());
    d.decide(register("a", 0.8));

    ModelEvent again = d.decide(register("a", 0.8));

    assertThat(again.getOutcome()).isEqualTo(CommandOutcome.REJECTED);
    assertThat(again.getReason()).contains("is already version 1; use version 1");
  }

  @Test
  void shouldRejectAliasOnArchivedVersionNamingTheWayOut() {
    // Given version 1 archived
    RegistryDriver d = open(RegistryConfig.defaults());
    d.decide(register("a", 0.8));
    assertThat(d.decide(archive(1)).getOutcome()).isEqualTo(CommandOutcome.ACCEPTED);
    // When an alias is pointed at it
    ModelEvent event = d.decide(setAlias("challenger", 1));
    // Then it is rejected with what to do
    assertThat(event.getOutcome()).isEqualTo(CommandOutcome.REJECTED);
    assertThat(event.getReason()).isEqualTo(
        "version 1 is archived; register a new version or unarchive 1 to point challenger at it");
    // And after unarchiving, the same move is accepted
    assertThat(d.decide(unarchive(1)).getOutcome()).isEqualTo(CommandOutcome.ACCEPTED);
    assertThat(d.decide(setAlias("challenger", 1)).getOutcome())
        .isEqualTo(CommandOutcome.ACCEPTED);
  }

  @Test
  void shouldRejectArchivingAVersionAnAliasPointsAt() {
    RegistryDriver d = open(RegistryConfig.defaults());
    d.decide(register("a", 0.8));
    d.decide(setAlias("staging", 1));

    ModelEvent event = d.decide(archive(1));

    assertThat(event.getOutcome()).isEqualTo(CommandOutcome.REJECTED);
    assertThat(event.getReason()).isEqualTo(
        "version 1 is the target of alias staging; move or remove that alias first");
  }

  @Test
  void shouldRejectCommandsOnVersionsThatDoNotExist() {
    RegistryDriver d = open(RegistryConfig.defaults());
    d.decide(register("a", 0.8));

    ModelEvent event = d.decide(promote("champion", 7));

    assertThat(event.getOutcome()).isEqualTo(CommandOutcome.REJECTED);
    assertThat(event.getReason()).isEqualTo(
        "version 7 of fraud-detector does not exist (the latest is 1); pick a registered version");
  }

  @Test
  void shouldLeaveNoStateForAnUnknownModelWhenItsCommandIsRejected() {
    // Given a registry that has never heard of model nosuch
    RegistryDriver d = open(RegistryConfig.defaults());
    // When someone promotes a version of it
    List<ModelEvent> events = d.send(forModel("nosuch", promote("champion", 1)));
    // Then the rejection is in the audit log, and the state has no trace of nosuch
    assertThat(events).singleElement().satisfies(e -> {
      assertThat(e.getOutcome()).isEqualTo(CommandOutcome.REJECTED);
      assertThat(e.getModel()).isEqualTo("nosuch");
      assertThat(e.getSequence()).isEqualTo(1);
      assertThat(e.getReason()).isEqualTo("version 1 of nosuch does not exist (no version is"
          + " registered); pick a registered version");
    });
    assertThat(d.state("nosuch")).isNull();
    assertThat(d.states.isEmpty()).isTrue();
  }

  @Test
  void shouldNumberAnUnknownModelsRejectionsAndItsFirstRegistrationWithoutGaps() {
    // Given two rejected commands against a model not registered yet, a minute apart
    RegistryDriver d = open(RegistryConfig.defaults());
    d.send(forModel("late", promote("champion", 1)), T0.plusSeconds(60));
    d.send(forModel("late", archive(1)), T0);
    // When its first version is registered, with an earlier record time
    d.send(forModel("late", register("a", 0.8)), T0.minusSeconds(60));
    // Then the history counts on without a gap or a step back in time, and the state topic
    // starts with the registration, equal to the fold of the audit log
    assertThat(d.allEvents).extracting(ModelEvent::getSequence).containsExactly(1L, 2L, 3L);
    assertThat(d.allEvents).extracting(ModelEvent::getEventTime)
        .containsOnly(T0.plusSeconds(60));
    ModelRegistryState replayed = RegistryFold.empty("late");
    d.allEvents.forEach(e -> RegistryFold.apply(replayed, e));
    assertThat(d.states.readValuesToList()).containsExactly(replayed);
    assertThat(d.state("late")).isEqualTo(replayed);
    assertThat(replayed.getVersions()).hasSize(1);
  }

  @Test
  void shouldRemoveAStateLeftByARejectionBeforeTheFixOnTheModelsNextCommand() {
    // Given a phantom: the state an earlier release stored for nosuch after rejecting a command
    RegistryDriver d = open(RegistryConfig.defaults());
    ModelRegistryState phantom = new RegistryDecider(RegistryConfig.defaults()).decide(
        RegistryFold.empty("nosuch"), forModel("nosuch", promote("champion", 1)), T0,
        v -> null).state();
    d.driver.<String, ModelRegistryState>getKeyValueStore(RegistryTopology.STATE_STORE)
        .put("nosuch", phantom);
    // When another command against nosuch is rejected
    ModelEvent event = d.decide(forModel("nosuch", promote("champion", 1)));
    // Then it continues the history, and the phantom leaves the store and the state topic
    assertThat(event.getSequence()).isEqualTo(2);
    assertThat(d.state("nosuch")).isNull();
    assertThat(d.states.readKeyValuesToList()).containsExactly(KeyValue.pair("nosuch", null));
    // and a later registration still numbers on
    assertThat(d.decide(forModel("nosuch", register("a", 0.8))).getSequence()).isEqualTo(3);
    assertThat(d.state("nosuch").getSequence()).isEqualTo(3);
  }

  @Test
  void shouldChangeNothingAndEmitNothingForARepeatedCommandId() {
    // Given a promotion already decided
    RegistryDriver d = open(RegistryConfig.defaults());
    d.decide(register("a", 0.8));
    RegistryCommand promotion = promote("champion", 1);
    d.decide(promotion);
    d.promoted.readValuesToList();
    ModelRegistryState before = d.state(MODEL);
    d.states.readValuesToList();
    // When the same command id arrives again
    List<ModelEvent> again = d.send(promotion);
    // Then no event, no promotion, no state record, and the state is unchanged
    assertThat(again).isEmpty();
    assertThat(d.promoted.isEmpty()).isTrue();
    assertThat(d.states.isEmpty()).isTrue();
    assertThat(d.state(MODEL)).isEqualTo(before);
  }

  @Test
  void shouldIgnoreARepeatedIdOfARejectedCommand() {
    RegistryDriver d = open(RegistryConfig.defaults());
    RegistryCommand early = promote("champion", 1);
    assertThat(d.decide(early).getOutcome()).isEqualTo(CommandOutcome.REJECTED);
    d.decide(register("a", 0.8));

    // A retry of the rejected command after version 1 exists is still the same command.
    assertThat(d.send(early)).isEmpty();
    assertThat(d.state(MODEL).getAliases()).isEmpty();
  }

  @Test
  void shouldEmitModelPromotedWithEverythingServingNeeds() {
    // Given two versions, 1 the champion
    RegistryDriver d = open(RegistryConfig.defaults());
    d.decide(register("a", 0.80));
    d.decide(register("b", 0.85));
    d.decide(promote("champion", 1));
    d.promoted.readValuesToList();
    // When version 2 is promoted
    ModelEvent event = d.decide(promote("champion", 2));
    // Then one ModelPromoted carries model, alias, versions, artifact, metrics, baseline, actor
    assertThat(event.getPreviousVersion()).isEqualTo(1);
    List<ModelPromoted> promoted = d.promoted.readValuesToList();
    assertThat(promoted).hasSize(1);
    ModelPromoted p = promoted.get(0);
    assertThat(p.getModel()).isEqualTo(MODEL);
    assertThat(p.getAlias()).isEqualTo("champion");
    assertThat(p.getVersion()).isEqualTo(2);
    assertThat(p.getPreviousVersion()).isEqualTo(1);
    assertThat(p.getRollback()).isFalse();
    assertThat(p.getArtifact()).isEqualTo(Fixtures.artifact("b"));
    assertThat(p.getMetrics()).containsEntry("auc", 0.85);
    assertThat(p.getBaseline()).isEqualTo(Fixtures.baseline());
    assertThat(p.getLineage().getRunId()).isEqualTo("run-b");
    assertThat(p.getActor()).isEqualTo(alice());
    assertThat(p.getCommandId()).isEqualTo(event.getCommandId());
  }

  @Test
  void shouldNotEmitModelPromotedWhenAnOrdinaryAliasMoves() {
    RegistryDriver d = open(RegistryConfig.defaults());
    d.decide(register("a", 0.80));

    assertThat(d.decide(setAlias("staging", 1)).getOutcome()).isEqualTo(CommandOutcome.ACCEPTED);

    assertThat(d.promoted.isEmpty()).isTrue();
  }

  @Test
  void shouldTreatConfiguredAliasesAsPromotionAliases() {
    RegistryDriver d = open(RegistryConfig.parse("registry: {promotionAliases: [live]}"));
    d.decide(register("a", 0.80));

    d.decide(setAlias("live", 1));
    ModelEvent champion = d.decide(promote("champion", 1));

    assertThat(d.promoted.readValuesToList()).extracting(ModelPromoted::getAlias)
        .containsExactly("live");
    assertThat(champion.getOutcome()).isEqualTo(CommandOutcome.REJECTED);
    assertThat(champion.getReason()).contains("'champion' is not a promotion alias");
  }

  @Test
  void shouldRejectPromotionFailingAMetricGateNamingTheGate() {
    RegistryDriver d = open(Fixtures.gatedConfig(List.of()));
    d.decide(register("a", 0.70));

    ModelEvent event = d.decide(promote("champion", 1));

    assertThat(event.getOutcome()).isEqualTo(CommandOutcome.REJECTED);
    assertThat(event.getFailedGate()).isEqualTo("auc >= 0.75");
    assertThat(event.getReason()).startsWith("promotion of version 1 to champion is blocked by"
        + " the gate 'auc >= 0.75': auc is 0.7; register a version that passes it");
    assertThat(d.promoted.isEmpty()).isTrue();
  }

  @Test
  void shouldRejectPromotionThatDoesNotBeatTheChampionByTheMargin() {
    // Given champion v1 with auc 0.80
    RegistryDriver d = open(Fixtures.gatedConfig(List.of()));
    d.decide(register("a", 0.80));
    d.decide(promote("champion", 1));
    d.decide(register("b", 0.805));
    d.decide(register("c", 0.81));
    // When v2 (0.805) and v3 (0.81) are promoted
    ModelEvent tooClose = d.decide(promote("champion", 2));
    ModelEvent enough = d.decide(promote("champion", 3));
    // Then v2 fails the 0.01 margin and v3 passes it
    assertThat(tooClose.getOutcome()).isEqualTo(CommandOutcome.REJECTED);
    assertThat(tooClose.getFailedGate()).isEqualTo("beats champion v1 by 0.01 on auc");
    assertThat(tooClose.getReason()).contains("auc 0.805 vs 0.8 of champion v1");
    assertThat(enough.getOutcome()).isEqualTo(CommandOutcome.ACCEPTED);
  }

  @Test
  void shouldAutoPromoteARegistrationThatPassesEveryGate() {
    RegistryDriver d = open(Fixtures.gatedConfig(List.of("champion")));

    List<ModelEvent> events = d.send(register("a", 0.90));

    assertThat(events).hasSize(2);
    ModelEvent follow = events.get(1);
    assertThat(follow.getOutcome()).isEqualTo(CommandOutcome.ACCEPTED);
    assertThat(follow.getCommand()).isInstanceOf(PromoteVersion.class);
    assertThat(follow.getActor().getName()).isEqualTo(RegistryDecider.SELF);
    assertThat(follow.getCausedBy()).isEqualTo(events.get(0).getCommandId());
    List<ModelPromoted> promoted = d.promoted.readValuesToList();
    assertThat(promoted).singleElement().satisfies(p -> {
      assertThat(p.getVersion()).isEqualTo(1);
      assertThat(p.getReason()).isEqualTo("all gates passed: auc 0.9 >= 0.75, no champion to beat");
    });
  }

  @Test
  void shouldRecordABlockedAutoPromotionAsARejectedFollowUp() {
    RegistryDriver d = open(Fixtures.gatedConfig(List.of("champion")));

    List<ModelEvent> events = d.send(register("a", 0.60));

    assertThat(events).extracting(ModelEvent::getOutcome)
        .containsExactly(CommandOutcome.ACCEPTED, CommandOutcome.REJECTED);
    assertThat(events.get(1).getFailedGate()).isEqualTo("auc >= 0.75");
    assertThat(events.get(1).getCausedBy()).isEqualTo(events.get(0).getCommandId());
    assertThat(d.promoted.isEmpty()).isTrue();
  }

  @Test
  void shouldRequireAnApprovalForAnAliasThatNeedsOne() {
    RegistryDriver d = open(Fixtures.gatedConfig(List.of()));
    d.decide(register("a", 0.90));

    ModelEvent blocked = d.decide(promote("production", 1));

    assertThat(blocked.getOutcome()).isEqualTo(CommandOutcome.REJECTED);
    assertThat(blocked.getFailedGate()).isEqualTo("approval for production by risk-approver");
    assertThat(blocked.getReason()).contains(
        "ask one to run 'flywheel models approve fraud-detector 1 --alias production'");
  }

  @Test
  void shouldPromoteAfterAnApprovalByAnAllowedRole() {
    RegistryDriver d = open(Fixtures.gatedConfig(List.of()));
    d.decide(register("a", 0.90));

    ModelEvent approval = d.decide(approve(RISK, "production", 1));
    ModelEvent promotion = d.decide(promote("production", 1));

    assertThat(approval.getOutcome()).isEqualTo(CommandOutcome.ACCEPTED);
    assertThat(promotion.getOutcome()).isEqualTo(CommandOutcome.ACCEPTED);
    assertThat(d.state(MODEL).getVersions().get(0).getApprovals())
        .singleElement().satisfies(a -> {
          assertThat(a.getApproved()).isTrue();
          assertThat(a.getActor()).isEqualTo(RISK);
          assertThat(a.getComment()).isEqualTo("looks good");
        });
  }

  @Test
  void shouldRejectAnApprovalFromARoleTheModelDoesNotAllow() {
    RegistryDriver d = open(Fixtures.gatedConfig(List.of()));
    d.decide(register("a", 0.90));

    ModelEvent approval = d.decide(approve(alice(), "production", 1));

    assertThat(approval.getOutcome()).isEqualTo(CommandOutcome.REJECTED);
    assertThat(approval.getReason()).isEqualTo("alice@example.com holds roles [ml-engineer] but"
        + " decisions on production for fraud-detector need one of [risk-approver]; ask someone"
        + " with one of those roles");
    assertThat(d.decide(promote("production", 1)).getOutcome())
        .isEqualTo(CommandOutcome.REJECTED);
  }

  @Test
  void shouldRejectAnApprovalForAnAliasThatNeedsNone() {
    RegistryDriver d = open(Fixtures.gatedConfig(List.of()));
    d.decide(register("a", 0.90));

    ModelEvent approval = d.decide(approve(RISK, "champion", 1));

    assertThat(approval.getOutcome()).isEqualTo(CommandOutcome.REJECTED);
    assertThat(approval.getReason()).startsWith("alias champion of fraud-detector needs no"
        + " approval");
  }

  @Test
  void shouldBlockPromotionAfterAReviewerRejectsTheVersion() {
    RegistryDriver d = open(Fixtures.gatedConfig(List.of()));
    d.decide(register("a", 0.90));
    d.decide(approve(RISK, "production", 1));
    d.decide(rejectVersion(human("rob@example.com", "risk-approver"), "production", 1));

    ModelEvent promotion = d.decide(promote("production", 1));

    assertThat(promotion.getOutcome()).isEqualTo(CommandOutcome.REJECTED);
    assertThat(promotion.getReason()).startsWith("version 1 was rejected for production by"
        + " rob@example.com (precision too low on new merchants)");
  }

  @Test
  void shouldAutoPromoteWhenTheMissingApprovalArrives() {
    // Given production is automatic but needs an approval
    RegistryDriver d = open(RegistryConfig.parse("""
        models:
          - name: fraud-detector
            policy:
              gates: ["auc >= 0.75"]
              approvals: {production: [risk-approver]}
              autoPromote: [production]
        """));
    List<ModelEvent> registered = d.send(register("a", 0.90));
    assertThat(registered.get(1).getFailedGate())
        .isEqualTo("approval for production by risk-approver");
    // When a risk approver approves
    List<ModelEvent> approved = d.send(approve(RISK, "production", 1));
    // Then the registry promotes by itself
    assertThat(approved).extracting(ModelEvent::getOutcome)
        .containsExactly(CommandOutcome.ACCEPTED, CommandOutcome.ACCEPTED);
    assertThat(d.promoted.readValuesToList()).extracting(ModelPromoted::getAlias,
        ModelPromoted::getVersion).containsExactly(org.assertj.core.groups.Tuple.tuple(
            "production", 1));
  }

  @Test
  void shouldRollAnAliasBackToItsPreviousVersions() {
    // Given champion moved 1 -> 2 -> 3
    RegistryDriver d = open(RegistryConfig.defaults());
    d.decide(register("a", 0.8));
    d.decide(register("b", 0.8 + 0.01));
    d.decide(register("c", 0.8 + 0.02));
    d.decide(promote("champion", 1));
    d.decide(promote("champion", 2));
    d.decide(promote("champion", 3));
    d.promoted.readValuesToList();
    // When it is rolled back once, then once more
    ModelEvent first = d.decide(rollback("champion", null));
    ModelEvent second = d.decide(rollback("champion", null));
    // Then it points at 2, then 1, and each move is a rollback promotion
    assertThat(first.getVersion()).isEqualTo(2);
    assertThat(first.getPreviousVersion()).isEqualTo(3);
    assertThat(second.getVersion()).isEqualTo(1);
    assertThat(d.promoted.readValuesToList()).extracting(ModelPromoted::getVersion,
        ModelPromoted::getRollback).containsExactly(
            org.assertj.core.groups.Tuple.tuple(2, true),
            org.assertj.core.groups.Tuple.tuple(1, true));
    ModelEvent none = d.decide(rollback("champion", null));
    assertThat(none.getOutcome()).isEqualTo(CommandOutcome.REJECTED);
    assertThat(none.getReason()).contains("there is no earlier version to roll back to");
  }

  @Test
  void shouldRollBackToANamedEarlierVersionAndDropTheOnesAfterIt() {
    RegistryDriver d = open(RegistryConfig.defaults());
    for (String seed : List.of("a", "b", "c")) {
      d.decide(register(seed, 0.8));
    }
    d.decide(setAlias("staging", 1));
    d.decide(setAlias("staging", 2));
    d.decide(setAlias("staging", 3));

    ModelEvent event = d.decide(rollback("staging", 1));
    ModelEvent never = d.decide(rollback("staging", 3));

    assertThat(event.getOutcome()).isEqualTo(CommandOutcome.ACCEPTED);
    assertThat(RegistryFold.alias(d.state(MODEL), "staging").orElseThrow().getPreviousVersions())
        .isEmpty();
    assertThat(never.getOutcome()).isEqualTo(CommandOutcome.REJECTED);
  }

  @Test
  void shouldRejectARollbackToTheVersionTheAliasPointsAtAndKeepItsHistory() {
    // Given champion moved 1 -> 2 -> 1, so version 1 is both current and in its history
    RegistryDriver d = open(RegistryConfig.defaults());
    d.decide(register("a", 0.8));
    d.decide(register("b", 0.8 + 0.01));
    d.decide(promote("champion", 1));
    d.decide(promote("champion", 2));
    d.decide(promote("champion", 1));
    d.promoted.readValuesToList();

    // When it is rolled back to version 1
    ModelEvent same = d.decide(rollback("champion", 1));

    // Then the rollback is rejected, saying where the alias can go instead
    assertThat(same.getOutcome()).isEqualTo(CommandOutcome.REJECTED);
    assertThat(same.getReason()).contains("alias champion already points at version 1",
        "nothing to change", "roll back to one of [2]");
    // and no promotion is emitted, and version 2 can still be rolled back to
    assertThat(d.promoted.readValuesToList()).isEmpty();
    assertThat(RegistryFold.alias(d.state(MODEL), "champion").orElseThrow().getPreviousVersions())
        .containsExactly(2, 1);
    ModelEvent back = d.decide(rollback("champion", 2));
    assertThat(back.getOutcome()).isEqualTo(CommandOutcome.ACCEPTED);
    assertThat(back.getPreviousVersion()).isEqualTo(1);
  }

  @Test
  void shouldSetAndRemoveTagsAndAliases() {
    RegistryDriver d = open(RegistryConfig.defaults());
    d.decide(register("a", 0.8));
    d.decide(tags(null, Map.of("team", "risk", "tier", "1"), List.of()));
    d.decide(tags(1, Map.of("reviewed", "yes"), List.of()));
    d.decide(tags(null, Map.of(), List.of("tier")));
    d.decide(setAlias("staging", 1));

    ModelEvent removed = d.decide(removeAlias("staging"));
    ModelEvent again = d.decide(removeAlias("staging"));

    ModelRegistryState state = d.state(MODEL);
    assertThat(state.getTags()).containsExactly(Map.entry("team", "risk"));
    assertThat(state.getVersions().get(0).getTags()).containsEntry("reviewed", "yes");
    assertThat(removed.getOutcome()).isEqualTo(CommandOutcome.ACCEPTED);
    assertThat(state.getAliases()).isEmpty();
    assertThat(again.getReason()).isEqualTo(
        "alias staging is not set on fraud-detector (it has no aliases); nothing to remove");
  }

  @Test
  void shouldRegisterACompletedTrainingRunOnceAndIgnoreOtherStatuses() {
    RegistryDriver d = open(RegistryConfig.defaults());

    d.runs.pipeInput("run-7", startedRun("run-7", MODEL), T0);
    d.runs.pipeInput("run-7", completedRun("run-7", MODEL, 0.9), T0);
    d.runs.pipeInput("run-7", completedRun("run-7", MODEL, 0.9), T0);

    List<ModelEvent> events = d.events.readValuesToList();
    assertThat(events).singleElement().satisfies(e -> {
      assertThat(e.getCommandId())
          .isEqualTo("run:run-7/1/" + T0.minusSeconds(60).toEpochMilli());
      assertThat(e.getOutcome()).isEqualTo(CommandOutcome.ACCEPTED);
      assertThat(e.getActor().getName()).isEqualTo(RegistryDecider.TRAINING);
      assertThat(e.getVersion()).isEqualTo(1);
    });
    assertThat(d.state(MODEL).getVersions().get(0).getLineage().getRunId()).isEqualTo("run-7");
  }

  @Test
  void shouldRegisterARunWithItsModelsDescriptionAsThePurposeOfItsCard() {
    // Given a model whose entry in flywheel.yaml says what it is for
    RegistryDriver d = open(RegistryConfig.parse("""
        models:
          - name: %s
            description: Scores card payments for fraud before authorisation
        """.formatted(MODEL)));

    // When a training run of it completes, and one of another model
    d.runs.pipeInput("run-8", completedRun("run-8", MODEL, 0.9), T0);
    d.runs.pipeInput("run-9", completedRun("run-9", "churn", 0.8), T0);

    // Then its version carries the description, which its card shows as the purpose
    ModelVersion v = d.state(MODEL).getVersions().get(0);
    assertThat(v.getDescription())
        .isEqualTo("Scores card payments for fraud before authorisation");
    assertThat(ModelCard.json(d.state(MODEL), v, List.of(), RegistryConfig.defaults().policy(MODEL))
        .get("purpose").asText()).isEqualTo("Scores card payments for fraud before authorisation");
    // and the other model's version has none
    assertThat(d.state("churn").getVersions().get(0).getDescription()).isNull();
  }

  @Test
  void shouldKeepTheStateTopicEqualToTheFoldOfTheAuditLog() {
    // Given a mixed history with rejections and follow-ups
    RegistryDriver d = open(Fixtures.gatedConfig(List.of("champion")));
    d.send(register("a", 0.80));
    d.send(register("b", 0.70));
    d.send(register("c", 0.95));
    d.send(promote("production", 3));
    d.send(approve(RISK, "production", 3));
    d.send(promote("production", 3));
    d.send(rollback("champion", null));
    ModelRegistryState lastRecord = null;
    for (ModelRegistryState s : d.states.readValuesToList()) {
      lastRecord = s;
    }
    // When the audit log is folded from the start
    ModelRegistryState replayed = RegistryFold.empty(MODEL);
    for (ModelEvent e : d.allEvents) {
      RegistryFold.apply(replayed, e);
    }
    // Then it equals the last state record and the store, and the sequence has no gap
    assertThat(replayed).isEqualTo(lastRecord).isEqualTo(d.state(MODEL));
    assertThat(d.allEvents).extracting(ModelEvent::getSequence)
        .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, d.allEvents.size())
            .boxed().toList());
  }

  @Test
  void shouldSendACommandKeyedByAnotherModelToTheDeadLetterHandler() {
    RegistryDriver d = open(RegistryConfig.defaults());
    RegistryCommand c = command(Fixtures.registration("a", 0.8));

    assertThatThrownBy(() -> d.commands.pipeInput("other-model", c))
        .isInstanceOf(StreamsException.class)
        .rootCause().hasMessageContaining("is for model 'fraud-detector' but keyed"
            + " 'other-model'; key commands by model name");
  }
}
