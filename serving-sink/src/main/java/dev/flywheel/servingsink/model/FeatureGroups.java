package dev.flywheel.servingsink.model;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The features each feature group provides, which a model's signature is checked against before
 * it is served.
 */
@FunctionalInterface
public interface FeatureGroups {

  /**
   * The names the group provides, numeric and categorical, or empty when the group is unknown.
   *
   * @throws UnavailableException when the source cannot answer now (no answer, busy, failing):
   *     asking again later may succeed
   * @throws RuntimeException any other when the source answered with an error that asking again
   *     will not change (e.g. it rejects the request)
   */
  Optional<Set<String>> features(String group);

  /** The source of the answer cannot answer now; asking again later may succeed. */
  class UnavailableException extends RuntimeException {
    public UnavailableException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** The groups of a fixed map (e.g. {@code servingSink.featureGroups} of flywheel.yaml). */
  static FeatureGroups of(Map<String, ? extends java.util.Collection<String>> groups) {
    Map<String, Set<String>> copy = new java.util.HashMap<>();
    groups.forEach((k, v) -> copy.put(k, Set.copyOf(v)));
    return group -> Optional.ofNullable(copy.get(group));
  }

  /** The first answer of {@code sources}, asked in order. */
  static FeatureGroups firstOf(List<FeatureGroups> sources) {
    List<FeatureGroups> copy = List.copyOf(sources);
    return group -> {
      RuntimeException failure = null;
      for (FeatureGroups source : copy) {
        try {
          Optional<Set<String>> found = source.features(group);
          if (found.isPresent()) {
            return found;
          }
        } catch (RuntimeException e) {
          failure = e;
        }
      }
      if (failure != null) {
        throw failure;
      }
      return Optional.empty();
    };
  }
}
