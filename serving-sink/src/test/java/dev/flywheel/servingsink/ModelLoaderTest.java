package dev.flywheel.servingsink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.events.ModelArtifact;
import dev.flywheel.events.ModelFormat;
import dev.flywheel.events.ServingCheck;
import dev.flywheel.servingsink.http.OnlineFeatures;
import dev.flywheel.servingsink.model.FeatureGroups;
import dev.flywheel.servingsink.model.ModelLoader;
import dev.flywheel.servingsink.model.ModelSpec;
import dev.flywheel.servingsink.model.Refusal;
import dev.flywheel.servingsink.model.ServedModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelLoaderTest {

  @TempDir
  Path dir;

  private final ModelLoader loader =
      new ModelLoader(FeatureGroups.of(Map.of(TestModels.GROUP, TestModels.FEATURES)));

  private ModelSpec spec(ModelArtifact artifact, List<String> features) {
    return new ModelSpec("fraud", "champion", 2, artifact, TestModels.signature(features), "p2");
  }

  @Test
  void shouldLoadAVerifiedModel() throws Exception {
    Path file = TestModels.writeXgboost(dir, 1, 1.0);
    ServedModel model = loader.load(spec(TestModels.artifact(file, ModelFormat.XGBOOST),
        TestModels.FEATURES));
    assertThat(model.version()).isEqualTo(2);
    assertThat(model.inputs()).containsExactlyElementsOf(TestModels.FEATURES);
    model.retire();
    assertThat(model.released()).isTrue();
  }

  @Test
  void shouldRefuseADigestMismatch() {
    // Given an artifact whose bytes changed after registration
    Path file = TestModels.writeXgboost(dir, 1, 1.0);
    ModelArtifact artifact = TestModels.artifact(file, ModelFormat.XGBOOST);
    artifact.setSha256("0".repeat(64));
    // Then it is refused, naming both digests
    assertThatThrownBy(() -> loader.load(spec(artifact, TestModels.FEATURES)))
        .isInstanceOfSatisfying(Refusal.class, r ->
            assertThat(r.check()).isEqualTo(ServingCheck.DIGEST_MISMATCH))
        .hasMessageContaining("0".repeat(64)).hasMessageContaining("the registry expects");
  }

  @Test
  void shouldRefuseACorruptFile() {
    // Given bytes that are no model, registered with their true digest
    Path file = TestModels.write(dir, "not a model at all".getBytes());
    assertThatThrownBy(() -> loader.load(spec(TestModels.artifact(file, ModelFormat.XGBOOST),
        TestModels.FEATURES)))
        .isInstanceOfSatisfying(Refusal.class, r ->
            assertThat(r.check()).isEqualTo(ServingCheck.LOAD_FAILED))
        .hasMessageContaining("XGBoost cannot read the artifact");
    assertThatThrownBy(() -> loader.load(spec(TestModels.artifact(file, ModelFormat.ONNX),
        TestModels.FEATURES)))
        .isInstanceOfSatisfying(Refusal.class, r ->
            assertThat(r.check()).isEqualTo(ServingCheck.LOAD_FAILED));
  }

  @Test
  void shouldRefuseAMissingFile() throws Exception {
    Path file = TestModels.writeOnnx(dir);
    ModelArtifact artifact = TestModels.artifact(file, ModelFormat.ONNX);
    Files.delete(file);
    assertThatThrownBy(() -> loader.load(spec(artifact, TestModels.FEATURES)))
        .isInstanceOfSatisfying(Refusal.class, r ->
            assertThat(r.check()).isEqualTo(ServingCheck.LOAD_FAILED))
        .hasMessageContaining("does not exist");
  }

  @Test
  void shouldRefuseASignatureTheGroupCannotFeed() {
    // Given a model needing 'chargebacks_30d', which the feature group does not provide
    Path file = TestModels.writeXgboost(dir, 1, 1.0);
    List<String> needs = List.of("amount", "count_10m", "mean_7d", "chargebacks_30d");
    assertThatThrownBy(() -> loader.load(spec(TestModels.artifact(file, ModelFormat.XGBOOST),
        needs)))
        .isInstanceOfSatisfying(Refusal.class, r ->
            assertThat(r.check()).isEqualTo(ServingCheck.SIGNATURE_MISMATCH))
        .hasMessageContaining("lacks input(s) [chargebacks_30d]");
  }

  @Test
  void shouldRefuseASignatureThatLacksAModelInput() {
    // Given an ONNX model of 4 inputs registered with a signature of 3
    Path file = TestModels.writeOnnx(dir);
    assertThatThrownBy(() -> loader.load(spec(TestModels.artifact(file, ModelFormat.ONNX),
        List.of("amount", "count_10m", "mean_7d"))))
        .isInstanceOfSatisfying(Refusal.class, r ->
            assertThat(r.check()).isEqualTo(ServingCheck.SIGNATURE_MISMATCH))
        .hasMessageContaining("takes 4 input(s) but its signature names 3");
  }

  @Test
  void shouldRefuseAVersionWhoseGroupTheLookupRejects() {
    // Given a feature lookup that answers the group with an error asking again will not change
    ModelLoader rejected = new ModelLoader(group -> {
      throw new OnlineFeatures.LookupRejectedException(
          "the feature lookup at http://lookup answered 422: entity ids must be card numbers");
    });
    Path file = TestModels.writeOnnx(dir);

    // Then the version is refused for good, naming the answer and what to fix
    assertThatThrownBy(() -> rejected.load(spec(TestModels.artifact(file, ModelFormat.ONNX),
        TestModels.FEATURES)))
        .isInstanceOfSatisfying(Refusal.class, r -> {
          assertThat(r.retriable()).isFalse();
          assertThat(r.check()).isEqualTo(ServingCheck.SIGNATURE_MISMATCH);
        })
        .hasMessageContaining("fraud@champion v2").hasMessageContaining("answered 422")
        .hasMessageContaining("servingSink.featureGroups");
  }

  @Test
  void shouldOnlyDeferAVersionWhileTheLookupCannotAnswer() {
    // Given a feature lookup that does not answer now
    ModelLoader waiting = new ModelLoader(group -> {
      throw new OnlineFeatures.FeaturesUnavailableException(
          "the feature lookup at http://lookup answered 503: restoring", null);
    });
    Path file = TestModels.writeOnnx(dir);

    // Then the version is not refused: the check could not be made yet
    assertThatThrownBy(() -> waiting.load(spec(TestModels.artifact(file, ModelFormat.ONNX),
        TestModels.FEATURES)))
        .isInstanceOfSatisfying(Refusal.class, r -> assertThat(r.retriable()).isTrue())
        .hasMessageContaining("trying again");
  }

  @Test
  void shouldRefuseAnUnknownGroup() {
    Path file = TestModels.writeOnnx(dir);
    ModelSpec unknown = new ModelSpec("fraud", "champion", 2,
        TestModels.artifact(file, ModelFormat.ONNX),
        TestModels.signature(TestModels.FEATURES), "p2");
    unknown.signature().setFeatureGroup("merchant_activity");
    assertThatThrownBy(() -> loader.load(unknown))
        .isInstanceOfSatisfying(Refusal.class, r ->
            assertThat(r.check()).isEqualTo(ServingCheck.SIGNATURE_MISMATCH))
        .hasMessageContaining("servingSink.featureGroups");
  }
}
