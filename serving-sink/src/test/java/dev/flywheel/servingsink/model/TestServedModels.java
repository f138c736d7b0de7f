package dev.flywheel.servingsink.model;

/** Served models around a test's own {@link Scorer}, for scoring paths no real runtime fails on. */
public final class TestServedModels {

  private TestServedModels() {}

  /** What a test model does with a batch of rows: their scores, or a {@link ScoringException}. */
  @FunctionalInterface
  public interface Rows {
    double[] score(float[] values, int rows, int columns);
  }

  /** {@code spec} served by {@code scorer}, without loading or checking anything. */
  public static ServedModel of(ModelSpec spec, Scorer scorer) {
    return new ServedModel(spec, scorer);
  }

  /** {@code spec} scored by {@code rows}, over every input its signature names. */
  public static ServedModel of(ModelSpec spec, Rows rows) {
    int inputs = spec.signature().getFeatureNames().size();
    return of(spec, new Scorer() {
      @Override
      public int inputCount() {
        return inputs;
      }

      @Override
      public double[] score(float[] values, int rowCount, int columns) {
        return rows.score(values, rowCount, columns);
      }

      @Override
      public void close() {}
    });
  }
}
