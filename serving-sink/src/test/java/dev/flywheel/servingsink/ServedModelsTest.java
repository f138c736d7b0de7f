package dev.flywheel.servingsink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.events.ModelFormat;
import dev.flywheel.servingsink.model.FeatureGroups;
import dev.flywheel.servingsink.model.ModelLoader;
import dev.flywheel.servingsink.model.ModelSpec;
import dev.flywheel.servingsink.model.ServedModel;
import dev.flywheel.servingsink.model.ServedModels;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServedModelsTest {

  @TempDir
  Path dir;

  private ServedModel load(int version, long seed) throws Exception {
    Path file = TestModels.writeXgboost(dir, seed, 1.0);
    return new ModelLoader(FeatureGroups.of(Map.of(TestModels.GROUP, TestModels.FEATURES)))
        .load(new ModelSpec("fraud", "champion", version,
            TestModels.artifact(file, ModelFormat.XGBOOST),
            TestModels.signature(TestModels.FEATURES), "p" + version));
  }

  @Test
  void shouldKeepAReplacedModelOpenUntilItsLastScorerLetsGo() throws Exception {
    // Given v1 served and held by a scorer
    ServedModels served = new ServedModels();
    served.install(load(1, 1));
    ServedModel held = served.acquire("fraud", "champion").orElseThrow();

    // When v2 is swapped in
    served.install(load(2, 2));

    // Then new readers get v2, while the holder still scores with v1
    ServedModel now = served.acquire("fraud", "champion").orElseThrow();
    assertThat(now.version()).isEqualTo(2);
    assertThat(held.released()).isFalse();
    assertThat(held.score(List.of(Map.of("amount", 1.0)))).hasSize(1);

    // and v1 closes once released
    held.release();
    assertThat(held.released()).isTrue();
    now.release();
    served.close();
    assertThat(now.released()).isTrue();
  }

  @Test
  void shouldServeNothingForAnUnknownAlias() {
    assertThat(new ServedModels().acquire("fraud", "challenger")).isEmpty();
  }
}
