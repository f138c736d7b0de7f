package dev.flywheel.platform.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.driftdetector.config.DriftDetectorConfig;
import dev.flywheel.registryprojector.RegistryConfig;
import dev.flywheel.text.KeyHints;
import dev.flywheel.trainingtrigger.config.TrainingTriggerConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.yaml.snakeyaml.Yaml;

class ConfigKeysTest {

  private static final PlatformConfig CLUSTER = PlatformConfig.defaults()
      .withCluster("127.0.0.1:1", "http://127.0.0.1:2");
  /** The repository root: the module's tests run in platform/. */
  private static final Path ROOT = Path.of("").toAbsolutePath().getParent();

  @Test
  void shouldRefuseAMisspeltPolicyOfAModelNamingTheFileThePathTheKnownKeysAndTheFix() {
    // Given a model whose registry policy is misspelt, so no service would read it
    String yaml = """
        models:
          - name: fraud
            featureGroup: card_activity
            polcy:
              gates: ["auc >= 0.7"]
        """;

    // Then building the catalogue fails before anything starts, naming the file, where the key
    // is, the key it is close to and every key a model entry may have
    assertThatThrownBy(() -> ServiceCatalog.builder().yaml(yaml).configName("bad.yaml")
        .config(CLUSTER).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("bad.yaml: unknown key 'polcy' at models[0].polcy (model 'fraud');"
            + " did you mean 'policy'?")
        .hasMessageContaining("; the keys of a model entry are [")
        .hasMessageContaining("featureGroup")
        .hasMessageContaining("drift")
        .hasMessageContaining("triggers");
  }

  @Test
  void shouldRefuseAMisspeltTargetRatherThanLearnTheDefaultLabel() {
    // Given the second model's target misspelt
    String yaml = """
        models:
          - name: ok
            featureGroup: g
            target: is_fraud
          - name: churn
            featureGroup: g
            taget: churned
            training: {trainer: logistic_regression}
        """;

    // Then the check names the second entry and suggests target
    assertThatThrownBy(() -> ConfigKeys.check(yaml, "flywheel.yaml"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("flywheel.yaml: unknown key 'taget' at models[1].taget (model"
            + " 'churn'); did you mean 'target'?");
  }

  @Test
  void shouldRefuseAMisspeltSectionInsteadOfSkippingItsService() {
    // Given a servingSink section spelt in the wrong case
    String yaml = """
        servingsink:
          startFrom: earliest
        """;

    // Then the catalogue fails (it used to skip serving with a note) and suggests servingSink
    assertThatThrownBy(() -> ServiceCatalog.builder().yaml(yaml).config(CLUSTER).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("flywheel.yaml: unknown top-level section 'servingsink'; did you"
            + " mean 'servingSink'?; the sections are [")
        .hasMessageContaining("featureGroups")
        .hasMessageContaining("security")
        .hasMessageContaining("kafka");
  }

  @Test
  void shouldSuggestNothingWhenNoKnownKeyIsClose() {
    // Given a top-level section like no known one
    String yaml = "observability: {}\n";

    // Then it is refused with the known sections and no guess
    assertThatThrownBy(() -> ConfigKeys.check(yaml, "flywheel.yaml"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("flywheel.yaml: unknown top-level section 'observability'; the"
            + " sections are [")
        .hasMessageNotContaining("did you mean");
  }

  @Test
  void shouldSayAModelKeyAtTheTopLevelBelongsUnderAModel() {
    // Given a drift policy dedented out of its model entry
    String yaml = """
        models:
          - name: fraud
        drift:
          numeric: {method: psi}
        """;

    // Then the message says where the key belongs
    assertThatThrownBy(() -> ConfigKeys.check(yaml, "flywheel.yaml"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown top-level section 'drift'")
        .hasMessageContaining("'drift' is a key of a models: entry; indent it under one");
  }

  @Test
  void shouldListEveryUnknownKeyAtOnce() {
    // Given a misspelt section and two misspelt model keys
    String yaml = """
        trainingTriger: {concurrency: 1}
        models:
          - name: a
            polcy: {}
          - name: b
            drfit: {}
        """;

    // Then one error names all three, each on its own line
    assertThatThrownBy(() -> ConfigKeys.check(yaml, "f.yaml"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("f.yaml has 3 unknown keys:\n  ")
        .hasMessageContaining("'trainingTriger'; did you mean 'trainingTrigger'?")
        .hasMessageContaining("models[0].polcy (model 'a'); did you mean 'policy'?")
        .hasMessageContaining("models[1].drfit (model 'b'); did you mean 'drift'?");
  }

  @Test
  void shouldKnowEveryKeyTheServicesReadFromTheirConfigClasses() {
    // Then the known keys include those the services' config classes bind, and the platform's own
    // (contains, not containsExactly: a key a service gains is known without editing this test)
    assertThat(ConfigKeys.SECTIONS).contains("kafka", "http", "stateDir",
        "security", "registry", "models", "sources", "ingest", "cdc", "featureGroups",
        "servingSink", "trainingTrigger", "driftDetector");
    assertThat(ConfigKeys.MODEL_KEYS).contains("name", "featureGroup", "target",
        "task", "features", "training", "triggers", "policy", "drift");
    assertThat(ConfigKeys.MODEL_KEYS).containsAll(TrainingTriggerConfig.MODEL_KEYS)
        .containsAll(RegistryConfig.MODEL_KEYS).containsAll(DriftDetectorConfig.MODEL_KEYS);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("misspeltNestedKeys")
  void shouldLeaveKeysInsideAModelsObjectsToTheServiceThatRefusesThem(String key, String yaml) {
    // Given a misspelt key inside a model's policy, drift, training or triggers: this check
    // passes it on, so this guards that the owning service refuses it (the README says so)
    assertThatCode(() -> ConfigKeys.check(yaml, "flywheel.yaml")).doesNotThrowAnyException();

    // Then building the catalogue fails naming the key
    assertThatThrownBy(() -> ServiceCatalog.builder().yaml(yaml).config(CLUSTER).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("flywheel.yaml: ")
        .hasMessageContaining("'" + key + "'");
  }

  static Stream<Arguments> misspeltNestedKeys() {
    String model = "models:\n  - name: fraud\n    featureGroup: g\n";
    return Stream.of(
        Arguments.of("gatez", model + "    policy: {gatez: []}\n"),
        Arguments.of("minSample", model + "    drift: {minSample: 10}\n"),
        Arguments.of("trainr", model + "    training: {trainr: logistic_regression}\n"),
        Arguments.of("newLabel", model + "    triggers: {newLabel: 100}\n"));
  }

  @Test
  void shouldAcceptAnEmptyFileAndLeaveMalformedModelsToTheServices() {
    // Then an empty file, and models that are not a list of mappings, pass this check
    assertThatCode(() -> ConfigKeys.check("", "f.yaml")).doesNotThrowAnyException();
    assertThatCode(() -> ConfigKeys.check("models: fraud\n", "f.yaml"))
        .doesNotThrowAnyException();
    assertThatCode(() -> ConfigKeys.check("models: [fraud]\n", "f.yaml"))
        .doesNotThrowAnyException();
  }

  @Test
  void shouldSuggestOnlyCloseSections() {
    assertThat(KeyHints.closest("features", ConfigKeys.SECTIONS)).isEmpty();
    assertThat(KeyHints.closest("featureGroup", ConfigKeys.SECTIONS)).contains("featureGroups");
  }

  static Stream<String> shippedConfigs() {
    return Stream.of("platform demo resource", "examples/fraud/flywheel.yaml",
        "deploy/flywheel.yaml", "deploy/k8s/config.yaml");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("shippedConfigs")
  void shouldAcceptEveryFlywheelYamlShippedInTheRepository(String name) throws IOException {
    // Given a flywheel.yaml the repository ships
    String yaml = shipped(name);

    // Then it has no key the services do not read
    assertThat(yaml).contains("models:");
    assertThatCode(() -> ConfigKeys.check(yaml, name)).doesNotThrowAnyException();
  }

  private static String shipped(String name) throws IOException {
    if (name.equals("platform demo resource")) {
      try (InputStream in = ConfigKeysTest.class.getResourceAsStream("/demo/flywheel.yaml")) {
        assertThat(in).as("/demo/flywheel.yaml").isNotNull();
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
    }
    String text = Files.readString(ROOT.resolve(name));
    if (!name.endsWith("k8s/config.yaml")) {
      return text;
    }
    for (Object doc : new Yaml().loadAll(text)) {
      if (doc instanceof Map<?, ?> m && m.get("data") instanceof Map<?, ?> data
          && data.get("flywheel.yaml") instanceof String flywheel) {
        return flywheel;
      }
    }
    throw new AssertionError(name + " has no ConfigMap with a flywheel.yaml");
  }
}
