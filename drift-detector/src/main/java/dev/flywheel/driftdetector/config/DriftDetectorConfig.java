package dev.flywheel.driftdetector.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.flywheel.events.DriftMethod;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The parts of {@code flywheel.yaml} drift-detector reads: the {@code drift:} key of each entry of
 * {@code models:} (a {@link DriftPolicy}; other keys of an entry, such as {@code training},
 * {@code triggers} or {@code policy}, belong to other services and are ignored) and its own
 * {@code driftDetector:} section. Every other top-level section is ignored. A promoted model with
 * no entry, or an entry with no {@code drift:} key, is monitored with {@link
 * DriftPolicy#defaults()}.
 *
 * <pre>{@code
 * driftDetector:
 *   applicationId: flywheel-drift-detector   # Kafka Streams application id; keep it stable
 *   labelWindow: PT24H                       # how long after a prediction its label may arrive
 *   maxHeldPredictions: 10000                # per model, held until their version's promotion
 *   maxEventTimeSkew: PT1H                   # how far an event time may be ahead of its record
 * models:
 *   - name: fraud-detector
 *     drift: {...}                           # see DriftPolicy
 * }</pre>
 *
 * @param applicationId the Kafka Streams application id; never null
 * @param labelWindow how long after a prediction a label is still joined to it; never null
 * @param policies the configured policies by model name; never null
 * @param maxHeldPredictions how many predictions of versions not promoted yet are held per model
 *     until their promotion; beyond it the oldest held one goes to {@code
 *     flywheel.predictions.dlq}; at least 1
 * @param maxEventTimeSkew how far a prediction's {@code event_time} may be ahead of its own
 *     {@code scored_at}, and a label's {@code event_time} ahead of its record's timestamp; a
 *     prediction or label further ahead is dropped (counted as {@code future_event_time}), since
 *     one far-future event time would move stream time past every open window and the label
 *     join's retention; not negative; never null
 */
public record DriftDetectorConfig(String applicationId, Duration labelWindow,
    Map<String, DriftPolicy> policies, long maxHeldPredictions, Duration maxEventTimeSkew) {

  /** Application id unless configured. */
  public static final String DEFAULT_APPLICATION_ID = "flywheel-drift-detector";
  /** Label join window unless configured. */
  public static final Duration DEFAULT_LABEL_WINDOW = Duration.ofHours(24);
  /** Predictions held per model until their version's promotion, unless configured. */
  public static final long DEFAULT_MAX_HELD_PREDICTIONS = 10_000;
  /**
   * How far an event time may be ahead of its record unless configured: an hour, well beyond
   * clock skew between hosts, far below the errors it guards against (a year typed wrong,
   * microseconds sent as milliseconds).
   */
  public static final Duration DEFAULT_MAX_EVENT_TIME_SKEW = Duration.ofHours(1);

  /**
   * The top-level sections this service reads; {@link #parse} sees no other, so a key read must be
   * listed here.
   */
  public static final Set<String> SECTIONS = Set.of("driftDetector", "models");

  /**
   * The keys of a {@code models:} entry this service reads; {@link #parse} sees no other (the keys
   * inside {@code drift} it checks itself).
   */
  public static final Set<String> MODEL_KEYS = Set.of("name", "drift");

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Set<String> SERVICE_KEYS = Set.of("applicationId", "labelWindow",
      "maxHeldPredictions", "maxEventTimeSkew");
  private static final Set<String> POLICY_KEYS = Set.of("alias", "window", "numeric",
      "categorical", "smallSample", "minSamples", "share", "important", "consecutiveWindows",
      "cooldown", "topFeatures");
  private static final Set<String> WINDOW_KEYS = Set.of("count", "duration", "grace");
  private static final Set<String> RULE_KEYS = Set.of("method", "threshold");

  /** Copies. */
  public DriftDetectorConfig {
    applicationId = applicationId == null ? DEFAULT_APPLICATION_ID : applicationId;
    labelWindow = labelWindow == null ? DEFAULT_LABEL_WINDOW : labelWindow;
    policies = Collections.unmodifiableMap(new LinkedHashMap<>(policies));
    if (maxHeldPredictions < 1) {
      throw new InvalidConfigException("driftDetector.maxHeldPredictions is "
          + maxHeldPredictions + "; it must be at least 1 (predictions held per model until"
          + " their version is promoted)");
    }
    maxEventTimeSkew = maxEventTimeSkew == null ? DEFAULT_MAX_EVENT_TIME_SKEW : maxEventTimeSkew;
    if (maxEventTimeSkew.isNegative()) {
      throw new InvalidConfigException("driftDetector.maxEventTimeSkew is " + maxEventTimeSkew
          + "; it must not be negative (how far an event time may be ahead of its record)");
    }
  }

  /** These settings with the default {@link #DEFAULT_MAX_EVENT_TIME_SKEW}. */
  public DriftDetectorConfig(String applicationId, Duration labelWindow,
      Map<String, DriftPolicy> policies, long maxHeldPredictions) {
    this(applicationId, labelWindow, policies, maxHeldPredictions, null);
  }

  /** These settings with the default {@link #DEFAULT_MAX_HELD_PREDICTIONS}. */
  public DriftDetectorConfig(String applicationId, Duration labelWindow,
      Map<String, DriftPolicy> policies) {
    this(applicationId, labelWindow, policies, DEFAULT_MAX_HELD_PREDICTIONS);
  }

  /** Defaults, with {@code policies} by model name. */
  public static DriftDetectorConfig of(Map<String, DriftPolicy> policies) {
    return new DriftDetectorConfig(null, null, policies);
  }

  /** Every model on the default policy. */
  public static DriftDetectorConfig defaults() {
    return of(Map.of());
  }

  /** The policy of {@code model}: its configured one, or the defaults. */
  public DriftPolicy policyFor(String model) {
    return policies.getOrDefault(model, DriftPolicy.defaults());
  }

  /** These settings under another application id. */
  public DriftDetectorConfig withApplicationId(String id) {
    return new DriftDetectorConfig(id, labelWindow, policies, maxHeldPredictions,
        maxEventTimeSkew);
  }

  /** These settings holding at most {@code max} predictions per model until their promotion. */
  public DriftDetectorConfig withMaxHeldPredictions(long max) {
    return new DriftDetectorConfig(applicationId, labelWindow, policies, max, maxEventTimeSkew);
  }

  /** These settings dropping event times more than {@code skew} ahead of their record. */
  public DriftDetectorConfig withMaxEventTimeSkew(Duration skew) {
    return new DriftDetectorConfig(applicationId, labelWindow, policies, maxHeldPredictions, skew);
  }

  /**
   * Reads {@code flywheel.yaml}.
   *
   * @throws InvalidConfigException when the file is missing or a setting is wrong
   */
  public static DriftDetectorConfig load(Path file) {
    try {
      return parse(Files.readString(file), file.toString());
    } catch (NoSuchFileException e) {
      throw new InvalidConfigException(file + " does not exist; pass the path of flywheel.yaml");
    } catch (IOException e) {
      throw new InvalidConfigException("cannot read " + file + ": " + e.getMessage());
    }
  }

  /**
   * Parses the YAML text of {@code flywheel.yaml}.
   *
   * @param where the file name, for errors
   * @throws InvalidConfigException naming the key to fix
   */
  public static DriftDetectorConfig parse(String yaml, String where) {
    JsonNode root;
    try {
      root = YAML.readTree(yaml);
    } catch (JsonProcessingException e) {
      throw new InvalidConfigException(where + " is not valid YAML: " + e.getOriginalMessage());
    }
    if (root == null || root.isMissingNode() || root.isNull()) {
      return defaults();
    }
    if (root instanceof ObjectNode all) {
      root = all.deepCopy().retain(SECTIONS);
    }
    JsonNode service = root.path("driftDetector");
    String applicationId = null;
    Duration labelWindow = null;
    Long maxHeld = null;
    Duration maxSkew = null;
    if (!service.isMissingNode() && !service.isNull()) {
      requireKeys(where + ": driftDetector", service, SERVICE_KEYS);
      applicationId = text(service, "applicationId");
      labelWindow = duration(where + ": driftDetector.labelWindow", service.get("labelWindow"));
      maxHeld = longValue(where + ": driftDetector.maxHeldPredictions",
          service.get("maxHeldPredictions"));
      maxSkew = duration(where + ": driftDetector.maxEventTimeSkew",
          service.get("maxEventTimeSkew"));
      if (maxSkew != null && maxSkew.isNegative()) {
        throw new InvalidConfigException(where + ": driftDetector.maxEventTimeSkew is " + maxSkew
            + "; it must not be negative (how far an event time may be ahead of its record)");
      }
      if (maxHeld != null && maxHeld < 1) {
        throw new InvalidConfigException(where + ": driftDetector.maxHeldPredictions is "
            + maxHeld + "; it must be at least 1 (predictions held per model until their"
            + " version is promoted)");
      }
    }
    Map<String, DriftPolicy> policies = new LinkedHashMap<>();
    JsonNode models = root.path("models");
    if (!models.isMissingNode() && !models.isNull()) {
      if (!models.isArray()) {
        throw new InvalidConfigException(where + ": models must be a list of model entries");
      }
      for (int i = 0; i < models.size(); i++) {
        JsonNode entry = models.get(i);
        if (entry instanceof ObjectNode all) {
          entry = all.deepCopy().retain(MODEL_KEYS);
        }
        String name = text(entry, "name");
        if (name == null || name.isBlank()) {
          throw new InvalidConfigException(where + ": models[" + i + "] has no name");
        }
        JsonNode drift = entry.get("drift");
        if (drift == null || drift.isNull()) {
          continue;
        }
        String path = where + ": models[" + name + "].drift";
        if (policies.put(name, policy(path, drift)) != null) {
          throw new InvalidConfigException(where + ": model '" + name + "' is declared twice");
        }
      }
    }
    return new DriftDetectorConfig(applicationId, labelWindow, policies,
        orElse(maxHeld, DEFAULT_MAX_HELD_PREDICTIONS), maxSkew);
  }

  private static DriftPolicy policy(String path, JsonNode node) {
    requireKeys(path, node, POLICY_KEYS);
    DriftPolicy d = DriftPolicy.defaults();
    long count = d.windowCount();
    Duration duration = null;
    Duration grace = Duration.ZERO;
    JsonNode window = node.get("window");
    if (window != null && !window.isNull()) {
      requireKeys(path + ".window", window, WINDOW_KEYS);
      duration = duration(path + ".window.duration", window.get("duration"));
      grace = orElse(duration(path + ".window.grace", window.get("grace")), Duration.ZERO);
      Long c = longValue(path + ".window.count", window.get("count"));
      count = c != null ? c : duration != null ? 0 : d.windowCount();
      if (c != null && c < 1) {
        throw new InvalidConfigException(path + ".window.count is " + c
            + "; it must be at least 1 (or left out for time windows only)");
      }
    }
    List<String> important = new ArrayList<>();
    JsonNode imp = node.get("important");
    if (imp != null && !imp.isNull()) {
      if (!imp.isArray()) {
        throw new InvalidConfigException(path + ".important must be a list of feature names");
      }
      imp.forEach(n -> important.add(n.asText()));
    }
    try {
      return new DriftPolicy(
          orElse(text(node, "alias"), d.alias()), count, duration, grace,
          rule(path + ".numeric", node.get("numeric"), false),
          rule(path + ".categorical", node.get("categorical"), true),
          orElse(longValue(path + ".smallSample", node.get("smallSample")), d.smallSample()),
          orElse(longValue(path + ".minSamples", node.get("minSamples")), d.minSamples()),
          orElse(doubleValue(path + ".share", node.get("share")), d.share()),
          Set.copyOf(important),
          orElse(longValue(path + ".consecutiveWindows", node.get("consecutiveWindows")),
              (long) d.consecutiveWindows()).intValue(),
          orElse(duration(path + ".cooldown", node.get("cooldown")), d.cooldown()),
          orElse(longValue(path + ".topFeatures", node.get("topFeatures")),
              (long) d.topFeatures()).intValue());
    } catch (InvalidConfigException e) {
      // DriftPolicy names the key from "drift."; put the file and model in front of it.
      throw new InvalidConfigException(path.substring(0, path.length() - "drift".length())
          + e.getMessage());
    }
  }

  private static DriftPolicy.Rule rule(String path, JsonNode node, boolean categorical) {
    if (node == null || node.isNull()) {
      return DriftPolicy.Rule.auto();
    }
    requireKeys(path, node, RULE_KEYS);
    String m = text(node, "method");
    DriftMethod method = null;
    if (m != null && !m.equalsIgnoreCase("auto")) {
      method = switch (m.toLowerCase(Locale.ROOT).replace('-', '_')) {
        case "psi" -> DriftMethod.PSI;
        case "ks", "kolmogorov_smirnov" -> DriftMethod.KOLMOGOROV_SMIRNOV;
        case "wasserstein" -> DriftMethod.WASSERSTEIN;
        case "jensen_shannon", "js" -> DriftMethod.JENSEN_SHANNON;
        case "chi_square", "chi2" -> DriftMethod.CHI_SQUARE;
        default -> throw new InvalidConfigException(path + ".method is '" + m + "'; use one of "
            + (categorical ? "auto, chi_square, jensen_shannon, psi"
                : "auto, ks, wasserstein, jensen_shannon, psi"));
      };
      boolean fits = categorical ? method != DriftMethod.KOLMOGOROV_SMIRNOV
          && method != DriftMethod.WASSERSTEIN : method != DriftMethod.CHI_SQUARE;
      if (!fits) {
        throw new InvalidConfigException(path + ".method " + m + " does not apply to "
            + (categorical ? "categorical" : "numeric") + " features; use one of "
            + (categorical ? "auto, chi_square, jensen_shannon, psi"
                : "auto, ks, wasserstein, jensen_shannon, psi"));
      }
    }
    Double threshold = doubleValue(path + ".threshold", node.get("threshold"));
    if (threshold != null && !(threshold > 0)) {
      throw new InvalidConfigException(path + ".threshold is " + threshold
          + "; it must be positive (a p-value for tests, a distance or PSI otherwise)");
    }
    return new DriftPolicy.Rule(method, threshold);
  }

  private static void requireKeys(String path, JsonNode node, Set<String> allowed) {
    if (!node.isObject()) {
      throw new InvalidConfigException(path + " must be a mapping of settings");
    }
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!allowed.contains(key)) {
        throw new InvalidConfigException(path + ": unknown key '" + key + "'; known keys are "
            + allowed.stream().sorted().toList());
      }
    }
  }

  private static String text(JsonNode node, String key) {
    JsonNode v = node.get(key);
    return v == null || v.isNull() ? null : v.asText();
  }

  private static Long longValue(String path, JsonNode v) {
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.canConvertToLong() || !v.isIntegralNumber()) {
      throw new InvalidConfigException(path + " is '" + v.asText() + "'; write a whole number");
    }
    return v.asLong();
  }

  private static Double doubleValue(String path, JsonNode v) {
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isNumber()) {
      throw new InvalidConfigException(path + " is '" + v.asText() + "'; write a number");
    }
    return v.asDouble();
  }

  private static Duration duration(String path, JsonNode v) {
    if (v == null || v.isNull()) {
      return null;
    }
    try {
      Duration d = Duration.parse(v.asText().trim().toUpperCase(Locale.ROOT));
      if (d.isNegative()) {
        throw new InvalidConfigException(path + " is '" + v.asText() + "'; it must not be negative");
      }
      return d;
    } catch (DateTimeParseException e) {
      throw new InvalidConfigException(path + " is '" + v.asText() + "', which is not an ISO-8601"
          + " duration; write e.g. PT30M, PT6H or P1D");
    }
  }

  private static <T> T orElse(T value, T fallback) {
    return value != null ? value : fallback;
  }
}
