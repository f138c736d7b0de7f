package dev.flywheel.featurestreams;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The {@code featureGroups} section of {@code flywheel.yaml} (see {@link FeatureGroupConfig} and
 * {@link FeatureConfig} for the keys). Other top-level sections belong to other services and are
 * ignored; unknown keys inside a group or a feature are refused, so a misspelt key is never
 * silently ignored.
 *
 * <pre>{@code
 * FeatureStreamsConfig config = FeatureStreamsConfig.load(Path.of("flywheel.yaml"));
 * FeatureGroupConfig cards = config.group("card_activity");
 * }</pre>
 *
 * <p>Checks that need the source schema (fields exist, types fit the aggregation) run when the
 * topology is built, against the schema registered for the source ({@link FeatureGroupPlan}).
 *
 * @param featureGroups the groups, in declared order; never null
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record FeatureStreamsConfig(List<FeatureGroupConfig> featureGroups) {

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

  /** The demo group of the fraud example, on the classpath. */
  public static final String CARD_ACTIVITY_RESOURCE = "/card_activity.yaml";

  /** @throws IllegalArgumentException when two groups have the same name */
  @JsonCreator
  public FeatureStreamsConfig(@JsonProperty("featureGroups") List<FeatureGroupConfig> featureGroups) {
    this.featureGroups = featureGroups == null ? List.of() : List.copyOf(featureGroups);
    Set<String> names = new HashSet<>();
    for (FeatureGroupConfig g : this.featureGroups) {
      if (!names.add(g.name())) {
        throw new IllegalArgumentException("feature group '" + g.name() + "' is declared twice");
      }
    }
  }

  /**
   * The group called {@code name}.
   *
   * @throws IllegalArgumentException naming the declared groups when there is none
   */
  public FeatureGroupConfig group(String name) {
    for (FeatureGroupConfig g : featureGroups) {
      if (g.name().equals(name)) {
        return g;
      }
    }
    throw new IllegalArgumentException("no feature group '" + name + "'; declared: "
        + featureGroups.stream().map(FeatureGroupConfig::name).toList());
  }

  /** The group names in declared order. */
  public List<String> groupNames() {
    return featureGroups.stream().map(FeatureGroupConfig::name).toList();
  }

  /**
   * Reads the {@code featureGroups} of a YAML file.
   *
   * @throws IllegalArgumentException naming the file and the problem
   */
  public static FeatureStreamsConfig load(Path file) {
    Objects.requireNonNull(file, "file");
    try {
      return parse(Files.readString(file));
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  /** The {@code card_activity} demo group of the fraud example ({@code card_activity.yaml}). */
  public static FeatureStreamsConfig cardActivity() {
    try (InputStream in = FeatureStreamsConfig.class.getResourceAsStream(CARD_ACTIVITY_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(CARD_ACTIVITY_RESOURCE + " is missing from the classpath");
      }
      return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + CARD_ACTIVITY_RESOURCE, e);
    }
  }

  /**
   * Parses the {@code featureGroups} section from YAML text.
   *
   * @throws IllegalArgumentException naming where and what is wrong
   */
  public static FeatureStreamsConfig parse(String yaml) {
    try {
      FeatureStreamsConfig config = YAML.readValue(yaml, FeatureStreamsConfig.class);
      return config == null ? new FeatureStreamsConfig(null) : config;
    } catch (UnrecognizedPropertyException e) {
      throw new IllegalArgumentException("unknown setting '" + e.getPropertyName() + "' at "
          + path(e) + "; known: " + e.getKnownPropertyIds(), e);
    } catch (ValueInstantiationException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      throw new IllegalArgumentException(cause.getMessage(), e);
    } catch (MismatchedInputException e) {
      throw new IllegalArgumentException("invalid value at " + path(e) + ": "
          + e.getOriginalMessage(), e);
    } catch (IOException e) {
      Throwable cause = e.getCause() instanceof IllegalArgumentException iae ? iae : e;
      throw new IllegalArgumentException("invalid featureGroups section: " + cause.getMessage(), e);
    }
  }

  private static String path(JsonMappingException e) {
    StringBuilder out = new StringBuilder();
    for (JsonMappingException.Reference ref : e.getPath()) {
      if (ref.getFieldName() != null) {
        out.append(out.isEmpty() ? "" : ".").append(ref.getFieldName());
      } else if (ref.getIndex() >= 0) {
        out.append('[').append(ref.getIndex()).append(']');
      }
    }
    return out.toString();
  }
}
