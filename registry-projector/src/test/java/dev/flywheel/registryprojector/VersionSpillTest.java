package dev.flywheel.registryprojector;

import static dev.flywheel.registryprojector.Fixtures.MODEL;
import static dev.flywheel.registryprojector.Fixtures.approve;
import static dev.flywheel.registryprojector.Fixtures.archive;
import static dev.flywheel.registryprojector.Fixtures.command;
import static dev.flywheel.registryprojector.Fixtures.human;
import static dev.flywheel.registryprojector.Fixtures.promote;
import static dev.flywheel.registryprojector.Fixtures.register;
import static dev.flywheel.registryprojector.Fixtures.rejectVersion;
import static dev.flywheel.registryprojector.Fixtures.rollback;
import static dev.flywheel.registryprojector.Fixtures.setAlias;
import static dev.flywheel.registryprojector.Fixtures.tags;
import static dev.flywheel.registryprojector.Fixtures.unarchive;
import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.events.CommandOutcome;
import dev.flywheel.events.ModelEvent;
import dev.flywheel.events.ModelRegistryState;
import dev.flywheel.events.ModelVersion;
import dev.flywheel.events.RegistryCommand;
import dev.flywheel.events.ReportServingFailure;
import dev.flywheel.events.ServingCheck;
import dev.flywheel.events.VersionStatus;
import dev.flywheel.events.VersionSummary;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model's state holds its newest versions ({@code registry.stateVersions}) and its alias targets
 * in full, and lists the others by number and stage, so that a model the loop retrains for years
 * still fits one record. Commands decide the same whether the version they act on is held in
 * full or summarised.
 */
class VersionSpillTest {

  @TempDir Path spilledDir;
  @TempDir Path fullDir;
  private final List<RegistryDriver> drivers = new ArrayList<>();

  @AfterEach
  void close() {
    drivers.forEach(RegistryDriver::close);
  }

  private RegistryDriver open(RegistryConfig config, Path dir, Map<String, Object> kafka) {
    RegistryDriver d = new RegistryDriver(config, dir, kafka);
    drivers.add(d);
    return d;
  }

  @Test
  void shouldHoldTheNewestVersionsAndTheAliasTargetsInFullAndListTheOthers() {
    // Given a registry that holds a model's 3 newest versions in full
    RegistryDriver d = open(RegistryConfig.defaults().withStateVersions(3), spilledDir, Map.of());

    // When 10 versions are registered, and then the second is promoted to champion
    for (int n = 1; n <= 10; n++) {
      assertThat(d.decide(register("v" + n, 0.8)).getOutcome()).isEqualTo(CommandOutcome.ACCEPTED);
    }
    assertThat(d.decide(promote("champion", 2)).getOutcome()).isEqualTo(CommandOutcome.ACCEPTED);

    // Then the state holds the champion and the 3 newest in full, and lists the other 6
    ModelRegistryState state = d.state(MODEL);
    assertThat(state.getVersions()).extracting(ModelVersion::getVersion)
        .containsExactly(2, 8, 9, 10);
    assertThat(state.getOlderVersions()).extracting(VersionSummary::getVersion)
        .containsExactly(1, 3, 4, 5, 6, 7);
    assertThat(state.getOlderVersions()).extracting(VersionSummary::getStatus)
        .containsOnly(VersionStatus.ACTIVE);
    // and so does the record on flywheel.registry.state
    List<ModelRegistryState> published = d.states.readValuesToList();
    assertThat(published.get(published.size() - 1)).isEqualTo(state);
    // and a listed version's entry is kept whole, metrics and lineage included
    ModelVersion v5 = versions(d).get(RegistryProcessor.baselineKey(MODEL, 5));
    assertThat(v5.getMetrics()).containsEntry("auc", 0.8);
    assertThat(v5.getLineage().getRunId()).isEqualTo("run-v5");
  }

