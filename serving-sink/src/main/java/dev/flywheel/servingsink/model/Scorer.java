package dev.flywheel.servingsink.model;

/**
 * A loaded model runtime: scores rows whose columns are in the model's own input order. Safe to
 * call from several threads at once; {@link #close()} releases native memory and must only be
 * called once nobody scores any more (see {@link ServedModel}).
 */
public interface Scorer extends AutoCloseable {

  /** Number of input columns the model declares, or -1 when the runtime does not say. */
  int inputCount();

  /**
   * Scores {@code rows} rows held row-major in {@code values} ({@code rows * columns} values, a
   * missing value as NaN).
   *
   * @return one score per row
   * @throws ScoringException when the runtime fails
   */
  double[] score(float[] values, int rows, int columns);

  /** Releases the runtime's native resources. Idempotent. */
  @Override
  void close();
}
