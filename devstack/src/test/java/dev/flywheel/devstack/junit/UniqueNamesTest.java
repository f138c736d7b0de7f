package dev.flywheel.devstack.junit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class UniqueNamesTest {

  @Test
  void shouldGiveDifferentPrefixesToTestsWithTheSameName() {
    UniqueNames first = UniqueNames.of("shouldRoute");
    UniqueNames second = UniqueNames.of("shouldRoute");

    assertThat(first.prefix()).isNotEqualTo(second.prefix());
    assertThat(first.topic("in")).isNotEqualTo(second.topic("in"));
  }

  @Test
  void shouldBuildNamesFromThePrefixAndTheTestName() {
    UniqueNames names = UniqueNames.of("shouldRoute");

    assertThat(names.prefix()).matches("t\\d+-shouldRoute");
    assertThat(names.topic("in")).isEqualTo(names.prefix() + ".in");
    assertThat(names.groupId("g")).isEqualTo(names.prefix() + ".g");
    assertThat(names.applicationId("app")).isEqualTo(names.prefix() + ".app");
    assertThat(names.subject("in-value")).isEqualTo(names.prefix() + ".in-value");
  }

  @Test
  void shouldDropCharactersKafkaRejectsAndShortenLongLabels() {
    UniqueNames names = UniqueNames.of("should [work] with spaces/and ü" + "x".repeat(200));

    assertThat(names.prefix()).matches("t\\d+-shouldworkwithspacesand[x]+")
        .hasSizeLessThanOrEqualTo(72);
  }

  @Test
  void shouldFallBackToTheNumberForALabelWithoutUsableCharacters() {
    assertThat(UniqueNames.of("???").prefix()).matches("t\\d+");
  }

  @Test
  void shouldRefuseAnEmptyName() {
    assertThatThrownBy(() -> UniqueNames.of("x").topic(""))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
