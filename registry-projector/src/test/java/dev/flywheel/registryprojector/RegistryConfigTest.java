package dev.flywheel.registryprojector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RegistryConfigTest {

  @Test
  void shouldReadPoliciesAndIgnoreOtherSectionsAndKeys() {
    RegistryConfig config = RegistryConfig.parse("""
        sources: [{name: card-tx, schema: tx.avsc, key: card_id, time: ts}]
        registry:
          promotionAliases: [champion, production, live]
        models:
          - name: fraud-detector
            training: {trainer: xgboost, every: 1d}
            triggers: [{drift: true}]
            policy:
              gates: ["auc >= 0.75", "log_loss < 0.4"]
              beatChampion: {metric: auc, margin: 0.01}
              approvals: {production: [risk-approver, cro]}
              autoPromote: [champion]
          - name: churn
        """);

    ModelPolicy fraud = config.policy("fraud-detector");
    assertThat(fraud.gates()).containsExactly(new MetricGate("auc", ">=", 0.75),
        new MetricGate("log_loss", "<", 0.4));
    assertThat(fraud.beatChampion()).isEqualTo(new ChampionGate("auc", 0.01, false, null));
    assertThat(fraud.approverRoles("production")).isEqualTo(Set.of("risk-approver", "cro"));
    assertThat(fraud.autoPromote()).containsExactly("champion");
    assertThat(fraud.promotionAliases()).containsExactly("champion", "production", "live");
    assertThat(config.policy("churn").gates()).isEmpty();
    assertThat(config.policy("never-configured").promotionAliases())
        .containsExactly("champion", "production", "live");
  }

  @Test
  void shouldDefaultToChampionAndProductionAsPromotionAliases() {
    RegistryConfig config = RegistryConfig.parse("ingest: {port: 8080}\n");

    assertThat(config.promotionAliases()).containsExactly("champion", "production");
    assertThat(config.applicationId()).isEqualTo(RegistryConfig.DEFAULT_APPLICATION_ID);
    assertThat(config.policies()).isEqualTo(Map.of());
  }

  @Test
  void shouldReadStateVersionsAndKeepEverySettingUnderAnotherApplicationId() {
    // Given a registry section with stateVersions, and a described model
    RegistryConfig config = RegistryConfig.parse("""
        registry: {stateVersions: 20}
        models:
          - name: fraud-detector
            description: Scores card payments for fraud
        """);

    // When the platform runs it under its own application id
    RegistryConfig own = config.withApplicationId("flywheel-dev-registry");

    // Then the description and stateVersions are kept
    assertThat(config.stateVersions()).isEqualTo(20);
    assertThat(own.applicationId()).isEqualTo("flywheel-dev-registry");
    assertThat(own.description("fraud-detector")).isEqualTo("Scores card payments for fraud");
    assertThat(own.stateVersions()).isEqualTo(20);
    assertThat(RegistryConfig.defaults().stateVersions()).isEqualTo(100);
  }

  @Test
  void shouldRefuseAStateVersionsBelowOne() {
    assertThatThrownBy(() -> RegistryConfig.parse("registry: {stateVersions: 0}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("registry.stateVersions must be a whole number of at least 1 (default 100),"
            + " got 0");
  }

  @Test
  void shouldRefuseAMisspeltPolicyKeyNamingTheKnownOnes() {
    assertThatThrownBy(() -> RegistryConfig.parse("""
        models:
          - name: fraud-detector
            policy: {gate: ["auc >= 0.75"]}
        """))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("models[fraud-detector].policy has an unknown key 'gate'; the known keys are"
            + " [approvals, autoPromote, beatChampion, gates, promotionAliases]");
  }

  @Test
  void shouldRefuseAGateThatIsNotAComparison() {
    assertThatThrownBy(() -> RegistryConfig.parse("""
        models:
          - name: fraud-detector
            policy: {gates: ["auc is high"]}
        """))
        .hasMessageContaining("models[fraud-detector].policy.gates: gate 'auc is high' is not of"
            + " the form '<metric> <op> <number>'");
  }

  @Test
  void shouldRefuseAutoPromotionToAnAliasThatIsNotAPromotionAlias() {
    assertThatThrownBy(() -> RegistryConfig.parse("""
        models:
          - name: fraud-detector
            policy: {autoPromote: [staging]}
        """))
        .hasMessageContaining("autoPromote names 'staging', which is not a promotion alias"
            + " [champion, production]");
  }

  @Test
  void shouldRefuseAnApprovalWithoutRoles() {
    assertThatThrownBy(() -> RegistryConfig.parse("""
        models:
          - name: fraud-detector
            policy: {approvals: {production: []}}
        """))
        .hasMessageContaining("approvals.production lists no role");
  }

  @Test
  void shouldCompareMetricsAsTheGateSays() {
    MetricGate gate = MetricGate.parse("log_loss <= 0.4");

    assertThat(gate.passes(Map.of("log_loss", 0.4))).isTrue();
    assertThat(gate.passes(Map.of("log_loss", 0.41))).isFalse();
    assertThat(gate.passes(Map.of("auc", 0.9))).isFalse();
    assertThat(gate.toString()).isEqualTo("log_loss <= 0.4");
    assertThat(List.of(MetricGate.parse("auc>0.5").higherIsBetter(), gate.higherIsBetter()))
        .containsExactly(true, false);
  }

  @Test
  void shouldBeatALossChampionOnlyByGoingLower() {
    ChampionGate gate = new ChampionGate("rmse", 0.5, true, null);

    assertThat(gate.beats(9.4, 10.0)).isTrue();
    assertThat(gate.beats(9.6, 10.0)).isFalse();
  }

  @Test
  void shouldReadAModelsDescriptionAndRefuseOneThatIsNotText() {
    RegistryConfig config = RegistryConfig.parse("""
        models:
          - name: fraud
            description: "  Scores card payments for fraud  "
          - name: churn
        """);
    assertThat(config.description("fraud")).isEqualTo("Scores card payments for fraud");
    assertThat(config.description("churn")).isNull();
    assertThatThrownBy(() -> RegistryConfig.parse("""
        models:
          - name: fraud
            description: {text: nope}
        """)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("models[fraud].description must be text");
  }
}
