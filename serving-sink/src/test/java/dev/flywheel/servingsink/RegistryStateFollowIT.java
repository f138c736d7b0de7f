package dev.flywheel.servingsink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.LogLines;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.events.Actor;
import dev.flywheel.events.ActorKind;
import dev.flywheel.events.AliasState;
import dev.flywheel.events.ModelArtifact;
import dev.flywheel.events.ModelFormat;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.ModelRegistryState;
import dev.flywheel.events.ModelVersion;
import dev.flywheel.events.VersionStatus;
import dev.flywheel.servingsink.follow.PromotionFollower;
import dev.flywheel.servingsink.model.ServedModel;
import dev.flywheel.servingsink.model.ServedModels;
import dev.flywheel.topics.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * After catch-up, serving follows {@code flywheel.registry.state} as well as {@code
 * flywheel.model.promoted}: an alias the registry moves without a promotion read after catch-up
 * is served too, and a champion whose alias the registry removes keeps serving, visibly.
 */
@WithDevstack
class RegistryStateFollowIT {

  private static final Instant T0 = Instant.parse("2026-11-20T10:00:00Z");
  private static final Actor ACTOR = Actor.newBuilder().setName("ops")
      .setKind(ActorKind.HUMAN).build();

  @TempDir
  Path artifacts;

