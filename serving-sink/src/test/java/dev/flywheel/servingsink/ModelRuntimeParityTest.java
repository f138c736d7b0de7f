package dev.flywheel.servingsink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flywheel.events.ModelFormat;
import dev.flywheel.servingsink.model.FeatureGroups;
import dev.flywheel.servingsink.model.ModelLoader;
import dev.flywheel.servingsink.model.ModelSpec;
import dev.flywheel.servingsink.model.ServedModel;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoost;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Served models give the scores their own runtimes give for the same inputs. */
class ModelRuntimeParityTest {

  @TempDir
  Path dir;

  private final ModelLoader loader =
      new ModelLoader(FeatureGroups.of(Map.of(TestModels.GROUP, TestModels.FEATURES)));

  /** Rows as feature maps whose iteration order is the reverse of the model's input order. */
  private static List<Map<String, Double>> reversedMaps(float[][] rows) {
    List<Map<String, Double>> maps = new ArrayList<>();
    for (float[] row : rows) {
      Map<String, Double> m = new LinkedHashMap<>();
      for (int c = TestModels.FEATURES.size() - 1; c >= 0; c--) {
        m.put(TestModels.FEATURES.get(c), (double) row[c]);
      }
      maps.add(m);
    }
    return maps;
  }

  @Test
  void shouldScoreOnnxAsOnnxRuntimeAndTheFixturesFormulaDo() throws Exception {
    // Given the generated ONNX fixture and the scores its generator computed with numpy
    Path file = TestModels.writeOnnx(dir);
    JsonNode expected = new ObjectMapper().readTree(getClass().getResource(
        "/models/logreg-expected.json"));
    float[][] rows = new float[expected.get("rows").size()][];
    for (int r = 0; r < rows.length; r++) {
      JsonNode row = expected.get("rows").get(r);
      rows[r] = new float[row.size()];
      for (int c = 0; c < row.size(); c++) {
        rows[r][c] = (float) row.get(c).asDouble();
      }
    }
    ServedModel model = loader.load(new ModelSpec("fraud", "champion", 1,
        TestModels.artifact(file, ModelFormat.ONNX), TestModels.signature(TestModels.FEATURES),
        "p1"));

    // When serving scores rows given by name, in another order than the model's
    double[] served = model.score(reversedMaps(rows));

    // Then it matches ONNX Runtime run directly on the rows in the model's order
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    float[] flat = new float[rows.length * 4];
    for (int r = 0; r < rows.length; r++) {
      System.arraycopy(rows[r], 0, flat, r * 4, 4);
    }
    try (OrtSession session = env.createSession(Files.readAllBytes(file));
        OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(flat),
            new long[] {rows.length, 4});
        OrtSession.Result result = session.run(Map.of("input", input))) {
      float[][] direct = (float[][]) result.get(0).getValue();
      for (int r = 0; r < rows.length; r++) {
        assertThat(served[r]).isEqualTo(direct[r][0]);
        // and the generator's float64 formula, to float precision
        assertThat(served[r]).isCloseTo(expected.get("scores").get(r).asDouble(), within(1e-6));
      }
    }
    model.retire();
  }

  @Test
  void shouldScoreXgboostAsXgboostPredictDoes() throws Exception {
    // Given an XGBoost model trained here and stored as UBJ
    Path file = TestModels.writeXgboost(dir, 7, 0.8);
    ServedModel model = loader.load(new ModelSpec("fraud", "champion", 1,
        TestModels.artifact(file, ModelFormat.XGBOOST), TestModels.signature(TestModels.FEATURES),
        "p1"));
    Random random = new Random(99);
    float[][] rows = new float[50][4];
    float[] flat = new float[50 * 4];
    for (int r = 0; r < 50; r++) {
      for (int c = 0; c < 4; c++) {
        rows[r][c] = (float) (random.nextGaussian() * 3);
        flat[r * 4 + c] = rows[r][c];
      }
    }

    // When serving scores them by name
    double[] served = model.score(reversedMaps(rows));

    // Then XGBoost's own DMatrix prediction on the same file gives the same scores
    Booster booster = XGBoost.loadModel(Files.readAllBytes(file));
    float[][] direct = booster.predict(new DMatrix(flat, 50, 4, Float.NaN));
    for (int r = 0; r < 50; r++) {
      assertThat(served[r]).isEqualTo(direct[r][0]);
    }
    booster.dispose();
    model.retire();
  }

  @Test
  void shouldMapInputsByNameNotByPosition() throws Exception {
    // Given the ONNX model whose signature lists its inputs in its own order
    Path file = TestModels.writeOnnx(dir);
    ServedModel model = loader.load(new ModelSpec("fraud", "champion", 1,
        TestModels.artifact(file, ModelFormat.ONNX), TestModels.signature(TestModels.FEATURES),
        "p1"));
    Map<String, Double> byName = new HashMap<>(Map.of("amount", 1.0, "count_10m", 2.0,
        "mean_7d", 3.0, "velocity", 0.5));
    Map<String, Double> swapped = new HashMap<>(Map.of("amount", 0.5, "count_10m", 3.0,
        "mean_7d", 2.0, "velocity", 1.0));

    // When two rows hold the same values under different names
    double[] scores = model.score(List.of(byName, swapped));

    // Then the names decide: the first is the fixture's row 1, the second differs
    assertThat(scores[0]).isCloseTo(0.41580948253029465, within(1e-6));
    assertThat(scores[1]).isNotCloseTo(scores[0], within(1e-3));
    model.retire();
  }
}
