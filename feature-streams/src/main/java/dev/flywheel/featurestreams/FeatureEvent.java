package dev.flywheel.featurestreams;

import java.util.Objects;

/**
 * One source event as the feature engine sees it: the entity, the event id and time, the values
 * of the fields the group reads (a {@code Double} for numeric fields, the text of the others, null
 * when absent), which of the group's filters it passes, where it was read, and its original bytes
 * (for the dead-letter topic should it arrive too late).
 *
 * @param entity the entity id
 * @param eventId the event id
 * @param timeMs event time, epoch milliseconds
 * @param values per field slot of the plan: Double, String or null
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

  /** Whether the event passes filter {@code filter} ({@code -1}: no filter). */
  boolean passes(int filter) {
    return filter < 0 || (filterBits & (1L << filter)) != 0;
  }
}
