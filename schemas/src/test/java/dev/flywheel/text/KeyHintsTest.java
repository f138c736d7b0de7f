package dev.flywheel.text;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class KeyHintsTest {

  private static final List<String> KEYS = List.of("featureGroups", "models", "policy",
      "max_depth", "features", "entity", "eventId");

  @Test
  void shouldSuggestTheClosestKeyWithinTwoEditsOrAThirdOfItsLength() {
    assertThat(KeyHints.closest("polcy", KEYS)).contains("policy");
    assertThat(KeyHints.closest("max_dept", KEYS)).contains("max_depth");
    assertThat(KeyHints.closest("EVENTID", KEYS)).contains("eventId");
    assertThat(KeyHints.closest("featureGroup", KEYS)).contains("featureGroups");
    assertThat(KeyHints.closest("feature", KEYS)).contains("features");
  }

  @Test
  void shouldSuggestNothingWhenNoKeyIsClose() {
    assertThat(KeyHints.closest("timeout", KEYS)).isEmpty();
    assertThat(KeyHints.closest("x", List.of())).isEmpty();
    assertThat(KeyHints.didYouMean("timeout", KEYS)).isEmpty();
    assertThat(KeyHints.didYouMean("polcy", KEYS)).isEqualTo("; did you mean 'policy'?");
  }
}
