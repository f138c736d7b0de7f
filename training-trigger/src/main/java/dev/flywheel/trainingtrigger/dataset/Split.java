package dev.flywheel.trainingtrigger.dataset;

/**
 * One split of a dataset, dense and ordered by event time: row {@code i} has id {@code
 * eventIds[i]}, time {@code eventTimesMs[i]}, label {@code labels[i]}, numeric features {@code
 * x[i * featureCount .. (i + 1) * featureCount)} ({@code NaN} = missing) and categorical values
 * {@code categorical[i]} (null = missing).
 *
 * @param eventIds ids of the labelled events
 * @param eventTimesMs their event times, ascending
 * @param labels the label values
 * @param x numeric features, row-major
 * @param featureCount numeric features per row
 * @param categorical categorical features per row
 */
public record Split(String[] eventIds, long[] eventTimesMs, float[] labels, float[] x,
    int featureCount, String[][] categorical) {

  /** Rows in the split. */
  public int rows() {
    return eventIds.length;
  }

  /** Numeric feature {@code f} of row {@code i}; NaN when missing. */
  public float value(int i, int f) {
    return x[i * featureCount + f];
  }

  /** Earliest event time. */
  public long startMs() {
    return eventTimesMs[0];
  }

  /** Latest event time. */
  public long endMs() {
    return eventTimesMs[eventTimesMs.length - 1];
  }
}
