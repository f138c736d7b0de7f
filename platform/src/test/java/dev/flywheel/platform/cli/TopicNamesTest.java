package dev.flywheel.platform.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import org.junit.jupiter.api.Test;

class TopicNamesTest {

  private static final Set<String> EXISTING = Set.of("acme.flywheel.predictions",
      "acme.flywheel.model.promoted", "acme.flywheel.data.transactions", "other-topic");

  @Test
  void shouldResolveFullCatalogueAndSourceNames() {
    assertThat(TopicNames.resolve("other-topic", EXISTING, "acme.flywheel."))
        .isEqualTo("other-topic");
    assertThat(TopicNames.resolve("predictions", EXISTING, "acme.flywheel."))
        .isEqualTo("acme.flywheel.predictions");
    assertThat(TopicNames.resolve("model.promoted", EXISTING, "acme.flywheel."))
        .isEqualTo("acme.flywheel.model.promoted");
    assertThat(TopicNames.resolve("transactions", EXISTING, "acme.flywheel."))
        .isEqualTo("acme.flywheel.data.transactions");
  }

  @Test
  void shouldListTheFlywheelTopicsWhenNothingMatches() {
    assertThatThrownBy(() -> TopicNames.resolve("predictons", EXISTING, "acme.flywheel."))
        .hasMessageContaining("no topic 'predictons'")
        .hasMessageContaining("the Flywheel topics are: acme.flywheel.data.transactions,"
            + " acme.flywheel.model.promoted, acme.flywheel.predictions");
  }

  @Test
  void shouldSayToStartThePlatformWhenThereAreNoFlywheelTopics() {
    assertThatThrownBy(() -> TopicNames.resolve("predictions", Set.of("x"), "flywheel."))
        .hasMessageContaining("there are no flywheel.* topics: start flywheel up");
  }
}
