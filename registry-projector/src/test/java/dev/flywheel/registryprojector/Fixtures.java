package dev.flywheel.registryprojector;

import dev.flywheel.events.Actor;
import dev.flywheel.events.ActorKind;
import dev.flywheel.events.ApproveVersion;
import dev.flywheel.events.ArchiveVersion;
import dev.flywheel.events.BaselineProfile;
import dev.flywheel.events.ExecutorKind;
import dev.flywheel.events.FeatureKind;
import dev.flywheel.events.FeatureProfile;
import dev.flywheel.events.ModelArtifact;
import dev.flywheel.events.ModelFormat;
import dev.flywheel.events.ModelLineage;
import dev.flywheel.events.ModelSignature;
import dev.flywheel.events.ModelTask;
import dev.flywheel.events.PromoteVersion;
import dev.flywheel.events.RegisterVersion;
import dev.flywheel.events.RegistryCommand;
import dev.flywheel.events.RejectVersion;
import dev.flywheel.events.RemoveAlias;
import dev.flywheel.events.RollbackAlias;
import dev.flywheel.events.RunStatus;
import dev.flywheel.events.SetAlias;
import dev.flywheel.events.SetTags;
import dev.flywheel.events.TrainingRun;
import dev.flywheel.events.UnarchiveVersion;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/** Builders of commands and runs for tests. */
final class Fixtures {

  static final String MODEL = "fraud-detector";
  static final Instant T0 = Instant.parse("2026-11-17T14:00:00Z");
  private static final AtomicInteger IDS = new AtomicInteger();

  private Fixtures() {}

  static Actor alice() {
    return human("alice@example.com", "ml-engineer");
  }

  static Actor human(String name, String... roles) {
    return Actor.newBuilder().setName(name).setKind(ActorKind.HUMAN).setRoles(List.of(roles))
        .build();
  }

  static String sha256(String seed) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(seed.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static ModelArtifact artifact(String seed) {
    return ModelArtifact.newBuilder().setUri("file:///artifacts/" + seed + ".json")
        .setSha256(sha256(seed)).setFormat(ModelFormat.XGBOOST).build();
  }

  static ModelSignature signature() {
    return ModelSignature.newBuilder().setFeatureNames(List.of("amount_mean_7d", "country"))
        .setCategoricalFeatures(List.of("country")).setFeatureGroup("card")
        .setTask(ModelTask.BINARY_CLASSIFICATION).setDecisionThreshold(0.5).build();
  }

  static BaselineProfile baseline() {
    return BaselineProfile.newBuilder().setSampleCount(1000).setComputedAt(T0)
        .setFeatures(List.of(FeatureProfile.newBuilder().setName("amount_mean_7d")
            .setKind(FeatureKind.NUMERIC).setCount(1000).setMean(42.0).build()))
        .build();
  }

  static ModelLineage lineage(String runId) {
    return ModelLineage.newBuilder().setRunId(runId).setTrainer("xgboost")
        .setTrainerVersion("2.1.4").setExecutor(ExecutorKind.LOCAL).build();
  }

  static RegisterVersion registration(String seed, double auc) {
    return RegisterVersion.newBuilder().setArtifact(artifact(seed)).setSignature(signature())
        .setMetrics(Map.of("auc", auc)).setParams(Map.of("max_depth", "6"))
        .setBaseline(baseline()).setLineage(lineage("run-" + seed))
        .setDescription("Scores card payments for fraud").build();
  }

  static RegistryCommand command(Object body) {
    return command("cmd-" + IDS.incrementAndGet(), alice(), body);
  }

  static RegistryCommand command(Actor actor, Object body) {
    return command("cmd-" + IDS.incrementAndGet(), actor, body);
  }

  static RegistryCommand command(String id, Actor actor, Object body) {
    return RegistryCommand.newBuilder().setEventId(id).setEventTime(T0).setModel(MODEL)
        .setActor(actor).setReason(null).setCommand(body).build();
  }

  /** {@code command} sent for {@code model} instead of {@link #MODEL}. */
  static RegistryCommand forModel(String model, RegistryCommand command) {
    return RegistryCommand.newBuilder(command).setModel(model).build();
  }

  static RegistryCommand register(String seed, double auc) {
    return command(registration(seed, auc));
  }

  static RegistryCommand promote(String alias, int version) {
    return command(PromoteVersion.newBuilder().setAlias(alias).setVersion(version).build());
  }

  static RegistryCommand setAlias(String alias, int version) {
    return command(SetAlias.newBuilder().setAlias(alias).setVersion(version).build());
  }

  static RegistryCommand removeAlias(String alias) {
    return command(RemoveAlias.newBuilder().setAlias(alias).build());
  }

  static RegistryCommand approve(Actor actor, String alias, int version) {
    return command(actor, ApproveVersion.newBuilder().setAlias(alias).setVersion(version)
        .setComment("looks good").build());
  }

  static RegistryCommand rejectVersion(Actor actor, String alias, int version) {
    return command(actor, RejectVersion.newBuilder().setAlias(alias).setVersion(version)
        .setComment("precision too low on new merchants").build());
  }

  static RegistryCommand rollback(String alias, Integer to) {
    return command(RollbackAlias.newBuilder().setAlias(alias).setToVersion(to).build());
  }

  static RegistryCommand archive(int version) {
    return command(ArchiveVersion.newBuilder().setVersion(version).build());
  }

  static RegistryCommand unarchive(int version) {
    return command(UnarchiveVersion.newBuilder().setVersion(version).build());
  }

  static RegistryCommand tags(Integer version, Map<String, String> tags, List<String> remove) {
    return command(SetTags.newBuilder().setVersion(version).setTags(tags).setRemoveKeys(remove)
        .build());
  }

  static TrainingRun completedRun(String runId, String model, double auc) {
    return TrainingRun.newBuilder().setEventId(runId + "/1/COMPLETED").setEventTime(T0)
        .setRunId(runId).setModel(model).setStatus(RunStatus.COMPLETED).setAttempt(1)
        .setStartedAt(T0.minusSeconds(60)).setFinishedAt(T0).setDurationMs(60_000L)
        .setLineage(lineage(runId)).setParams(Map.of("max_depth", "6"))
        .setMetrics(Map.of("auc", auc)).setArtifact(artifact(runId)).setSignature(signature())
        .setBaseline(baseline()).build();
  }

  static TrainingRun startedRun(String runId, String model) {
    return TrainingRun.newBuilder().setEventId(runId + "/1/STARTED").setEventTime(T0)
        .setRunId(runId).setModel(model).setStatus(RunStatus.STARTED).setAttempt(1)
        .setStartedAt(T0).setLineage(lineage(runId)).build();
  }

  /** A policy: auc >= 0.75, beat the champion by 0.01, production needs a risk-approver. */
  static RegistryConfig gatedConfig(List<String> autoPromote) {
    return RegistryConfig.parse("""
        models:
          - name: fraud-detector
            training: {trainer: xgboost}
            policy:
              gates: ["auc >= 0.75"]
              beatChampion: {metric: auc, margin: 0.01}
              approvals: {production: [risk-approver]}
              autoPromote: %s
        """.formatted(autoPromote));
  }
}
