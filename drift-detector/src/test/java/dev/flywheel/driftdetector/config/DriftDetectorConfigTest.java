package dev.flywheel.driftdetector.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.events.DriftMethod;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class DriftDetectorConfigTest {

  @Test
  void shouldReadOnlyTheDriftKeyOfAModelEntryAndIgnoreOtherServicesKeys() {
    // Given a model entry with other services' keys next to drift:
    String yaml = """
        serving: {port: 8084}
        models:
          - name: fraud
            training: {executor: local, command: [python, train.py]}
            triggers: {schedule: PT24H}
            policy: {minAuc: 0.8}
            drift:
              window: {count: 2000}
              numeric: {method: psi, threshold: 0.25}
          - name: churn
            training: {executor: local}
        """;
    // When it is parsed
    DriftDetectorConfig config = DriftDetectorConfig.parse(yaml, "flywheel.yaml");
    // Then fraud gets its policy, churn and unlisted models the defaults
    DriftPolicy fraud = config.policyFor("fraud");
    assertThat(fraud.windowCount()).isEqualTo(2000);
    assertThat(fraud.numeric().methodFor(false, 50_000, fraud.smallSample()))
        .isEqualTo(DriftMethod.PSI);
    assertThat(fraud.numeric().thresholdFor(DriftMethod.PSI)).isEqualTo(0.25);
    assertThat(config.policyFor("churn")).isEqualTo(DriftPolicy.defaults());
    assertThat(config.policyFor("unknown")).isEqualTo(DriftPolicy.defaults());
  }

  @Test
  void shouldRefuseAnUnknownDriftKeyNamingTheModelTheKeyAndTheKnownOnes() {
    String yaml = """
        models:
          - name: fraud
            drift: {windowSize: 100}
        """;
    assertThatThrownBy(() -> DriftDetectorConfig.parse(yaml, "flywheel.yaml"))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("models[fraud].drift")
        .hasMessageContaining("unknown key 'windowSize'")
        .hasMessageContaining("window");
  }

  @Test
  void shouldRefuseAShareOutsideZeroToOneSayingWhatItMustBe() {
    String yaml = """
        models:
          - name: fraud
            drift: {share: 1.5}
        """;
    assertThatThrownBy(() -> DriftDetectorConfig.parse(yaml, "flywheel.yaml"))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("fraud")
        .hasMessageContaining("share is 1.5; it must be in (0, 1]");
  }

  @Test
  void shouldCloseWindowsOnlyByTimeWhenOnlyADurationIsGiven() {
    String yaml = """
        models:
          - name: fraud
            drift:
              window: {duration: PT1H, grace: PT10M}
        """;
    DriftPolicy p = DriftDetectorConfig.parse(yaml, "flywheel.yaml").policyFor("fraud");
    assertThat(p.timeWindows()).isTrue();
    assertThat(p.windowCount()).isZero();
    assertThat(p.windowDuration()).isEqualTo(Duration.ofHours(1));
    assertThat(p.grace()).isEqualTo(Duration.ofMinutes(10));
  }

  @Test
  void shouldRefuseAWindowDurationShorterThanAMillisecond() {
    // Given TIME windows of a tenth of a millisecond (windows are cut in milliseconds)
    String yaml = """
        models:
          - name: fraud
            drift:
              window: {duration: PT0.0001S}
        """;
    // When the file is read, Then it is refused, naming the key and the least duration
    assertThatThrownBy(() -> DriftDetectorConfig.parse(yaml, "flywheel.yaml"))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("models[fraud].drift.window.duration is PT0.0001S")
        .hasMessageContaining("at least PT0.001S");
  }

  @Test
  void shouldHoldTenThousandPredictionsPerModelUnlessConfigured() {
    // Given one file without the setting and one with it
    DriftDetectorConfig defaults = DriftDetectorConfig.parse("models: []", "flywheel.yaml");
    DriftDetectorConfig set = DriftDetectorConfig.parse("""
        driftDetector: {maxHeldPredictions: 250}
        """, "flywheel.yaml");
    // Then the default is 10,000 and the setting is read
    assertThat(defaults.maxHeldPredictions()).isEqualTo(10_000);
    assertThat(set.maxHeldPredictions()).isEqualTo(250);
  }

  @Test
  void shouldRefuseAMaxHeldPredictionsBelowOneSayingWhatItMustBe() {
    String yaml = """
        driftDetector: {maxHeldPredictions: 0}
        """;
    assertThatThrownBy(() -> DriftDetectorConfig.parse(yaml, "flywheel.yaml"))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("driftDetector.maxHeldPredictions is 0; it must be at least 1");
  }
}
