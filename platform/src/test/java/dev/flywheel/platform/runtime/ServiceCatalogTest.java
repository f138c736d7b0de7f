package dev.flywheel.platform.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.trainingtrigger.config.TrainingTriggerConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ServiceCatalogTest {


  private static final PlatformConfig CLUSTER = PlatformConfig.defaults()
      .withCluster("127.0.0.1:1", "http://127.0.0.1:2");

  @Test
  void shouldConfigureEveryServiceInStartOrderWhenEverySectionIsPresent() {
    // Given a flywheel.yaml with a section for every service
    ServiceCatalog catalog = ServiceCatalog.builder().yaml(ServiceCatalogFixtures.EVERY_SERVICE)
        .config(CLUSTER).build();

    // Then every service is configured, in start order, and none skipped
    assertThat(catalog.configured())
        .containsExactly("registry", "ingest", "features", "serving", "training", "drift");
    assertThat(catalog.skipped()).isEmpty();
  }

  @Test
  void shouldSkipEveryServiceOfAnEmptyFileSayingWhichSectionWouldEnableIt() {
    // Given an empty flywheel.yaml
    ServiceCatalog catalog = ServiceCatalog.builder().yaml("").config(CLUSTER).build();

    // When its services are added to a runtime
    List<String> notes = catalog.addAll(FlywheelRuntime.builder());

    // Then none runs, and each skipped one names its section
    assertThat(catalog.configured()).isEmpty();
    assertThat(notes).hasSize(6)
        .contains("features: skipped, flywheel.yaml has no featureGroups section")
        .contains("serving: skipped, flywheel.yaml has no servingSink section")
        .contains("drift: skipped, flywheel.yaml has no driftDetector section and no model with"
            + " drift");
  }

  @Test
  void shouldRunTrainingAndDriftOnlyForModelsThatDeclareThem() {
    // Given one model with a registry policy only
    String yaml = """
        models:
          - name: fraud
            policy: {gates: ["auc >= 0.7"]}
        """;

    // When the catalogue reads it
    ServiceCatalog catalog = ServiceCatalog.builder().yaml(yaml).config(CLUSTER).build();

    // Then the registry runs, training and drift do not
    assertThat(catalog.configured()).containsExactly("registry");
    assertThat(catalog.skipped()).containsKeys("training", "drift", "ingest");
  }

  @Test
  void shouldNameTheServiceWhoseSectionIsInvalidBeforeAnythingStarts() {
    // Given a servingSink section with a misspelt key
    String yaml = "servingSink:\n  startFrm: earliest\n";

    // Then building the catalogue fails naming the file, the service, the key with its section
    // and the keys the section knows, in the user's words rather than the parser's
    assertThatThrownBy(() -> ServiceCatalog.builder().yaml(yaml).config(CLUSTER).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("flywheel.yaml: serving: unknown key 'startFrm' at"
            + " servingSink.startFrm; known keys: [")
        .hasMessageContaining("startFrom")
        .hasMessageContaining("maxBatch")
        .hasMessageNotContaining("dev.flywheel")
        .hasMessageNotContaining("class");
  }

  @Test
  void shouldNameTheFileItWasGivenInEveryServicesErrors() {
    // Given a file named bad.yaml with a misspelt key in a model's training section
    String yaml = """
        models:
          - name: fraud
            featureGroup: card_spend
            target: is_fraud
            training: {trainer: xgboost, paramz: {num_round: 10}}
        """;

    // Then the error names bad.yaml once, the service and the key, not flywheel.yaml
    assertThatThrownBy(() -> ServiceCatalog.builder().yaml(yaml).configName("bad.yaml")
        .config(CLUSTER).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("bad.yaml: training: ")
        .hasMessageContaining("paramz")
        .hasMessageNotContaining("flywheel.yaml")
        .satisfies(e -> assertThat(e.getMessage().split("bad\\.yaml", -1)).hasSize(2));
  }

  @Test
  void shouldRefuseToRunAServiceTheFileDoesNotConfigureSayingWhichSectionWould() {
    // Given a file without feature groups
    ServiceCatalog catalog = ServiceCatalog.builder().yaml("servingSink: {}\n").config(CLUSTER)
        .build();

    // Then 'run features' is refused with the section to add, and an unknown name lists the names
    assertThatThrownBy(() -> catalog.add(FlywheelRuntime.builder(), "features"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("featureGroups");
    assertThatThrownBy(() -> catalog.add(FlywheelRuntime.builder(), "scoring"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("registry, ingest, features, serving, training, drift");
  }

  @Test
  void shouldRefuseAConfigThatNamesNoCluster() {
    assertThatThrownBy(() -> ServiceCatalog.builder().yaml("").config(PlatformConfig.defaults())
        .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("withCluster");
  }

  @Test
  void shouldResolvePortZeroToAFreePortBeforeTheServicesLearnTheirAddress() {
    // Given HTTP on port 0
    ServiceCatalog catalog = ServiceCatalog.builder().yaml("").config(CLUSTER.withHttpPort(0))
        .build();

    // Then the catalogue picked a real port, which the runtime will listen on
    assertThat(catalog.httpPort()).isBetween(1, 65535);
  }

  @Test
  void shouldPrefixDefaultApplicationIdsWithTheTopicPrefixButKeepConfiguredOnes() {
    // Given services on prefixed topics
    ServiceContext context = new ServiceContext("", Path.of("."), Map.of(), "b:1", "http://r",
        null, null, Path.of("state"), "acme", "127.0.0.1:8080", null);

    // Then a default application id gets the prefix, a configured one is kept
    assertThat(context.applicationId("flywheel-drift-detector", "flywheel-drift-detector"))
        .isEqualTo("acme.flywheel-drift-detector");
    assertThat(context.applicationId("my-drift", "flywheel-drift-detector"))
        .isEqualTo("my-drift");
    assertThat(context.stateDir("drift")).isEqualTo(Path.of("state", "drift"));
  }

  @Test
  void shouldKeepTrainingFilesLeftAtTheirDefaultsInTheScratchFolderWhenThereIsOne() {
    // Given the platform run with a scratch folder (flywheel up --temporary)
    Path scratch = Path.of("/tmp/flywheel-up-1");
    ServiceContext context = new ServiceContext("", Path.of("."), Map.of(), "b:1", "http://r",
        null, null, scratch.resolve("state"), null, "127.0.0.1:8080", scratch);
    TrainingTriggerConfig.Service defaults = TrainingTriggerConfig.Service.defaults();

    // When training's settings are left at their defaults, or name their own artifact folder
    TrainingTriggerConfig.Service defaulted = TrainingPlatformService.service(defaults, context);
    TrainingTriggerConfig.Service ownArtifacts = TrainingPlatformService.service(
        new TrainingTriggerConfig.Service(defaults.applicationId(), defaults.stateDir(),
            Path.of("/models"), defaults.workDir(), 1, defaults.tick()), context);

    // Then the defaults move into the scratch folder, and a configured folder is kept
    assertThat(defaulted.stateDir()).isEqualTo(scratch.resolve("state").resolve("training"));
    assertThat(defaulted.artifactDir()).isEqualTo(scratch.resolve("artifacts"));
    assertThat(defaulted.workDir()).isEqualTo(scratch.resolve("training"));
    assertThat(ownArtifacts.artifactDir()).isEqualTo(Path.of("/models"));
    assertThat(ownArtifacts.workDir()).isEqualTo(scratch.resolve("training"));
  }

  @Test
  void shouldKeepTrainingFilesUnderTheWorkingDirectoryWithoutAScratchFolder() {
    // Given the platform run without a scratch folder (flywheel up, flywheel run)
    ServiceContext context = new ServiceContext("", Path.of("."), Map.of(), "b:1", "http://r",
        null, null, Path.of("state"), null, "127.0.0.1:8080", null);
    TrainingTriggerConfig.Service defaults = TrainingTriggerConfig.Service.defaults();

    // When training's settings are left at their defaults
    TrainingTriggerConfig.Service service = TrainingPlatformService.service(defaults, context);

    // Then its artifacts and work files stay where the defaults say
    assertThat(service.artifactDir()).isEqualTo(defaults.artifactDir());
    assertThat(service.workDir()).isEqualTo(defaults.workDir());
  }
}
