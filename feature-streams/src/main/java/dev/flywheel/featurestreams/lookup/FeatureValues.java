package dev.flywheel.featurestreams.lookup;

import dev.flywheel.events.FeatureVector;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The answer of one lookup: the features of one entity of one group, as of an event time.
 *
 * @param group the feature group
 * @param entity the entity id
 * @param found true when the online store holds the entity; false when the values are the
 *     group's declared defaults
 * @param asOf event time up to which the entity's events are reflected in the values; null when
 *     not found
 * @param eventId id of the last source event reflected in the values; null when not found
 * @param features numeric features by name in declared order; a null value means undefined
 * @param categoricalFeatures categorical features by name; a null value means undefined
 * @param servedBy the {@code host:port} of the instance whose store answered; null when unknown
 */
public record FeatureValues(String group, String entity, boolean found, Instant asOf,
    String eventId, Map<String, Double> features, Map<String, String> categoricalFeatures,
    String servedBy) {

  /** Copies the maps (keeping their order); null maps become empty. */
  public FeatureValues {
    Objects.requireNonNull(group, "group");
    Objects.requireNonNull(entity, "entity");
    features = Collections.unmodifiableMap(features == null ? new LinkedHashMap<>()
        : new LinkedHashMap<>(features));
    categoricalFeatures = Collections.unmodifiableMap(categoricalFeatures == null
        ? new LinkedHashMap<>() : new LinkedHashMap<>(categoricalFeatures));
  }

  /** The answer for an entity the store holds, from its latest vector. */
  static FeatureValues of(LookupGroup group, String entity, FeatureVector vector,
      String servedBy) {
    Map<String, String> categorical = vector.getCategoricalFeatures() == null ? Map.of()
        : vector.getCategoricalFeatures();
    return new FeatureValues(group.name(), entity, true, vector.getAsOf(), vector.getEventId(),
        group.inDeclaredOrder(vector.getFeatures()), categorical, servedBy);
  }

  /** The answer for an entity the store does not hold: the group's defaults. */
  static FeatureValues defaults(LookupGroup group, String entity, String servedBy) {
    return new FeatureValues(group.name(), entity, false, null, null, group.defaultFeatures(),
        group.categoricalDefaults(), servedBy);
  }
}
