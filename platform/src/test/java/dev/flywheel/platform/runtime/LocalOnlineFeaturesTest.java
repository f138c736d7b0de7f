package dev.flywheel.platform.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.featurestreams.lookup.FeatureLookup;
import dev.flywheel.featurestreams.lookup.LookupGroup;
import dev.flywheel.servingsink.http.OnlineFeatures;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.streams.state.HostInfo;
import org.junit.jupiter.api.Test;

class LocalOnlineFeaturesTest {

  private static final LookupGroup CARD = new LookupGroup("card_spend", "card_spend-online",
      List.of("tx_count_1h", "amount_sum_1h"), Map.of("tx_count_1h", 0.0),
      Map.of("last_country", "unknown"));

  /** A lookup whose Kafka Streams instance has not been created yet. */
  private static FeatureLookup notRunning() {
    return new FeatureLookup(() -> null, new HostInfo("127.0.0.1", 8080), List.of(CARD),
        Duration.ofSeconds(1));
  }

  @Test
  void shouldNameADeclaredGroupsFeaturesNumericAndCategoricalWithoutAskingTheStore() {
    // Given the engine's lookup, not yet running
    OnlineFeatures online = new LocalOnlineFeatures(LocalOnlineFeaturesTest::notRunning,
        Duration.ofSeconds(1));

    // Then a declared group's names come from its declaration, an unknown group has none
    assertThat(online.featureNames("card_spend"))
        .contains(Set.of("tx_count_1h", "amount_sum_1h", "last_country"));
    assertThat(online.featureNames("nope")).isEqualTo(Optional.empty());
  }

  @Test
  void shouldAnswerAnUnknownGroupAsServingExpectsSoPredictCanSay404() {
    OnlineFeatures online = new LocalOnlineFeatures(LocalOnlineFeaturesTest::notRunning,
        Duration.ofSeconds(1));

    assertThatThrownBy(() -> online.fetch("nope", List.of("card-1")))
        .isInstanceOf(OnlineFeatures.UnknownGroupException.class)
        .hasMessageContaining("card_spend");
  }

  @Test
  void shouldAnswerUnavailableWhileTheEngineIsNotRunning() {
    // Given a lookup whose streams are not created, and no lookup at all
    OnlineFeatures starting = new LocalOnlineFeatures(LocalOnlineFeaturesTest::notRunning,
        Duration.ofSeconds(1));
    OnlineFeatures notStarted = new LocalOnlineFeatures(() -> null, Duration.ofSeconds(1));

    // Then both answer unavailable (503 with a retry), never a wrong value
    assertThatThrownBy(() -> starting.fetch("card_spend", List.of("card-1")))
        .isInstanceOf(OnlineFeatures.FeaturesUnavailableException.class)
        .hasMessageContaining("not started");
    assertThatThrownBy(() -> notStarted.fetch("card_spend", List.of("card-1")))
        .isInstanceOf(OnlineFeatures.FeaturesUnavailableException.class)
        .hasMessageContaining("has not started");
  }
}
