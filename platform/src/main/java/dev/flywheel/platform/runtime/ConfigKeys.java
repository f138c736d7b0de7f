package dev.flywheel.platform.runtime;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.flywheel.driftdetector.config.DriftDetectorConfig;
import dev.flywheel.featurestreams.FeatureStreamsConfig;
import dev.flywheel.ingest.IngestConfig;
import dev.flywheel.registryprojector.RegistryConfig;
import dev.flywheel.servingsink.ServingSinkConfig;
import dev.flywheel.text.KeyHints;
import dev.flywheel.trainingtrigger.config.TrainingTriggerConfig;
import java.lang.reflect.Executable;
import java.lang.reflect.Modifier;
import java.lang.reflect.Parameter;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * The keys of {@code flywheel.yaml} that some part of Flywheel reads, and {@link #check} that a
 * file has no other. Each service reads only its own top-level sections and the keys of a {@code
 * models:} entry it owns, and ignores the rest (a model entry is shared: training-trigger reads
 * {@code target}, the registry {@code policy}, drift-detector {@code drift}); so a misspelt section
 * ({@code servingsink:}) or model key ({@code polcy:}) would otherwise be ignored by every service,
 * and the model would run without its policy, or learn the default target.
 *
 * <p>The known keys come from the services' config classes: the {@code @JsonProperty} names of
 * {@link PlatformConfig}, {@link IngestConfig} and {@link FeatureStreamsConfig}, and the {@code
 * SECTION}, {@code SECTIONS} and {@code MODEL_KEYS} constants of the others (derived from the
 * records they bind, or the only keys their parsers see). The keys inside a section or inside a
 * model's {@code policy}, {@code drift}, {@code training} and {@code triggers} are checked by the
 * service that owns them.
 */
public final class ConfigKeys {

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final String MODELS = "models";

  /** Every top-level section some part of Flywheel reads, sorted. */
  public static final SortedSet<String> SECTIONS = union(
      jsonKeys(PlatformConfig.class),
      Set.of(HttpSecurity.SECTION),
      RegistryConfig.SECTIONS,
      jsonKeys(IngestConfig.class),
      jsonKeys(FeatureStreamsConfig.class),
      Set.of(ServingSinkConfig.SECTION),
      TrainingTriggerConfig.SECTIONS,
      DriftDetectorConfig.SECTIONS);

  /** Every key of a {@code models:} entry some service reads, sorted. */
  public static final SortedSet<String> MODEL_KEYS = union(
      RegistryConfig.MODEL_KEYS,
      jsonKeys(IngestConfig.Model.class),
      TrainingTriggerConfig.MODEL_KEYS,
      DriftDetectorConfig.MODEL_KEYS);

  private ConfigKeys() {}

  /**
   * Refuses a {@code flywheel.yaml} with a top-level key no service reads, or a key of a {@code
   * models:} entry no service reads. Values are not checked here: each service checks its own.
   *
   * @param yaml the file's text; blank is fine
   * @param configName the file as messages name it
   * @throws IllegalArgumentException naming the file, each unknown key with its path ({@code
   *     models[0].polcy}), the closest known key when one is close, and the known keys
   */
  public static void check(String yaml, String configName) {
    JsonNode root;
    try {
      root = yaml.isBlank() ? null : YAML.readTree(yaml);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(configName + " is not valid YAML: "
          + e.getOriginalMessage(), e);
    }
    if (root == null || !root.isObject()) {
      return; // empty, or not a mapping: the services say what is wrong with it
    }
    List<String> problems = new ArrayList<>();
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!SECTIONS.contains(key)) {
        problems.add("unknown top-level section '" + key + "'" + KeyHints.didYouMean(key, SECTIONS)
            + (MODEL_KEYS.contains(key) ? " ('" + key + "' is a key of a models: entry; indent"
                + " it under one)" : "")
            + "; the sections are " + SECTIONS);
      }
    }
    JsonNode models = root.path(MODELS);
    if (models.isArray()) {
      for (int i = 0; i < models.size(); i++) {
        JsonNode entry = models.get(i);
        if (!entry.isObject()) {
          continue; // the services say a model entry must be a mapping
        }
        String name = entry.path("name").isTextual() ? " (model '" + entry.get("name").asText()
            + "')" : "";
        for (Iterator<String> it = entry.fieldNames(); it.hasNext(); ) {
          String key = it.next();
          if (!MODEL_KEYS.contains(key)) {
            problems.add("unknown key '" + key + "' at " + MODELS + "[" + i + "]." + key + name
                + KeyHints.didYouMean(key, MODEL_KEYS)
                + (SECTIONS.contains(key) ? " ('" + key + "' is a top-level section; move it out"
                    + " of the models: entry)" : "")
                + "; the keys of a model entry are " + MODEL_KEYS);
          }
        }
      }
    }
    if (problems.size() == 1) {
      throw new IllegalArgumentException(configName + ": " + problems.get(0));
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(configName + " has " + problems.size()
          + " unknown keys:\n  " + String.join("\n  ", problems));
    }
  }

  /**
   * The keys Jackson binds {@code type} from: the {@code @JsonProperty} names of its
   * {@code @JsonCreator}, else its record components.
   *
   * @throws IllegalStateException when the type has neither, so no key would be known
   */
  static Set<String> jsonKeys(Class<?> type) {
    Set<String> keys = new TreeSet<>();
    Stream.concat(Stream.of(type.getDeclaredConstructors()),
            Stream.of(type.getDeclaredMethods()).filter(m -> Modifier.isStatic(m.getModifiers())))
        .filter(e -> e.isAnnotationPresent(JsonCreator.class))
        .map(Executable::getParameters)
        .flatMap(Stream::of)
        .map(ConfigKeys::jsonName)
        .flatMap(Optional::stream)
        .forEach(keys::add);
    if (keys.isEmpty() && type.isRecord()) {
      for (RecordComponent c : type.getRecordComponents()) {
        JsonProperty p = c.getAnnotation(JsonProperty.class);
        keys.add(p != null && !p.value().isEmpty() ? p.value() : c.getName());
      }
    }
    if (keys.isEmpty()) {
      throw new IllegalStateException(type.getName() + " names no keys: give it a @JsonCreator"
          + " with @JsonProperty parameters, or make it a record");
    }
    return Collections.unmodifiableSet(keys);
  }

  private static Optional<String> jsonName(Parameter p) {
    JsonProperty property = p.getAnnotation(JsonProperty.class);
    return property == null || property.value().isEmpty() ? Optional.empty()
        : Optional.of(property.value());
  }

  @SafeVarargs
  private static SortedSet<String> union(Set<String>... sets) {
    SortedSet<String> all = new TreeSet<>();
    for (Set<String> s : sets) {
      all.addAll(s);
    }
    return Collections.unmodifiableSortedSet(all);
  }
}
