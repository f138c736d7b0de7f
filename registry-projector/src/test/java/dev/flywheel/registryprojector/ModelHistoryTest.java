package dev.flywheel.registryprojector;

import static dev.flywheel.registryprojector.Fixtures.MODEL;
import static dev.flywheel.registryprojector.Fixtures.T0;
import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.events.BaselineProfile;
import dev.flywheel.events.FeatureKind;
import dev.flywheel.events.FeatureProfile;
import dev.flywheel.events.Histogram;
import dev.flywheel.events.ModelEvent;
import dev.flywheel.events.RegisterVersion;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The history holds every event of the audit log in memory; a registration's baseline profile is
 * most of its size, and the history answers show only its summary. So the history keeps only the
 * summary, and answers as if it held the whole profile.
 */
class ModelHistoryTest {

  @TempDir Path stateDir;

  /** A profile as training computes it: numeric features binned, a categorical one counted. */
  static BaselineProfile richBaseline() {
    List<FeatureProfile> features = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      List<Double> cuts = new ArrayList<>();
      List<Long> counts = new ArrayList<>();
      for (int b = 0; b < 10; b++) {
        cuts.add(b * 10.0 + i);
        counts.add(100L + b);
      }
      counts.add(7L);
      features.add(FeatureProfile.newBuilder().setName("f" + i).setKind(FeatureKind.NUMERIC)
          .setCount(1000).setMissingCount(3).setMean(42.0).setStd(7.0).setMin(0.0)
          .setMax(99.0).setHistogram(Histogram.newBuilder().setCutPoints(cuts)
              .setCounts(counts).build()).build());
    }
    features.add(FeatureProfile.newBuilder().setName("country").setKind(FeatureKind.CATEGORICAL)
        .setCount(1000).setCategoryCounts(Map.of("DE", 400L, "FR", 300L, "NL", 200L))
        .setOtherCount(100).build());
    return BaselineProfile.newBuilder().setSampleCount(1000).setComputedAt(T0)
        .setFeatures(features).setScore(features.get(0)).build();
  }

  @Test
  void shouldHoldABaselineAsItsSummaryAndAnswerAsWithTheWholeProfile() {
    // Given a registration with a whole baseline profile, decided by the registry
    List<ModelEvent> events;
    try (RegistryDriver driver = new RegistryDriver(RegistryConfig.defaults(), stateDir)) {
      RegisterVersion registration = Fixtures.registration("v1", 0.8);
      registration.setBaseline(richBaseline());
      events = driver.send(Fixtures.command(registration));
    }

    // When the history reads it from the audit log
    ModelHistory history = new ModelHistory();
    events.forEach(history::add);

    // Then it holds the baseline without its histograms and category counts
    ModelEvent held = history.history(MODEL, null).get(0);
    BaselineProfile kept = ((RegisterVersion) held.getCommand()).getBaseline();
    assertThat(kept.getFeatures()).hasSize(21).allSatisfy(f -> {
      assertThat(f.getHistogram()).isNull();
      assertThat(f.getCategoryCounts()).isEmpty();
    });
    assertThat(kept.getScore()).isNotNull();
    // and every answer about the event and the state is the one the whole profile gives
    assertThat(RegistryJson.event(held)).isEqualTo(RegistryJson.event(events.get(0)));
    assertThat(history.stateAt(MODEL, null).orElseThrow().getVersions().get(0).getHasBaseline())
        .isTrue();
    // and the event it was given is left as it was
    assertThat(((RegisterVersion) events.get(0).getCommand()).getBaseline()).isEqualTo(
        richBaseline());
  }
}
