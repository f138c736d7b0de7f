package dev.flywheel.featurestreams.lookup;

import dev.flywheel.featurestreams.FeatureGroupConfig;
import dev.flywheel.featurestreams.FeatureStreamsConfig;
import dev.flywheel.featurestreams.FeatureTopology;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What the lookup needs to know about one feature group: its name, the online store that holds
 * the latest {@code FeatureVector} per entity, its features in declared order, and the values an
 * entity the store does not hold is answered with.
 *
 * @param name the feature group's name, e.g. {@code card_activity}; the {@code {group}} of the
 *     lookup paths
 * @param storeName the key-value store (key: entity id, value: the latest {@code FeatureVector})
 * @param features the numeric feature names in declared order; answers list them in this order
 * @param defaults the numeric values of an unknown entity by feature name; a null value means
 *     undefined. Never null; copied, order kept
 * @param categoricalDefaults the categorical values of an unknown entity; never null
 */
public record LookupGroup(String name, String storeName, List<String> features,
    Map<String, Double> defaults, Map<String, String> categoricalDefaults) {

  /** Copies the collections; fills in empty defaults. */
  public LookupGroup {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(storeName, "storeName");
    features = features == null ? List.of() : List.copyOf(features);
    defaults = Collections.unmodifiableMap(defaults == null ? new LinkedHashMap<>()
        : new LinkedHashMap<>(defaults));
    categoricalDefaults = Collections.unmodifiableMap(categoricalDefaults == null
        ? new LinkedHashMap<>() : new LinkedHashMap<>(categoricalDefaults));
    if (name.isBlank() || name.contains("/")) {
      throw new IllegalArgumentException("feature group name '" + name
          + "' cannot be used in a lookup path; use a non-blank name without '/'");
    }
  }

  /**
   * The lookup view of a declared group: its online store {@link
   * FeatureTopology#onlineStoreName(String)}, its features in declared order, its numeric and
   * categorical defaults.
   */
  public static LookupGroup of(FeatureGroupConfig group) {
    return new LookupGroup(group.name(), FeatureTopology.onlineStoreName(group.name()),
        group.featureNames(), group.numericDefaults(), group.categoricalDefaults());
  }

  /** The lookup view of every group of {@code config}, in declared order. */
  public static List<LookupGroup> of(FeatureStreamsConfig config) {
    return config.featureGroups().stream().map(LookupGroup::of).toList();
  }

  /**
   * The numeric answer for an unknown entity: every declared feature, in order, with its default
   * (null where none is declared), then any default of an undeclared name.
   */
  public Map<String, Double> defaultFeatures() {
    Map<String, Double> values = new LinkedHashMap<>();
    for (String feature : features) {
      values.put(feature, defaults.get(feature));
    }
    for (Map.Entry<String, Double> d : defaults.entrySet()) {
      values.putIfAbsent(d.getKey(), d.getValue());
    }
    return Collections.unmodifiableMap(values);
  }

  /**
   * {@code values} in declared order: declared features first (a declared feature missing from
   * {@code values} is left out), then the others in their own order.
   */
  Map<String, Double> inDeclaredOrder(Map<String, Double> values) {
    if (features.isEmpty()) {
      return Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }
    Map<String, Double> ordered = new LinkedHashMap<>();
    for (String feature : features) {
      if (values.containsKey(feature)) {
        ordered.put(feature, values.get(feature));
      }
    }
    List<String> rest = new ArrayList<>();
    for (String key : values.keySet()) {
      if (!ordered.containsKey(key)) {
        rest.add(key);
      }
    }
    for (String key : rest) {
      ordered.put(key, values.get(key));
    }
    return Collections.unmodifiableMap(ordered);
  }
}
