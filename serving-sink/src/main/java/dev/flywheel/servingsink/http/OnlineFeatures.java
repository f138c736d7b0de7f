package dev.flywheel.servingsink.http;

import dev.flywheel.servingsink.model.FeatureGroups;
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
   * @throws LookupRejectedException when the store answered with an error asking again will not
   *     change
   */
  List<Row> fetch(String group, List<String> entities);

  /**
   * The names of the group's features, or empty when the store has no such group.
   *
   * @throws FeaturesUnavailableException when the store cannot answer now
   * @throws LookupRejectedException when the store answered with an error asking again will not
   *     change
   */
  Optional<Set<String>> featureNames(String group);

  /** The store has no such group. */
  final class UnknownGroupException extends RuntimeException {
    public UnknownGroupException(String message) {
      super(message);
    }
  }

  /**
   * The store could not answer now (unreachable, timed out, busy, rebalancing, a server error);
   * asking again later may succeed.
   */
  final class FeaturesUnavailableException extends FeatureGroups.UnavailableException {
    public FeaturesUnavailableException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * The store answered with an error that asking again will not change (over HTTP a 4xx other
   * than 404, 408 and 429, or an answer that is not the lookup's): it is misconfigured, or not
   * feature-streams' lookup.
   */
  final class LookupRejectedException extends RuntimeException {
    public LookupRejectedException(String message) {
      super(message);
    }
  }
}
