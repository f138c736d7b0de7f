package dev.flywheel.featurestreams;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * One feature group of {@code flywheel.yaml}: which source it reads, the entity it describes, and
 * its features.
 *
 * <pre>{@code
 * featureGroups:
 *   - name: card_activity
 *     source: transactions        # reads flywheel.data.transactions
 *     entityKey: card_id          # the entity: a string, int, long or enum field
 *     eventTime: event_time       # optional; default: the source's declared time field
 *     eventId: event_id           # optional; default event_id, else topic/partition/offset
 *     grace: 5m                   # out-of-order events up to this far behind are applied
 *     purgeAfter: 7d              # optional; default: the longest window (never with lifetime)
 *     distinctExactUpTo: 1000     # optional; distinct counts are exact up to this many values
 *     maxClockSkew: 1h            # optional; events stamped further after their record are refused
 *     maxEventsInGrace: 1000      # optional; an entity's events held unsealed, see below
 *     features: [ ... ]           # see FeatureConfig
 *     defaults:                   # answered for entities the online store does not hold
 *       tx_count_24h: 0
 * }</pre>
 *
 * @param name the group name (lookup path, store names, {@code feature_group} of the vectors)
 * @param source the ingest source name ({@code flywheel.data.<source>})
 * @param entityKey the source field whose value is the entity id
 * @param eventTime the event-time field; null for the source's declared one
 * @param eventId the event-id field; null for {@code event_id} when the source has it
 * @param graceMs how far behind the entity's latest event time an event may be and still apply
 * @param purgeAfterMs idle time after which an entity's state is dropped; null for the default
 * @param distinctExactUpTo the bound up to which distinct counts are exact
 * @param features the features in declared order
 * @param defaults per feature the value answered for unknown entities (Double or String)
 * @param maxClockSkewMs how far an event time may be after its source record's Kafka timestamp;
 *     an event later than that (a producer's clock ahead, microseconds in a milliseconds field)
 *     or before 1970 goes to the dead-letter topic
 * @param maxEventsInGrace how many of an entity's events within the grace period are held as they
 *     arrived (what lets an out-of-order event be applied exactly); when an entity has more, its
 *     oldest are folded into their tiles early and events older than those are refused as late,
 *     so a hot entity's state and the cost of each of its events stay bounded
 */
public record FeatureGroupConfig(String name, String source, String entityKey, String eventTime,
    String eventId, long graceMs, Long purgeAfterMs, int distinctExactUpTo,
    List<FeatureConfig> features, Map<String, Object> defaults, long maxClockSkewMs,
    int maxEventsInGrace) {

  /** Grace period unless configured: 5 minutes. */
  public static final long DEFAULT_GRACE_MS = 5 * 60_000L;

  /** Exact distinct counts up to this many values unless configured. */
  public static final int DEFAULT_DISTINCT_EXACT_UP_TO = 1000;

  /**
   * How far an event time may be ahead of its record's Kafka timestamp unless configured: 1 hour,
   * the default of the brokers' {@code log.message.timestamp.after.max.ms}.
   */
  public static final long DEFAULT_MAX_CLOCK_SKEW_MS = 60 * 60_000L;

  /**
   * Events held within the grace period per entity unless configured: 1,000, which keeps a hot
   * entity's held events to tens of KiB and the evaluation of one of its events to microseconds.
   */
  public static final int DEFAULT_MAX_EVENTS_IN_GRACE = 1000;

  /** The most events within the grace period a group may hold per entity. */
  public static final int MAX_EVENTS_IN_GRACE_LIMIT = 100_000;

  /** Parses the YAML form. */
  @JsonCreator
  static FeatureGroupConfig fromYaml(@JsonProperty("name") String name,
      @JsonProperty("source") String source, @JsonProperty("entityKey") String entityKey,
      @JsonProperty("eventTime") String eventTime, @JsonProperty("eventId") String eventId,
      @JsonProperty("grace") String grace, @JsonProperty("purgeAfter") String purgeAfter,
      @JsonProperty("distinctExactUpTo") Integer distinctExactUpTo,
      @JsonProperty("features") List<FeatureConfig> features,
      @JsonProperty("defaults") Map<String, Object> defaults,
      @JsonProperty("maxClockSkew") String maxClockSkew,
      @JsonProperty("maxEventsInGrace") Integer maxEventsInGrace) {
    String group = name == null ? "?" : name;
    try {
      return new FeatureGroupConfig(name, source, entityKey, eventTime, eventId,
          grace == null ? DEFAULT_GRACE_MS : FeatureWindow.parseMillis(grace, "grace"),
          purgeAfter == null ? null : FeatureWindow.parseMillis(purgeAfter, "purgeAfter"),
          distinctExactUpTo == null ? DEFAULT_DISTINCT_EXACT_UP_TO : distinctExactUpTo,
          features, defaults,
          maxClockSkew == null ? DEFAULT_MAX_CLOCK_SKEW_MS
              : FeatureWindow.parseMillis(maxClockSkew, "maxClockSkew"),
          maxEventsInGrace == null ? DEFAULT_MAX_EVENTS_IN_GRACE : maxEventsInGrace);
    } catch (IllegalArgumentException e) {
      if (e.getMessage() != null && e.getMessage().startsWith("feature group")) {
        throw e;
      }
      throw new IllegalArgumentException("feature group '" + group + "': " + e.getMessage(), e);
    }
  }

  /**
   * Checks everything that does not need the source schema: names, operands of ratios, defaults.
   *
   * @throws IllegalArgumentException naming the group, the feature and what to fix
   */
  public FeatureGroupConfig {
    List<String> problems = new ArrayList<>();
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("a feature group has no name; give it a 'name'");
    }
    if (!name.matches("[A-Za-z0-9_.-]+")) {
      problems.add("name may hold only ASCII letters, digits, '.', '_' and '-'");
    }
    if (source == null || source.isBlank()) {
      problems.add("'source' is missing; name the ingest source it reads, e.g. transactions");
    }
    if (entityKey == null || entityKey.isBlank()) {
      problems.add("'entityKey' is missing; name the source field that identifies the entity");
    }
    if (graceMs < 0) {
      problems.add("grace must not be negative");
    }
    if (maxClockSkewMs < 0) {
      problems.add("maxClockSkew must not be negative");
    }
    if (maxEventsInGrace < 1 || maxEventsInGrace > MAX_EVENTS_IN_GRACE_LIMIT) {
      problems.add("maxEventsInGrace must be 1.." + MAX_EVENTS_IN_GRACE_LIMIT + ", got "
          + maxEventsInGrace);
    }
    if (purgeAfterMs != null && purgeAfterMs <= 0) {
      problems.add("purgeAfter must be longer than 0");
    }
    if (distinctExactUpTo < 1 || distinctExactUpTo > 1_000_000) {
      problems.add("distinctExactUpTo must be 1..1000000, got " + distinctExactUpTo);
    }
    features = features == null ? List.of() : List.copyOf(features);
    if (features.isEmpty()) {
      problems.add("it declares no features");
    }
    Map<String, FeatureConfig> byName = new LinkedHashMap<>();
    for (FeatureConfig f : features) {
      if (byName.put(f.name(), f) != null) {
        problems.add("feature '" + f.name() + "' is declared twice");
      }
    }
    Set<String> declaredSoFar = new HashSet<>();
    for (FeatureConfig f : features) {
      if (f.aggregation() == Aggregation.RATIO) {
        for (String operand : List.of(f.numerator(), f.denominator())) {
          FeatureConfig o = byName.get(operand);
          if (o == null) {
            problems.add("ratio '" + f.name() + "' refers to feature '" + operand
                + "', which the group does not declare");
          } else if (o.aggregation() == Aggregation.RATIO && !declaredSoFar.contains(operand)) {
            problems.add("ratio '" + f.name() + "' refers to ratio '" + operand
                + "'; declare '" + operand + "' before it");
          }
        }
      }
      declaredSoFar.add(f.name());
    }
    Map<String, Object> d = new LinkedHashMap<>();
    if (defaults != null) {
      for (Map.Entry<String, Object> e : defaults.entrySet()) {
        if (!byName.containsKey(e.getKey())) {
          problems.add("defaults name '" + e.getKey() + "', which is not a feature of the group");
        }
        Object v = e.getValue();
        if (v == null || v instanceof String) {
          d.put(e.getKey(), v);
        } else if (v instanceof Number n) {
          d.put(e.getKey(), n.doubleValue());
        } else if (v instanceof Boolean b) {
          d.put(e.getKey(), b ? 1.0 : 0.0);
        } else {
          problems.add("default of '" + e.getKey() + "' must be a number or a string, got " + v);
        }
      }
    }
    defaults = Collections.unmodifiableMap(d);
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(
          "feature group '" + name + "': " + String.join("; ", problems));
    }
  }

  /** The same group holding at most {@code maxEventsInGrace} events per entity. */
  public FeatureGroupConfig withMaxEventsInGrace(int maxEventsInGrace) {
    return new FeatureGroupConfig(name, source, entityKey, eventTime, eventId, graceMs,
        purgeAfterMs, distinctExactUpTo, features, defaults, maxClockSkewMs, maxEventsInGrace);
  }

  /** The feature names, in declared order. */
  public List<String> featureNames() {
    return features.stream().map(FeatureConfig::name).toList();
  }

  /**
   * The declared feature called {@code name}.
   *
   * @throws IllegalArgumentException naming the declared ones when there is none
   */
  public FeatureConfig feature(String name) {
    for (FeatureConfig f : features) {
      if (f.name().equals(name)) {
        return f;
      }
    }
    throw new IllegalArgumentException("feature group '" + this.name + "' has no feature '" + name
        + "'; it has " + featureNames());
  }

  /**
   * Numeric values for an entity the online store does not hold, by feature in declared order:
   * the declared default where it is a number; else 0 for count, sum and distinct_count, and null
   * (undefined) for the rest. Features with a string default are in {@link #categoricalDefaults()}.
   */
  public Map<String, Double> numericDefaults() {
    Map<String, Double> out = new LinkedHashMap<>();
    for (FeatureConfig f : features) {
      Object v = defaults.get(f.name());
      if (v instanceof String) {
        continue;
      }
      if (v instanceof Double dv) {
        out.put(f.name(), dv);
      } else {
        boolean zero = f.aggregation() == Aggregation.COUNT || f.aggregation() == Aggregation.SUM
            || f.aggregation() == Aggregation.DISTINCT_COUNT;
        out.put(f.name(), zero ? 0.0 : null);
      }
    }
    return Collections.unmodifiableMap(out);
  }

  /** String defaults, by feature, for categorical features (last/first of a text field). */
  public Map<String, String> categoricalDefaults() {
    Map<String, String> out = new LinkedHashMap<>();
    for (FeatureConfig f : features) {
      if (defaults.get(f.name()) instanceof String s) {
        out.put(f.name(), s);
      }
    }
    return Collections.unmodifiableMap(out);
  }

  /** The longest finite window of the group, in ms; 0 when every window is lifetime. */
  public long longestWindowMs() {
    long max = 0;
    for (FeatureConfig f : features) {
      if (!f.window().lifetime()) {
        max = Math.max(max, f.window().lengthMs());
      }
    }
    return max;
  }

  /**
   * Event time an entity may stay idle before its state is dropped: {@code purgeAfter} when set;
   * else the longest window plus the grace period; {@link Long#MAX_VALUE} (never) when a feature
   * other than time_since_last aggregates over the lifetime, since dropping would forget it. (After
   * a purge, time_since_last starts again: undefined until the entity's next event.)
   */
  public long effectivePurgeAfterMs() {
    if (purgeAfterMs != null) {
      return purgeAfterMs;
    }
    boolean lifetime = features.stream().anyMatch(f -> f.window().lifetime()
        && f.aggregation() != Aggregation.RATIO
        && f.aggregation() != Aggregation.TIME_SINCE_LAST);
    return lifetime ? Long.MAX_VALUE : longestWindowMs() + graceMs;
  }

  /**
   * A short digest of the declaration (first 12 hex digits of its SHA-256), written as {@code
   * feature_group_version} on every vector so lineage records which definition produced it.
   */
  public String version() {
    // as declared before the settings at the end existed when they keep their defaults, so that
    // upgrading keeps every version
    String declaration = toString();
    if (maxEventsInGrace == DEFAULT_MAX_EVENTS_IN_GRACE) {
      declaration = declaration.substring(0, declaration.lastIndexOf(", maxEventsInGrace=")) + "]";
    }
    if (maxClockSkewMs == DEFAULT_MAX_CLOCK_SKEW_MS) {
      declaration = declaration.replace(", maxClockSkewMs=" + maxClockSkewMs, "");
    }
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256")
          .digest(declaration.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 6);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
