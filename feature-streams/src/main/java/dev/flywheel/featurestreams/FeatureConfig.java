package dev.flywheel.featurestreams;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One declared feature of a group:
 *
 * <pre>{@code
 * - name: amount_max_24h
 *   agg: max                 # count sum mean min max stddev last first distinct_count
 *                            # time_since_last ratio
 *   field: amount            # the source field; count: optional, time_since_last/ratio: none
 *   window: 24h              # 10m, 1h, 24h, 7d, ... or lifetime (the default)
 *   filter: channel == POS   # optional: field op value
 * - name: amount_to_mean_7d
 *   agg: ratio
 *   numerator: amount_last   # two other features of the group
 *   denominator: amount_mean_7d
 * }</pre>
 *
 * @param name the feature name, unique in its group
 * @param aggregation what it computes
 * @param field the source field it aggregates; null for count of events, time_since_last, ratio
 * @param window the window; lifetime when not given
 * @param filter the optional filter; null for none
 * @param numerator for ratio: the feature divided
 * @param denominator for ratio: the feature divided by
 */
public record FeatureConfig(String name, Aggregation aggregation, String field,
    FeatureWindow window, FeatureFilter filter, String numerator, String denominator) {

  /** Parses the YAML form. */
  @JsonCreator
  static FeatureConfig fromYaml(@JsonProperty("name") String name,
      @JsonProperty("agg") String agg, @JsonProperty("aggregation") String aggregation,
      @JsonProperty("field") String field, @JsonProperty("window") String window,
      @JsonProperty("filter") String filter, @JsonProperty("numerator") String numerator,
      @JsonProperty("denominator") String denominator) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("a feature has no name; give every feature a 'name'");
    }
    String aggText = agg != null ? agg : aggregation;
    if (aggText == null) {
      throw new IllegalArgumentException("feature '" + name + "' has no 'agg'; write e.g. agg: sum");
    }
    try {
      return new FeatureConfig(name.trim(), Aggregation.parse(aggText), blankToNull(field),
          window == null ? FeatureWindow.LIFETIME : FeatureWindow.parse(window),
          filter == null || filter.isBlank() ? null : FeatureFilter.parse(filter),
          blankToNull(numerator), blankToNull(denominator));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("feature '" + name + "': " + e.getMessage(), e);
    }
  }

  /** Checks what the aggregation needs, without a schema. */
  public FeatureConfig {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(aggregation, "aggregation");
    window = window == null ? FeatureWindow.LIFETIME : window;
    List<String> problems = new ArrayList<>();
    if (aggregation.needsField() && field == null) {
      problems.add("aggregation " + aggregation.yamlName() + " needs a 'field'");
    }
    if ((aggregation == Aggregation.TIME_SINCE_LAST || aggregation == Aggregation.RATIO)
        && field != null) {
      problems.add("aggregation " + aggregation.yamlName() + " takes no 'field' (got '" + field
          + "')");
    }
    if (aggregation == Aggregation.RATIO) {
      if (numerator == null || denominator == null) {
        problems.add("aggregation ratio needs 'numerator' and 'denominator' (names of two other"
            + " features of the group)");
      }
      if (filter != null) {
        problems.add("aggregation ratio takes no 'filter'; filter its numerator and denominator");
      }
    } else if (numerator != null || denominator != null) {
      problems.add("'numerator' and 'denominator' belong to agg: ratio only");
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("feature '" + name + "': " + String.join("; ", problems));
    }
  }

  /** A feature without filter or ratio operands. */
  public static FeatureConfig of(String name, Aggregation aggregation, String field,
      FeatureWindow window) {
    return new FeatureConfig(name, aggregation, field, window, null, null, null);
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }
}