  @Test
  void shouldDecideEveryCommandAsARegistryHoldingEveryVersionInFullDoes() {
    // Given two registries with gates, approvals and auto-promotion: one holds 2 versions in
    // full, the other all of them
    RegistryConfig config = Fixtures.gatedConfig(List.of("champion", "production"));
    RegistryDriver spilled = open(config.withStateVersions(2), spilledDir, Map.of());
    RegistryDriver full = open(config.withStateVersions(100_000), fullDir, Map.of());

    // When both decide the same 600 random commands: registrations (some of a file registered
    // before), aliases set, promoted, rolled back and removed, approvals (which auto-promote to
    // production), archiving, tags, serving failures
    Random random = new Random(20261124);
    int registered = 0;
    for (int i = 0; i < 600; i++) {
      RegistryCommand c = randomCommand(random, registered);
      List<ModelEvent> a = spilled.send(c);
      List<ModelEvent> b = full.send(c);
      // Then each command's events are the same, promotions included
      assertThat(a).as("events of command %d, %s", i, c.getCommand()).isEqualTo(b);
      if (c.getCommand() instanceof dev.flywheel.events.RegisterVersion
          && a.get(0).getOutcome() == CommandOutcome.ACCEPTED) {
        registered++;
      }
      assertThat(spilled.promoted.readValuesToList()).isEqualTo(full.promoted.readValuesToList());
    }
    assertThat(registered).as("versions registered").isGreaterThan(100);
    // and the state restored from its summaries equals the state that holds every version
    ModelRegistryState state = spilled.state(MODEL);
    assertThat(state.getOlderVersions()).hasSizeGreaterThan(90);
    KeyValueStore<String, ModelVersion> versions = versions(spilled);
    VersionSpill.restoreAll(state, v -> versions.get(RegistryProcessor.baselineKey(MODEL, v)));
    ModelRegistryState expected = full.state(MODEL);
    assertThat(expected.getOlderVersions()).isEmpty();
    assertThat(state).isEqualTo(expected);
    // and every summary told the version's stage at the time
    assertThat(spilled.states.readValuesToList()).allSatisfy(s -> s.getOlderVersions().forEach(
        o -> assertThat(o.getStatus()).isIn(VersionStatus.ACTIVE, VersionStatus.ARCHIVED)));
  }

  @Test
  void shouldKeepSixTimesTheVersionsThatFitInFullUnderHalfTheLimit() {
    // Given a registry whose producer takes records of at most 64 KiB (about 50 realistic
    // versions in full), holding 10 versions in full
    int limit = 64 * 1024;
    RegistryDriver d = open(RegistryConfig.defaults().withStateVersions(10), spilledDir,
        Map.of(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, limit));

    // When the loop registers 300 realistic versions and promotes each to champion
    for (int n = 1; n <= 300; n++) {
      assertThat(d.decide(command(RegistryStateSizeTest.realistic(n))).getOutcome())
          .isEqualTo(CommandOutcome.ACCEPTED);
      assertThat(d.decide(promote("champion", n)).getOutcome())
          .isEqualTo(CommandOutcome.ACCEPTED);
    }

    // Then every registration is accepted, and every state record fits well within the limit
    ModelRegistryState state = d.state(MODEL);
    assertThat(VersionSpill.count(state)).isEqualTo(300);
    assertThat(state.getVersions()).hasSize(10);
    int bytes = encodedBytes(state);
    assertThat(bytes).isLessThan(limit / 2);
    assertThat(d.states.readValuesToList()).allSatisfy(s -> assertThat(encodedBytes(s))
        .isLessThan(limit / 2));
    System.out.printf("300 realistic versions, 10 in full: a state of %d bytes%n", bytes);
  }

  private static RegistryCommand randomCommand(Random random, int registered) {
    int v = registered == 0 ? 1 : 1 + random.nextInt(registered + 1);
    return switch (registered < 3 ? 0 : random.nextInt(10)) {
      case 0, 1, 2 -> register(random.nextInt(8) == 0 ? "v" + v : "v" + (registered + 1),
          0.7 + random.nextDouble() * 0.3);
      case 3 -> random.nextBoolean() ? promote("champion", v) : setAlias("challenger", v);
      case 4 -> random.nextBoolean() ? rollback("champion", null)
          : rollback("champion", v);
      case 5 -> random.nextBoolean() ? approve(human("risk", "risk-approver"), "production", v)
          : rejectVersion(human("risk", "risk-approver"), "production", v);
      case 6 -> random.nextBoolean() ? archive(v) : unarchive(v);
      case 7 -> tags(random.nextBoolean() ? v : null, Map.of("k" + random.nextInt(3), "x" + v),
          List.of());
      case 8 -> command(ReportServingFailure.newBuilder().setVersion(v).setAlias("champion")
          .setCheck(ServingCheck.DIGEST_MISMATCH).setMessage("sha256 mismatch").setInstance("serving-1").build());
      case 9 -> random.nextInt(3) == 0 ? Fixtures.removeAlias(
          random.nextBoolean() ? "champion" : "challenger") : promote("production", v);
      default -> throw new IllegalStateException();
    };
  }

  private static KeyValueStore<String, ModelVersion> versions(RegistryDriver d) {
    return d.driver.getKeyValueStore(RegistryTopology.VERSIONS_STORE);
  }

  private static int encodedBytes(ModelRegistryState state) {
    try {
      return state.toByteBuffer().remaining();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
