package dev.flywheel.featurestreams.lookup;

import dev.flywheel.events.FeatureVector;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** Feature vectors for tests. */
final class Vectors {

  private Vectors() {}

  /** A vector of {@code group} for {@code entity} as of {@code asOf}, with {@code count}. */
  static FeatureVector vector(String group, String entity, String eventId, Instant asOf,
      double count, Double mean) {
    Map<String, Double> features = new LinkedHashMap<>();
    features.put("mean", mean);
    features.put("count", count);
    return FeatureVector.newBuilder()
        .setEventId(eventId)
        .setEventTime(asOf)
        .setEntityId(entity)
        .setFeatureGroup(group)
        .setFeatures(features)
        .setCategoricalFeatures(Map.of("last_country", "FR"))
        .setAsOf(asOf)
        .build();
  }
}