  private ServingSinkService start(Devstack devstack, UniqueNames names, Topics topics) {
    ServingSinkConfig config = ServingSinkConfig.defaults()
        .withIds(names.applicationId("serving"), "it")
        .withFeatureGroups(Map.of(TestModels.GROUP, TestModels.FEATURES));
    return ServingSinkService.builder().config(config)
        .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers()))
        .topics(topics).meters(new SimpleMeterRegistry()).build().start();
  }

  private static int version(ServingSinkService s, String alias) {
    ServedModel m = s.served().get(new ServedModels.Key("fraud", alias));
    return m == null ? 0 : m.version();
  }

  private static ModelVersion registered(int version, ModelArtifact artifact) {
    return ModelVersion.newBuilder().setVersion(version).setStatus(VersionStatus.ACTIVE)
        .setArtifact(artifact).setSignature(TestModels.signature(TestModels.FEATURES))
        .setRegisteredAt(T0).setRegisteredBy(ACTOR).build();
  }

  /** An alias pointing at {@code version} since {@code at}. */
  private static AliasState alias(String alias, int version, Instant at) {
    return AliasState.newBuilder().setAlias(alias).setVersion(version).setAssignedAt(at)
        .setAssignedBy(ACTOR).build();
  }

  /** fraud's state as registry-projector writes it after its {@code sequence}-th event. */
  private static ModelRegistryState state(long sequence, List<ModelVersion> versions,
      AliasState... aliases) {
    return ModelRegistryState.newBuilder().setEventId(UUID.randomUUID().toString())
        .setEventTime(T0.plusSeconds(sequence)).setModel("fraud").setSequence(sequence)
        .setVersions(versions).setAliases(List.of(aliases)).build();
  }

  private static ModelPromoted promoted(int version, ModelArtifact artifact, Instant at) {
    ModelPromoted p = TestModels.promoted("fraud", "champion", version, artifact,
        TestModels.signature(TestModels.FEATURES));
    p.setEventTime(at);
    return p;
  }

  @Test
  void shouldServeAChallengerTheRegistryStateSetsAfterStart(Devstack devstack, UniqueNames names)
      throws Exception {
    // Given v1 the champion (promoted, and in the registry state) and serving started
    Topics topics = Kafka.topics(devstack, names);
    ModelVersion v1 = xgboostVersion(1, 0.5);
    ModelVersion v2 = onnxVersion(2);
    championV1(devstack, topics, List.of(v1, v2));
    try (ServingSinkService serving = start(devstack, names, topics)) {
      assertThat(version(serving, "champion")).isEqualTo(1);
      assertThat(version(serving, "challenger")).isZero();

      // When the registry sets challenger to v2: 'challenger' is not a promotion alias, so the
      // projector writes only the new state, no ModelPromoted
      Kafka.send(devstack, topics.registryState(), "fraud", state(3, List.of(v1, v2),
          alias("challenger", 2, T0.plusSeconds(3)), alias("champion", 1, T0.plusSeconds(2))));

      // Then v2 is served as the challenger, and v1 stays the champion
      await().atMost(Duration.ofSeconds(30)).until(() -> version(serving, "challenger") == 2);
      assertThat(version(serving, "champion")).isEqualTo(1);
      assertThat(serving.healthProblem()).isEmpty();
    }
  }

  @Test
  void shouldServeAPromotionWhoseStateCameAfterTheCatchUpSnapshot(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given the promotion of v2 read by catch-up, but the state of that same registry decision
    // not yet (the two topics' ends are taken while its transaction's markers are written): the
    // state catch-up reads still names v1, so v1 serves
    Topics topics = Kafka.topics(devstack, names);
    ModelVersion v1 = xgboostVersion(1, 0.5);
    ModelVersion v2 = onnxVersion(2);
    championV1(devstack, topics, List.of(v1, v2));
    Kafka.send(devstack, topics.modelPromoted(), "fraud",
        promoted(2, v2.getArtifact(), T0.plusSeconds(3)));
    try (ServingSinkService serving = start(devstack, names, topics)) {
      assertThat(version(serving, "champion")).isEqualTo(1);

      // When that decision's state arrives after catch-up
      Kafka.send(devstack, topics.registryState(), "fraud", state(3, List.of(v1, v2),
          alias("champion", 2, T0.plusSeconds(3))));

      // Then v2, the champion the registry names, is served
      await().atMost(Duration.ofSeconds(30)).until(() -> version(serving, "champion") == 2);
    }
  }

  @Test
  void shouldServeTheLaterOfTwoChallengerMovesInTheSameMillisecond(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given v1 the champion and serving started
    Topics topics = Kafka.topics(devstack, names);
    ModelVersion v1 = xgboostVersion(1, 0.5);
    ModelVersion v2 = onnxVersion(2);
    ModelVersion v3 = xgboostVersion(3, 0.7);
    championV1(devstack, topics, List.of(v1, v2, v3));
    try (ServingSinkService serving = start(devstack, names, topics)) {
      assertThat(version(serving, "challenger")).isZero();

      // When the registry sets challenger to v2 and then to v3 within one millisecond: two
      // states whose alias moves have the same event time, the later one read later
      Instant sameMillis = T0.plusSeconds(3);
      Kafka.send(devstack, topics.registryState(), "fraud", state(3, List.of(v1, v2, v3),
          alias("challenger", 2, sameMillis), alias("champion", 1, T0.plusSeconds(2))));
      Kafka.send(devstack, topics.registryState(), "fraud", state(4, List.of(v1, v2, v3),
          alias("challenger", 3, sameMillis), alias("champion", 1, T0.plusSeconds(2))));

      // Then v3, the challenger the newest state names, is served (not v2 until a restart)
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
          assertThat(version(serving, "challenger"))
              .as("challenger served after two moves in the same millisecond")
              .isEqualTo(3));
      assertThat(version(serving, "champion")).isEqualTo(1);
    }
  }

  @Test
  void shouldKeepServingAChampionTheRegistryRemovesAndSayOnceThatItsAliasIsGone(
      Devstack devstack, UniqueNames names) throws Exception {
    // Given v1 the champion and serving started
    Topics topics = Kafka.topics(devstack, names);
    ModelVersion v1 = xgboostVersion(1, 0.5);
    ModelVersion v2 = onnxVersion(2);
    championV1(devstack, topics, List.of(v1, v2));
    try (LogLines followerLog = LogLines.of(PromotionFollower.class);
        ServingSinkService serving = start(devstack, names, topics)) {
      assertThat(version(serving, "champion")).isEqualTo(1);

      // When the registry removes the champion alias (RemoveAlias champion: a state without it,
      // no promotion), and then changes something else, the alias still unset
      Kafka.send(devstack, topics.registryState(), "fraud", state(3, List.of(v1, v2)));
      Kafka.send(devstack, topics.registryState(), "fraud", state(4, List.of(v1, v2)));

      // Then v1 keeps serving, and health says the alias was removed and v1 serves meanwhile
      await().atMost(Duration.ofSeconds(30)).until(() ->
          champion(serving).containsKey("aliasRemoved"));
      assertThat(version(serving, "champion")).isEqualTo(1);
      assertThat(champion(serving)).containsEntry("version", 1);
      assertThat(champion(serving).get("aliasRemoved")).asInstanceOf(InstanceOfAssertFactories.MAP)
          .containsEntry("at", T0.plusSeconds(3).toString())
          .containsEntry("stillServing", 1);
      assertThat(serving.healthProblem()).isEmpty();

      // When the registry sets a new champion
      Kafka.send(devstack, topics.registryState(), "fraud", state(5, List.of(v1, v2),
          alias("champion", 2, T0.plusSeconds(5))));

      // Then it serves, and the removal is no longer shown
      await().atMost(Duration.ofSeconds(30)).until(() -> version(serving, "champion") == 2);
      assertThat(champion(serving)).doesNotContainKey("aliasRemoved");
      // And the removal was logged once, as a warning naming the version that kept serving
      assertThat(followerLog.count(Level.WARN, "the registry removed alias champion of fraud"))
          .isEqualTo(1);
      assertThat(followerLog.count(Level.WARN, "fraud@champion v1 keeps serving")).isEqualTo(1);
    }
  }

  @Test
  void shouldServeTheLastChampionAfterARestartWhenTheRegistryRemovedTheAlias(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given v1 was the champion, and the registry removed the alias while serving was down
    Topics topics = Kafka.topics(devstack, names);
    ModelVersion v1 = xgboostVersion(1, 0.5);
    ModelVersion v2 = onnxVersion(2);
    championV1(devstack, topics, List.of(v1, v2));
    Kafka.send(devstack, topics.registryState(), "fraud", state(3, List.of(v1, v2)));

    // When serving starts
    try (ServingSinkService serving = start(devstack, names, topics)) {
      // Then v1 serves, and health says the alias was removed
      assertThat(version(serving, "champion")).isEqualTo(1);
      assertThat(champion(serving).get("aliasRemoved")).asInstanceOf(InstanceOfAssertFactories.MAP)
          .containsEntry("at", T0.plusSeconds(3).toString())
          .containsEntry("stillServing", 1);
      assertThat(serving.healthProblem()).isEmpty();
    }
  }

  /** fraud@champion in {@link ServingSinkService#healthDetails()}, empty when absent. */
  @SuppressWarnings("unchecked")
  private static Map<String, Object> champion(ServingSinkService serving) {
    Map<String, Object> models = (Map<String, Object>) serving.healthDetails().get("models");
    Map<String, Object> fraud = (Map<String, Object>) models.getOrDefault("fraud", Map.of());
    return (Map<String, Object>) fraud.getOrDefault("champion", Map.of());
  }

  private ModelVersion xgboostVersion(int version, double weight) throws Exception {
    return registered(version, TestModels.artifact(
        TestModels.writeXgboost(artifacts, version, weight), ModelFormat.XGBOOST));
  }

  private ModelVersion onnxVersion(int version) throws Exception {
    return registered(version, TestModels.artifact(TestModels.writeOnnx(artifacts),
        ModelFormat.ONNX));
  }

  /** v1 (the first of {@code versions}) the champion: its promotion, and the state listing all. */
  private static void championV1(Devstack devstack, Topics topics, List<ModelVersion> versions) {
    Kafka.send(devstack, topics.modelPromoted(), "fraud",
        promoted(1, versions.get(0).getArtifact(), T0.plusSeconds(2)));
    Kafka.send(devstack, topics.registryState(), "fraud", state(2, versions,
        alias("champion", 1, T0.plusSeconds(2))));
  }
}
