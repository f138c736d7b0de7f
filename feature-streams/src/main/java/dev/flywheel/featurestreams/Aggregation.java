package dev.flywheel.featurestreams;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** What a feature computes over the events of its window. Written in YAML in snake_case. */
public enum Aggregation {
  /** Number of events (with {@code field}: events where the field is not null). */
  COUNT(false, false),
  /** Sum of a numeric field; 0 over an empty window. */
  SUM(true, true),
  /** Arithmetic mean of a numeric field; undefined (null) over an empty window. */
  MEAN(true, true),
  /** Smallest value of a numeric field; null over an empty window. */
  MIN(true, true),
  /** Largest value of a numeric field; null over an empty window. */
  MAX(true, true),
  /** Population standard deviation of a numeric field; null over an empty window. */
  STDDEV(true, true),
  /** Value of the field in the latest event by event time (ties: the later arrival). */
  LAST(true, false),
  /** Value of the field in the earliest event by event time (ties: the earlier arrival). */
  FIRST(true, false),
  /** Number of distinct values: exact up to the group's bound, then a HyperLogLog estimate. */
  DISTINCT_COUNT(true, false),
  /** Seconds since the entity's previous event (before this one), null when there is none. */
  TIME_SINCE_LAST(false, false),
  /** {@code numerator / denominator} of two other features of the group; null when undefined. */
  RATIO(false, false);

  private final boolean needsField;
  private final boolean numericOnly;

  Aggregation(boolean needsField, boolean numericOnly) {
    this.needsField = needsField;
    this.numericOnly = numericOnly;
  }

  /** Whether a {@code field} is required. */
  public boolean needsField() {
    return needsField;
  }

  /** Whether the field must be numeric ({@code int}, {@code long}, {@code float}, {@code double}). */
  public boolean numericOnly() {
    return numericOnly;
  }

  /** The YAML spelling, e.g. {@code distinct_count}. */
  public String yamlName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * The aggregation spelled {@code text} (case-insensitive, {@code -} or {@code _}).
   *
   * @throws IllegalArgumentException listing the known names when there is none
   */
  public static Aggregation parse(String text) {
    if (text != null) {
      String norm = text.trim().toUpperCase(Locale.ROOT).replace('-', '_');
      if (norm.equals("AVG") || norm.equals("AVERAGE")) {
        return MEAN;
      }
      if (norm.equals("STD") || norm.equals("STDEV")) {
        return STDDEV;
      }
      for (Aggregation a : values()) {
        if (a.name().equals(norm)) {
          return a;
        }
      }
    }
    throw new IllegalArgumentException("unknown aggregation '" + text + "'; use one of "
        + Arrays.stream(values()).map(Aggregation::yamlName).collect(Collectors.joining(", ")));
  }
}
