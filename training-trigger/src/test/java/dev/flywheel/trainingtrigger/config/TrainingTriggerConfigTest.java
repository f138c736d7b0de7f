package dev.flywheel.trainingtrigger.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class TrainingTriggerConfigTest {

  @Test
  void shouldIgnoreOtherSectionsAndOtherServicesKeysOfAModelEntry() {
    // Given
    String yaml = """
        sources: [{name: tx}]
        models:
          - name: fraud
            featureGroup: card_activity
            policy: {minAuc: 0.8, approval: required}
        """;
    // When
    TrainingTriggerConfig c = TrainingTriggerConfig.parse(yaml, "flywheel.yaml");
    // Then defaults apply
    ModelSpec m = c.model("fraud").orElseThrow();
    assertThat(m.target()).isEqualTo("label");
    assertThat(m.triggers().drift()).isTrue();
    assertThat(m.triggers().maxAttempts()).isEqualTo(3);
    assertThat(m.training().executor().kind()).isEqualTo(ExecutorSpec.Kind.LOCAL);
  }

  @Test
  void shouldNameAMisspeltTriggerKey() {
    String yaml = """
        models:
          - name: fraud
            featureGroup: card_activity
            triggers: {newLables: 10}
        """;
    assertThatThrownBy(() -> TrainingTriggerConfig.parse(yaml, "flywheel.yaml"))
        .isInstanceOf(InvalidConfigException.class).hasMessageContaining("newLables")
        .hasMessageContaining("newLabels");
  }

  @Test
  void shouldExplainAScheduleThatIsNotAnIsoSpan() {
    String yaml = """
        models:
          - name: fraud
            featureGroup: card_activity
            triggers: {schedule: daily}
        """;
    assertThatThrownBy(() -> TrainingTriggerConfig.parse(yaml, "flywheel.yaml"))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("models[fraud].triggers.schedule is 'daily'")
        .hasMessageContaining("P1D");
  }

  @Test
  void shouldRequireAnImageForTheKubernetesExecutor() {
    String yaml = """
        models:
          - name: fraud
            featureGroup: card_activity
            training: {executor: {kind: kubernetes}}
        """;
    assertThatThrownBy(() -> TrainingTriggerConfig.parse(yaml, "flywheel.yaml"))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("models[fraud].training.executor.image is missing");
  }

  @Test
  void shouldRequireAFeatureGroup() {
    assertThatThrownBy(() -> TrainingTriggerConfig.parse("models: [{name: fraud}]", "f.yaml"))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("models[fraud].featureGroup is missing");
  }

  @Test
  void shouldReadPeriodsInDaysAndWeeksAndRefuseMonths() {
    assertThat(TimeSpans.parse("x", "P1W")).isEqualTo(Duration.ofDays(7));
    assertThat(TimeSpans.parse("x", "PT30M")).isEqualTo(Duration.ofMinutes(30));
    assertThatThrownBy(() -> TimeSpans.parse("x", "P1M"))
        .hasMessageContaining("months and years have no fixed length");
  }
}
