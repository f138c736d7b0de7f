package dev.flywheel.servingsink;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code servingSink} section of {@code flywheel.yaml}; other sections belong to other
 * services and are ignored. Every key is optional; unknown keys in the section are refused.
 *
 * <pre>{@code
 * servingSink:
 *   applicationId: flywheel-serving-sink   # consumer group of stream scoring; keep it stable
 *   instanceId: serving-1                  # this instance's transactional id suffix; stable
 *                                          # across its restarts (default: the host name)
 *   startFrom: latest                      # where a new group starts on flywheel.features
 *   maxBatch: 500                          # most feature vectors per micro-batch
 *   warmupRows: 16                         # rows scored before a version serves
 *   models: [fraud]                        # serve only these; default every promoted model
 *   featureLookupUrl: http://127.0.0.1:8080  # feature-streams' lookup, for /predict by entity
 *   featureLookupTimeoutMs: 1000
 *   featureGroups:                         # the features each group provides, for the
 *     card_activity: [amount, count_10m]   # signature check (else asked of the lookup)
 *   catchUpTimeoutMs: 60000                # reading the promotions at start
 * }</pre>
 */
@JsonIgnoreProperties(ignoreUnknown = false)
public record ServingSinkConfig(String applicationId, String instanceId, String startFrom,
    int maxBatch, int warmupRows, Set<String> models, String featureLookupUrl,
    Duration featureLookupTimeout, Map<String, List<String>> featureGroups,
    Duration catchUpTimeout) {

  /** Consumer group and transactional id prefix unless configured. */
  public static final String DEFAULT_APPLICATION_ID = "flywheel-serving-sink";

  /** Micro-batch bound unless configured. */
  public static final int DEFAULT_MAX_BATCH = 500;

  /** The top-level section of {@code flywheel.yaml} this service reads. */
  public static final String SECTION = "servingSink";

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /** Defaults filled in; checks ranges. */
  @JsonCreator
  public ServingSinkConfig(@JsonProperty("applicationId") String applicationId,
      @JsonProperty("instanceId") String instanceId,
      @JsonProperty("startFrom") String startFrom,
      @JsonProperty("maxBatch") Integer maxBatch,
      @JsonProperty("warmupRows") Integer warmupRows,
      @JsonProperty("models") List<String> models,
      @JsonProperty("featureLookupUrl") String featureLookupUrl,
      @JsonProperty("featureLookupTimeoutMs") Long featureLookupTimeoutMs,
      @JsonProperty("featureGroups") Map<String, List<String>> featureGroups,
      @JsonProperty("catchUpTimeoutMs") Long catchUpTimeoutMs) {
    this(blank(applicationId) ? DEFAULT_APPLICATION_ID : applicationId,
        blank(instanceId) ? defaultInstanceId() : instanceId,
        blank(startFrom) ? "latest" : startFrom,
        maxBatch == null ? DEFAULT_MAX_BATCH : maxBatch,
        warmupRows == null ? 16 : warmupRows,
        models == null ? Set.of() : Set.copyOf(models),
        blank(featureLookupUrl) ? null : featureLookupUrl,
        Duration.ofMillis(featureLookupTimeoutMs == null ? 1_000 : featureLookupTimeoutMs),
        featureGroups == null ? Map.of() : featureGroups,
        Duration.ofMillis(catchUpTimeoutMs == null ? 60_000 : catchUpTimeoutMs));
  }

  /** @throws IllegalArgumentException naming the key to fix */
  public ServingSinkConfig {
    if (!"latest".equals(startFrom) && !"earliest".equals(startFrom)) {
      throw new IllegalArgumentException("servingSink.startFrom must be latest or earliest, got '"
          + startFrom + "'");
    }
    if (maxBatch < 1 || maxBatch > 100_000) {
      throw new IllegalArgumentException("servingSink.maxBatch must be 1..100000, got "
          + maxBatch);
    }
    if (warmupRows < 1) {
      throw new IllegalArgumentException("servingSink.warmupRows must be >= 1, got "
          + warmupRows);
    }
    Map<String, List<String>> groups = new LinkedHashMap<>();
    featureGroups.forEach((g, names) -> {
      if (names == null || names.isEmpty()) {
        throw new IllegalArgumentException("servingSink.featureGroups." + g
            + " lists no features; list the names the group provides");
      }
      groups.put(g, List.copyOf(names));
    });
    featureGroups = Map.copyOf(groups);
    models = Set.copyOf(models);
  }

  /** Every default. */
  public static ServingSinkConfig defaults() {
    return new ServingSinkConfig(null, null, null, null, null, null, null, null, null, null);
  }

  /** A copy that scores from this point in {@code flywheel.features} when the group is new. */
  public ServingSinkConfig withStartFrom(String from) {
    return new ServingSinkConfig(applicationId, instanceId, from, maxBatch, warmupRows, models,
        featureLookupUrl, featureLookupTimeout, featureGroups, catchUpTimeout);
  }

  /** A copy with another application id and instance id. */
  public ServingSinkConfig withIds(String application, String instance) {
    return new ServingSinkConfig(application, instance, startFrom, maxBatch, warmupRows, models,
        featureLookupUrl, featureLookupTimeout, featureGroups, catchUpTimeout);
  }

  /** A copy that fetches features from this lookup URL. */
  public ServingSinkConfig withFeatureLookupUrl(String url) {
    return new ServingSinkConfig(applicationId, instanceId, startFrom, maxBatch, warmupRows,
        models, url, featureLookupTimeout, featureGroups, catchUpTimeout);
  }

  /** A copy that declares these feature groups. */
  public ServingSinkConfig withFeatureGroups(Map<String, List<String>> groups) {
    return new ServingSinkConfig(applicationId, instanceId, startFrom, maxBatch, warmupRows,
        models, featureLookupUrl, featureLookupTimeout, groups, catchUpTimeout);
  }

  /** The section of a {@code flywheel.yaml} text; defaults when it has none. */
  public static ServingSinkConfig parse(String yaml) {
    try {
      Root root = YAML.readValue(yaml.isBlank() ? "{}" : yaml, Root.class);
      return root == null || root.servingSink() == null ? defaults() : root.servingSink();
    } catch (UnrecognizedPropertyException e) {
      throw new IllegalArgumentException("flywheel.yaml servingSink: unknown key '"
          + e.getPropertyName() + "' at " + e.getPath().stream()
              .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
              .collect(java.util.stream.Collectors.joining("."))
          + (e.getKnownPropertyIds() == null ? "" : "; known keys: "
              + new java.util.TreeSet<>(e.getKnownPropertyIds().stream()
                  .map(String::valueOf).toList())), e);
    } catch (JsonMappingException e) {
      Throwable cause = e.getCause() instanceof IllegalArgumentException ia ? ia : e;
      throw new IllegalArgumentException("flywheel.yaml servingSink: "
          + (cause == e ? e.getOriginalMessage() : cause.getMessage()), e);
    } catch (IOException e) {
      throw new IllegalArgumentException("flywheel.yaml is not valid YAML: " + e.getMessage(), e);
    }
  }

  /** The section of a {@code flywheel.yaml} file. */
  public static ServingSinkConfig load(Path yaml) throws IOException {
    return parse(Files.readString(yaml));
  }

  /** The file's top level: only {@code servingSink} is read. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  record Root(@JsonProperty(SECTION) ServingSinkConfig servingSink) {}

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }

  private static String defaultInstanceId() {
    String host = System.getenv("HOSTNAME");
    if (blank(host)) {
      try {
        host = java.net.InetAddress.getLocalHost().getHostName();
      } catch (IOException e) {
        host = "local";
      }
    }
    return host;
  }
}
