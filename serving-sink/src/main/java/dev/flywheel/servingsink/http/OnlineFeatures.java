package dev.flywheel.servingsink.http;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** The online feature store as {@code POST /predict} sees it: features of entities by group. */
public interface OnlineFeatures {

  /**
   * One entity's features.
   *
   * @param found true when the store holds the entity; false when the values are the group's
   *     defaults
   * @param eventId id of the last source event reflected, or null
   * @param asOfMillis event time the values are as of, or null
   * @param features numeric features by name (null = undefined)
   * @param categorical categorical features by name
   */
  record Row(String entity, boolean found, String eventId, Long asOfMillis,
      Map<String, Double> features, Map<String, String> categorical) {}

  /**
   * The features of each entity, in the order asked.
   *
   * @throws UnknownGroupException when the store has no such group
   * @throws FeaturesUnavailableException when the store cannot answer now
   */
  List<Row> fetch(String group, List<String> entities);

  /**
   * The names of the group's features, or empty when the store has no such group.
   *
   * @throws FeaturesUnavailableException when the store cannot answer now
   */
  Optional<Set<String>> featureNames(String group);

  /** The store has no such group. */
  final class UnknownGroupException extends RuntimeException {
    public UnknownGroupException(String message) {
      super(message);
    }
  }

  /** The store could not answer (unreachable, rebalancing, an error). */
  final class FeaturesUnavailableException extends RuntimeException {
    public FeaturesUnavailableException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
