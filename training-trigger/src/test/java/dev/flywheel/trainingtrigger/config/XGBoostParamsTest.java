package dev.flywheel.trainingtrigger.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.devstack.junit.LogLines;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class XGBoostParamsTest {

  private static TrainingSpec training(String params) {
    return TrainingTriggerConfig.parse("""
        models:
          - name: fraud
            featureGroup: card_activity
            training:
              %s
        """.formatted(params.strip().replace("\n", "\n      ")), "flywheel.yaml").model("fraud").orElseThrow().training();
  }

  @Test
  void shouldRefuseAMisspeltParameterNamingItTheClosestParameterAndTheReference() {
    // Given max_depth misspelt, which XGBoost would ignore
    assertThatThrownBy(() -> training("params: {max_dept: 6, eta: 0.1}"))
        // Then the config does not load, and says what to write instead
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("models[fraud].training.params has a key that is not an XGBoost"
            + " parameter: 'max_dept' (did you mean 'max_depth'?)")
        .hasMessageContaining("https://xgboost.readthedocs.io/en/stable/parameter.html")
        .hasMessageContaining("models[fraud].training.allowUnknownParams: true");
  }

  @Test
  void shouldNameEveryUnknownParameterAndGuessNothingWhenNoneIsClose() {
    assertThatThrownBy(() -> training("params: {colsample_bytre: 0.8, frobnicate: 1}"))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("has keys that are not XGBoost parameters:"
            + " 'colsample_bytre' (did you mean 'colsample_bytree'?), 'frobnicate'.");
  }

  @Test
  void shouldAcceptDocumentedParametersTheirAliasesAndFlywheelsRounds() {
    // Given parameters of every section of XGBoost's parameter reference, aliases included
    TrainingSpec t = training("""
        params:
            num_round: 200
            eta: 0.1
            learning_rate: 0.1
            gamma: 0
            min_split_loss: 0
            lambda: 1
            reg_lambda: 1
            alpha: 0
            reg_alpha: 0
            max_depth: 6
            min_child_weight: 1
            tree_method: hist
            max_bin: 256
            grow_policy: lossguide
            max_cached_hist_node: 65536
            max_cat_to_onehot: 4
            max_cat_threshold: 64
            multi_strategy: one_output_per_tree
            device: cpu
            nthread: 4
            seed: 0
            verbosity: 0
            validate_parameters: true
            disable_default_eval_metric: true
            eval_metric: auc
            objective: "reg:tweedie"
            tweedie_variance_power: 1.5
            huber_slope: 1.0
            quantile_alpha: 0.5
            aft_loss_distribution: normal
            lambdarank_pair_method: topk
            ndcg_exp_gain: true
            rate_drop: 0.1
            feature_selector: cyclic
        """);
    // Then the config loads with them all
    assertThat(t.params()).hasSize(34).containsEntry("max_depth", "6")
        .containsEntry("learning_rate", "0.1").containsEntry("num_round", "200");
    assertThat(t.allowUnknownParams()).isFalse();
  }

  @Test
  void shouldPassAnUnknownParameterWithAWarningWhenTheModelAllowsThem() {
    // Given a parameter newer than Flywheel's list, and the escape hatch
    try (LogLines log = LogLines.of(TrainingSpec.class)) {
      TrainingSpec t = training("""
          params: {max_depth: 6, brand_new_param: 3}
          allowUnknownParams: true
          """);
      // Then it loads, keeping the parameter, with a warning that names it
      assertThat(t.params()).containsEntry("brand_new_param", "3");
      assertThat(t.allowUnknownParams()).isTrue();
      assertThat(t.unknownParams(Map.of("another_new", "1"))).isEmpty();
      assertThat(log.contain("'brand_new_param'")).isTrue();
      assertThat(log.contain("allowUnknownParams is true")).isTrue();
    }
  }

  @Test
  void shouldNotCheckTheParametersOfTheUsersOwnTrainer() {
    // Given a command executor, whose script takes any parameter
    TrainingSpec t = training("""
        trainer: torch-mlp
        params: {hidden_layers: 3, lr: 0.01}
        executor: {kind: command, command: [python, train.py]}
        """);
    // Then they are not checked, at load or as overrides
    assertThat(t.params()).containsKeys("hidden_layers", "lr");
    assertThat(t.unknownParams(Map.of("dropout", "0.2"))).isEmpty();
  }

  @Test
  void shouldFindUnknownOverridesOfTheBuiltInTrainer() {
    TrainingSpec t = training("params: {max_depth: 6}");
    assertThat(t.unknownParams(Map.of("max_depth", "8", "max_dept", "8")))
        .containsExactly("max_dept");
  }

  @Test
  void shouldKeepTheDocumentedParametersOneSortedListWithoutDuplicates() {
    List<String> sorted = new ArrayList<>(XGBoostParams.DOCUMENTED);
    sorted.sort(null);
    assertThat(XGBoostParams.DOCUMENTED).isEqualTo(sorted).doesNotHaveDuplicates()
        .doesNotContain(XGBoostParams.NUM_ROUND);
    assertThat(XGBoostParams.KNOWN).containsAll(XGBoostParams.DOCUMENTED)
        .contains(XGBoostParams.NUM_ROUND);
  }
}
