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
  void shouldAcceptAModelWithoutFeatureGroupOrTrainingKeysAsTrainedOutsideFlywheel() {
    // Given a model trained elsewhere, declared for the registry and drift only (with the target
    // ingest checks labels against), beside one Flywheel trains
    String yaml = """
        models:
          - name: fraud
            featureGroup: card_activity
          - name: vendor-scorer
            target: is_fraud
            policy: {gates: ["auc >= 0.7"]}
            drift: {numeric: {method: psi}}
          - name: bare
        """;
    // When
    TrainingTriggerConfig c = TrainingTriggerConfig.parse(yaml, "flywheel.yaml");
    // Then the config loads, the two are external and not among the models Flywheel trains
    assertThat(c.models().keySet()).containsExactly("fraud");
    assertThat(c.externalModels()).containsExactly("vendor-scorer", "bare");
    assertThat(c.isExternal("vendor-scorer")).isTrue();
    assertThat(c.isExternal("fraud")).isFalse();
    assertThat(c.model("vendor-scorer")).isEmpty();
    // And a new service section keeps them
    assertThat(c.withService(TrainingTriggerConfig.Service.defaults()).externalModels())
        .containsExactly("vendor-scorer", "bare");
  }

  @Test
  void shouldStillRequireAFeatureGroupOfAModelThatNamesAnythingAboutTraining() {
    // Given entries with training settings but no feature group
    String training = """
        models:
          - name: fraud
            training: {params: {max_depth: 4}}
        """;
    String several = """
        models:
          - name: churn
            task: regression
            triggers: {newLabels: 10}
        """;
    // Then each is refused, naming the key to add and the keys that make it a trained model
    assertThatThrownBy(() -> TrainingTriggerConfig.parse(training, "f.yaml"))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("f.yaml: models[fraud].featureGroup is missing")
        .hasMessageContaining("featureGroup: card_activity")
        .hasMessageContaining("the entry names training");
    assertThatThrownBy(() -> TrainingTriggerConfig.parse(several, "f.yaml"))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("models[churn].featureGroup is missing")
        .hasMessageContaining("the entry names triggers, task")
        .hasMessageContaining("remove them instead");
    // And so is a blank feature group, even alone
    assertThatThrownBy(() -> TrainingTriggerConfig.parse(
            "models: [{name: fraud, featureGroup: ' '}]", "f.yaml"))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("models[fraud].featureGroup is blank");
  }

  @Test
  void shouldRefuseAModelDeclaredTwiceEvenWhenOneEntryIsExternal() {
    assertThatThrownBy(() -> TrainingTriggerConfig.parse("""
            models:
              - name: fraud
                featureGroup: card_activity
              - name: fraud
            """, "f.yaml"))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("model 'fraud' is declared twice");
  }

  @Test
  void shouldReadPeriodsInDaysAndWeeksAndRefuseMonths() {
    assertThat(TimeSpans.parse("x", "P1W")).isEqualTo(Duration.ofDays(7));
    assertThat(TimeSpans.parse("x", "PT30M")).isEqualTo(Duration.ofMinutes(30));
    assertThatThrownBy(() -> TimeSpans.parse("x", "P1M"))
        .hasMessageContaining("months and years have no fixed length");
  }
}
