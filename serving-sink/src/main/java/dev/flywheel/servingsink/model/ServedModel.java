package dev.flywheel.servingsink.model;

import dev.flywheel.events.ModelTask;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A verified, warmed-up model version ready to score: the runtime, and the mapping from feature
 * names to the model's input columns (by name, never by position).
 *
 * <p>Lifetime is reference counted so that a swap never closes a runtime under a request: the
 * slot that serves it holds one reference, every scorer {@link #tryAcquire() acquires} one for
 * the time it scores, and the runtime closes when the last one is released after the slot
 * {@link #retire() retired} it.
 */
public final class ServedModel {

  private final ModelSpec spec;
  private final Scorer scorer;
  private final List<String> inputs;
  private final AtomicInteger references = new AtomicInteger(1);

  ServedModel(ModelSpec spec, Scorer scorer) {
    this.spec = spec;
    this.scorer = scorer;
    this.inputs = List.copyOf(spec.signature().getFeatureNames());
  }

  public ModelSpec spec() {
    return spec;
  }

  public String model() {
    return spec.model();
  }

  public String alias() {
    return spec.alias();
  }

  public int version() {
    return spec.version();
  }

  /** The feature group whose vectors it scores. */
  public String featureGroup() {
    return spec.signature().getFeatureGroup();
  }

  /** The model's inputs, in the model's order. */
  public List<String> inputs() {
    return inputs;
  }

  /** The decision threshold of a binary classifier, or null when it makes no decision. */
  public Double threshold() {
    return spec.signature().getTask() == ModelTask.BINARY_CLASSIFICATION
        ? spec.signature().getDecisionThreshold() : null;
  }

  /** {@code score >= threshold}, or null without a threshold. */
  public Boolean decide(double score) {
    Double t = threshold();
    return t == null ? null : score >= t;
  }

  /**
   * Scores rows of named numeric features: each model input is read by name from its row; a
   * missing name or a null value is undefined (NaN, the runtimes' missing value).
   *
   * @throws ScoringException when the runtime fails
   */
  public double[] score(List<? extends Map<String, Double>> rows) {
    int columns = inputs.size();
    float[] values = new float[rows.size() * columns];
    for (int r = 0; r < rows.size(); r++) {
      Map<String, Double> row = rows.get(r);
      for (int c = 0; c < columns; c++) {
        Double v = row.get(inputs.get(c));
        values[r * columns + c] = v == null ? Float.NaN : v.floatValue();
      }
    }
    return scoreColumns(values, rows.size());
  }

  /** Scores rows already in the model's column order. */
  public double[] scoreColumns(float[] values, int rows) {
    return scorer.score(values, rows, inputs.size());
  }

  /**
   * Takes a reference for scoring; false once the model is retired and released (read the
   * current model again).
   */
  public boolean tryAcquire() {
    while (true) {
      int n = references.get();
      if (n == 0) {
        return false;
      }
      if (references.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  /** Gives back a reference taken by {@link #tryAcquire()}. */
  public void release() {
    if (references.decrementAndGet() == 0) {
      scorer.close();
    }
  }

  /** Called once by the slot that served it, when another version replaced it. */
  public void retire() {
    release();
  }

  /** Whether the runtime has been closed. */
  public boolean released() {
    return references.get() == 0;
  }

  @Override
  public String toString() {
    return spec.describe();
  }
}
