package dev.flywheel.servingsink.model;

import dev.flywheel.events.ModelArtifact;
import dev.flywheel.events.ModelFormat;
import dev.flywheel.events.ModelSignature;
import dev.flywheel.events.ModelTask;
import java.util.List;

/**
 * A served model whose runtime scores nothing, so that the platform's deploy tests can make
 * serving-sink register the meters it registers for a real model ({@link ServedModel}'s
 * constructor belongs to this package).
 */
public final class ServedModelsForMeters {

  private ServedModelsForMeters() {}

  /** {@code model@alias v<version>} with one input. */
  public static ServedModel servedModel(String model, String alias, int version) {
    ModelSpec spec = new ModelSpec(model, alias, version,
        ModelArtifact.newBuilder().setUri("file:///dev/null").setSha256("0".repeat(64))
            .setFormat(ModelFormat.XGBOOST).build(),
        ModelSignature.newBuilder().setFeatureNames(List.of("amount"))
            .setTask(ModelTask.BINARY_CLASSIFICATION).build(),
        "deploy-test");
    return new ServedModel(spec, new Scorer() {
      @Override
      public int inputCount() {
        return 1;
      }

      @Override
      public double[] score(float[] values, int rows, int columns) {
        return new double[rows];
      }

      @Override
      public void close() {}
    });
  }
}
