package dev.flywheel.servingsink;

import dev.flywheel.events.Actor;
import dev.flywheel.events.ActorKind;
import dev.flywheel.events.ModelArtifact;
import dev.flywheel.events.ModelFormat;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.ModelSignature;
import dev.flywheel.events.ModelTask;
import dev.flywheel.servingsink.model.ModelLoader;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoost;
import ml.dmlc.xgboost4j.java.XGBoostError;

/** Real model files for tests: XGBoost models trained here, and the generated ONNX fixture. */
public final class TestModels {

  /** The feature group the test models read. */
  public static final String GROUP = "card_activity";

  /** Their inputs, in the models' order. */
  public static final List<String> FEATURES = List.of("amount", "count_10m", "mean_7d",
      "velocity");

  private TestModels() {}

  /**
   * Trains a small binary XGBoost model on synthetic rows (label = amount * weight + velocity >
   * 1), deterministic for a seed.
   */
  public static Booster trainXgboost(long seed, double weight) {
    Random random = new Random(seed);
    int rows = 400;
    int cols = FEATURES.size();
    float[] data = new float[rows * cols];
    float[] labels = new float[rows];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        data[r * cols + c] = (float) (random.nextGaussian() * 2);
      }
      labels[r] = data[r * cols] * weight + data[r * cols + 3] > 1 ? 1f : 0f;
    }
    try {
      DMatrix train = new DMatrix(data, rows, cols, Float.NaN);
      train.setLabel(labels);
      Map<String, Object> params = new HashMap<>();
      params.put("objective", "binary:logistic");
      params.put("max_depth", 3);
      params.put("eta", 0.3);
      params.put("nthread", 1);
      params.put("seed", (int) seed);
      return XGBoost.train(train, params, 20, Map.of(), null, null);
    } catch (XGBoostError e) {
      throw new IllegalStateException(e);
    }
  }

  /** Writes an XGBoost model (UBJ) into {@code dir}, named by its digest. */
  public static Path writeXgboost(Path dir, long seed, double weight) {
    try {
      byte[] bytes = trainXgboost(seed, weight).toByteArray("ubj");
      return write(dir, bytes);
    } catch (XGBoostError e) {
      throw new IllegalStateException(e);
    }
  }

  /** Copies the generated ONNX fixture into {@code dir}. */
  public static Path writeOnnx(Path dir) {
    try (InputStream in = TestModels.class.getResourceAsStream("/models/logreg.onnx")) {
      return write(dir, in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes bytes to {@code dir/<sha256>}. */
  public static Path write(Path dir, byte[] bytes) {
    try {
      Files.createDirectories(dir);
      Path file = dir.resolve(ModelLoader.sha256(bytes));
      Files.write(file, bytes);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The artifact record of a file, with its true digest. */
  public static ModelArtifact artifact(Path file, ModelFormat format) {
    try {
      return ModelArtifact.newBuilder().setUri(file.toUri().toString())
          .setSha256(ModelLoader.sha256(Files.readAllBytes(file))).setFormat(format)
          .setSizeBytes(Files.size(file)).build();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A binary-classifier signature over {@code features} of {@link #GROUP}, threshold 0.5. */
  public static ModelSignature signature(List<String> features) {
    return ModelSignature.newBuilder().setFeatureNames(features).setFeatureGroup(GROUP)
        .setTask(ModelTask.BINARY_CLASSIFICATION).setDecisionThreshold(0.5).build();
  }

  /** A promotion of {@code model} v{@code version} to {@code alias}. */
  public static ModelPromoted promoted(String model, String alias, int version,
      ModelArtifact artifact, ModelSignature signature) {
    return ModelPromoted.newBuilder().setEventId(UUID.randomUUID().toString())
        .setEventTime(Instant.now()).setModel(model).setAlias(alias).setVersion(version)
        .setArtifact(artifact).setSignature(signature)
        .setActor(Actor.newBuilder().setName("test").setKind(ActorKind.HUMAN).build())
        .setCommandId("cmd-" + UUID.randomUUID()).build();
  }
}
