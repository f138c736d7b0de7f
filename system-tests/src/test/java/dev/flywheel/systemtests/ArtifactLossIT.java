package dev.flywheel.systemtests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.events.ModelArtifact;
import dev.flywheel.events.Prediction;
import dev.flywheel.events.RegistryCommand;
import dev.flywheel.events.ReportServingFailure;
import dev.flywheel.events.ServingCheck;
import dev.flywheel.servingsink.ServingSinkConfig;
import dev.flywheel.servingsink.ServingSinkService;
import dev.flywheel.servingsink.model.ServedModels;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The champion's artifact deleted or corrupted after its promotion, and serving restarted:
 * serving falls back to the previous promoted version, scores every vector with it, and reports
 * the refusal (a {@code ReportServingFailure} command to the registry, the refusals counter and
 * the served-version gauge).
 */
@WithDevstack
class ArtifactLossIT {

  private static final int VECTORS = 200;

  /** What happens to v2's file while serving is down. */
  enum Damage {
    DELETED(ServingCheck.LOAD_FAILED),
    CORRUPTED(ServingCheck.DIGEST_MISMATCH);

    final ServingCheck check;

    Damage(ServingCheck check) {
      this.check = check;
    }
  }

  @TempDir Path dir;

  @ParameterizedTest
  @EnumSource(Damage.class)
  void shouldServeThePreviousVersionWhenThePromotedArtifactIsDamagedAndServingRestarts(
      Damage damage, Devstack devstack, UniqueNames names) throws Exception {
    // Given v1 then v2 promoted, and serving scoring with v2
    Loop loop = new Loop(devstack, names, dir).createTopics();
    ModelArtifact v1 = loop.writeModel(dir.resolve("v1"), 1);
    ModelArtifact v2 = loop.writeModel(dir.resolve("v2"), 2);
    loop.send(loop.topics.modelPromoted(), Loop.MODEL, loop.promoted(1, v1));
    loop.send(loop.topics.modelPromoted(), Loop.MODEL, loop.promoted(2, v2));
    ServingSinkConfig config = ServingSinkConfig.load(loop.servingYaml("a"));
    try (ServingSinkService serving = start(loop, config, new SimpleMeterRegistry())) {
      assertThat(champion(serving)).isEqualTo(2);
      produceVectors(loop, 0, VECTORS);
      await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(200))
          .until(() -> loop.readCommitted(loop.topics.predictions()).size() >= VECTORS);
    }

    // When v2's file is deleted or corrupted while serving is down, and serving starts again
    Path file = Path.of(URI.create(v2.getUri()));
    if (damage == Damage.DELETED) {
      Files.delete(file);
    } else {
      byte[] garbage = new byte[(int) Files.size(file)];
      new Random(7).nextBytes(garbage);
      Files.write(file, garbage);
    }
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    try (ServingSinkService restarted = start(loop, config, meters)) {
      // Then it serves v1, and says so on its version gauge
      assertThat(champion(restarted)).isEqualTo(1);
      assertThat(meters.get("flywheel.serving.version").tag("model", Loop.MODEL)
          .tag("alias", "champion").gauge().value()).isEqualTo(1.0);
      // and counts the refusal of v2 with the check that failed
      assertThat(meters.get("flywheel.serving.refusals").tag("model", Loop.MODEL)
          .tag("check", damage.check.name()).counter().count()).isEqualTo(1.0);
      // and scores every new vector with v1
      produceVectors(loop, VECTORS, VECTORS);
      await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(200))
          .until(() -> loop.readCommitted(loop.topics.predictions()).size() >= 2 * VECTORS);
      List<Prediction> predictions = loop.readCommitted(loop.topics.predictions());
      assertThat(predictions).hasSize(2 * VECTORS);
      assertThat(predictions.stream().filter(p -> index(p) < VECTORS)).hasSize(VECTORS)
          .allSatisfy(p -> assertThat(p.getVersion()).isEqualTo(2));
      assertThat(predictions.stream().filter(p -> index(p) >= VECTORS)).hasSize(VECTORS)
          .allSatisfy(p -> assertThat(p.getVersion()).isEqualTo(1));
    }
    // and the registry is told that v2 failed that check
    List<RegistryCommand> commands = loop.readCommitted(loop.topics.registryCommands());
    assertThat(commands).anySatisfy(c -> {
      assertThat(c.getModel()).isEqualTo(Loop.MODEL);
      assertThat(c.getCommand()).isInstanceOf(ReportServingFailure.class);
      ReportServingFailure failure = (ReportServingFailure) c.getCommand();
      assertThat(failure.getVersion()).isEqualTo(2);
      assertThat(failure.getCheck()).isEqualTo(damage.check);
    });
  }

  private static ServingSinkService start(Loop loop, ServingSinkConfig config,
      SimpleMeterRegistry meters) {
    return ServingSinkService.builder().config(config)
        .kafka(Map.of("bootstrap.servers", loop.devstack.bootstrapServers()))
        .kafka(Loop.FAST_GROUP).topics(loop.topics).meters(meters).build().start();
  }

  private static int index(Prediction p) {
    return Integer.parseInt(p.getEventId().substring("v-".length()));
  }

  private static int champion(ServingSinkService serving) {
    return serving.served().get(new ServedModels.Key(Loop.MODEL, "champion")).version();
  }

  private static void produceVectors(Loop loop, int from, int count) {
    loop.produceVectors(from, count);
  }
}
