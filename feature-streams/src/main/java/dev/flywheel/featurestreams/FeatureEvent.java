package dev.flywheel.featurestreams;

import java.util.Objects;

/**
 * One source event as the feature engine sees it: the entity, the event id and time, the values
 * of the fields the group reads (a number for numeric fields, see {@link #number}; the text of the
 * others; null when absent), which of the group's filters it passes, where it was read, and its
 * original bytes (for the dead-letter topic should it arrive too late).
 *
 * @param entity the entity id
 * @param eventId the event id
 * @param timeMs event time, epoch milliseconds
 * @param values per field slot of the plan: Double, Long (see {@link #number}), String or null
 * @param filterBits bit {@code i} set when the event passes filter {@code i} of the plan
 * @param topic the source topic
 * @param partition the source partition
 * @param offset the source offset
 * @param rawKey the original key bytes; may be null
 * @param rawValue the original value bytes; may be null
 */
public record FeatureEvent(String entity, String eventId, long timeMs, Object[] values,
    long filterBits, String topic, int partition, long offset, byte[] rawKey, byte[] rawValue) {

  /** Checks the required components. */
  public FeatureEvent {
    Objects.requireNonNull(entity, "entity");
    Objects.requireNonNull(eventId, "eventId");
    Objects.requireNonNull(values, "values");
    Objects.requireNonNull(topic, "topic");
  }

  /**
   * The value of a numeric field as events hold it: a Double, but for an int or long value a
   * double cannot hold exactly (beyond 2^53, such as 64-bit ids), the Long itself, so that
   * distinct counts and filters tell apart values a double would merge. Each value has one form:
   * a long a double holds exactly is that Double, which is what events and distinct hashes held
   * it as before longs were kept (so state written then still means the same). Arithmetic
   * aggregations take every value as a double.
   */
  static Object number(Number n) {
    if (n instanceof Long || n instanceof Integer) {
      long v = n.longValue();
      double d = v;
      return d < 0x1p63 && (long) d == v ? (Object) d : (Object) v;
    }
    return n.doubleValue();
  }

  /** Whether the event passes filter {@code filter} ({@code -1}: no filter). */
  boolean passes(int filter) {
    return filter < 0 || (filterBits & (1L << filter)) != 0;
  }
}
