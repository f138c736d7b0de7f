package dev.flywheel.servingsink;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** How servingSink: in flywheel.yaml is read, and what a mistake in it is told. */
class ServingSinkConfigTest {

  @Test
  void shouldNameAMisspeltKeyWhereItIsAndTheKeysThatAreKnown() {
    // Given a servingSink section with startFrom misspelt
    String yaml = """
        servingSink:
          startFrm: earliest
        """;

    // When it is read, Then the error names the key, where it is and the keys there are, without
    // the class behind them
    assertThatThrownBy(() -> ServingSinkConfig.parse(yaml))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown key 'startFrm' at servingSink.startFrm")
        .hasMessageContaining("known keys: [")
        .hasMessageContaining("startFrom")
        .hasMessageNotContaining("class dev.flywheel");
  }
}
