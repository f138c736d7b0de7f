package dev.flywheel.trainingtrigger.config;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.flywheel.events.ModelTask;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The parts of {@code flywheel.yaml} training-trigger reads: the {@code models:} list (name,
 * feature group, target, task, features, {@code training}, {@code triggers}; other keys of an
 * entry, such as the registry's {@code policy}, are ignored) and its own {@code trainingTrigger:}
 * section. Every other top-level section belongs to another service and is ignored.
 *
 * <pre>{@code
 * trainingTrigger:
 *   applicationId: flywheel-training-trigger   # Kafka Streams application id and group prefix
 *   stateDir: .flywheel/state                  # RocksDB state
 *   artifactDir: .flywheel/artifacts           # the local content-addressed artifact store
 *   workDir: .flywheel/training                # per-run scratch space for executors
 *   concurrency: 1                             # runs executing at once in this instance
 *   tick: PT5S                                 # how often schedules and cooldowns are checked
 * }</pre>
 *
 * @param models the declared models, by name in declaration order; never null
 * @param service this service's settings; never null
 */
public record TrainingTriggerConfig(Map<String, ModelSpec> models, Service service) {

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

  /** The top-level sections this service reads ({@code models}, {@code trainingTrigger}). */
  public static final Set<String> SECTIONS = keysOf(FileYaml.class);

  /**
   * The keys of a {@code models:} entry this service reads; the keys inside {@code training} and
   * {@code triggers} are checked by the parser itself.
   */
  public static final Set<String> MODEL_KEYS = keysOf(ModelYaml.class);

  /** Copies. */
  public TrainingTriggerConfig {
    models = Collections.unmodifiableMap(new LinkedHashMap<>(models));
    service = service == null ? Service.defaults() : service;
  }

  /** These models with the default service settings. */
  public static TrainingTriggerConfig of(List<ModelSpec> models) {
    Map<String, ModelSpec> byName = new LinkedHashMap<>();
    for (ModelSpec m : models) {
      if (byName.put(m.name(), m) != null) {
        throw new InvalidConfigException("model '" + m.name() + "' is declared twice");
      }
    }
    return new TrainingTriggerConfig(byName, Service.defaults());
  }

  /** This config with other service settings. */
  public TrainingTriggerConfig withService(Service s) {
    return new TrainingTriggerConfig(models, s);
  }

  /** The model of this name, if declared. */
  public Optional<ModelSpec> model(String name) {
    return Optional.ofNullable(models.get(name));
  }

  /**
   * Reads {@code flywheel.yaml}.
   *
   * @throws InvalidConfigException when the file is missing or a setting is wrong
   */
  public static TrainingTriggerConfig load(Path file) {
    try {
      return parse(Files.readString(file), file.toString());
    } catch (NoSuchFileException e) {
      throw new InvalidConfigException(file + " does not exist; pass the path of flywheel.yaml");
    } catch (IOException e) {
      throw new InvalidConfigException("cannot read " + file + ": " + e.getMessage());
    }
  }

  /**
   * Parses YAML text.
   *
   * @param where the file name for errors
   * @throws InvalidConfigException naming the key to fix
   */
  public static TrainingTriggerConfig parse(String yaml, String where) {
    FileYaml f;
    try {
      f = YAML.readValue(yaml, FileYaml.class);
    } catch (UnrecognizedPropertyException e) {
      throw new InvalidConfigException(where + ": unknown key '" + e.getPropertyName() + "' at "
          + path(e) + "; known keys: " + e.getKnownPropertyIds());
    } catch (JsonProcessingException e) {
      throw new InvalidConfigException(where + ": " + e.getOriginalMessage() + " at "
          + path(e));
    }
    if (f == null) {
      return of(List.of());
    }
    List<ModelSpec> models = new ArrayList<>();
    Set<String> names = new HashSet<>();
    List<ModelYaml> entries = f.models() == null ? List.of() : f.models();
    for (int i = 0; i < entries.size(); i++) {
      ModelYaml m = entries.get(i);
      if (m == null || m.name() == null || m.name().isBlank()) {
        throw new InvalidConfigException(where + ": models[" + i + "] has no name");
      }
      String at = "models[" + m.name() + "]";
      if (!names.add(m.name())) {
        throw new InvalidConfigException(where + ": model '" + m.name() + "' is declared twice");
      }
      if (m.featureGroup() == null || m.featureGroup().isBlank()) {
        throw new InvalidConfigException(where + ": " + at + ".featureGroup is missing: name the"
            + " feature group whose vectors train the model, e.g. featureGroup: card_activity");
      }
      ModelTask task = null;
      if (m.task() != null) {
        try {
          task = ModelTask.valueOf(m.task().trim().toUpperCase());
        } catch (IllegalArgumentException e) {
          task = ModelTask.UNKNOWN;
        }
        if (task == ModelTask.UNKNOWN) {
          throw new InvalidConfigException(where + ": " + at + ".task is '" + m.task()
              + "'; use binary_classification or regression");
        }
      }
      models.add(new ModelSpec(m.name(), m.featureGroup(), m.target(), task, m.features(),
          m.training() == null ? null : m.training().toSpec(at + ".training"),
          m.triggers() == null ? null : m.triggers().toSpec(at + ".triggers")));
    }
    Service service = f.trainingTrigger() == null ? Service.defaults()
        : f.trainingTrigger().toService();
    return of(models).withService(service);
  }

  /** The keys Jackson binds a record of this file to: its component names. */
  private static Set<String> keysOf(Class<? extends Record> type) {
    Set<String> keys = new TreeSet<>();
    for (RecordComponent c : type.getRecordComponents()) {
      keys.add(c.getName());
    }
    return Collections.unmodifiableSet(keys);
  }

  private static String path(JsonProcessingException e) {
    if (e instanceof com.fasterxml.jackson.databind.JsonMappingException m) {
      StringBuilder b = new StringBuilder();
      for (var ref : m.getPath()) {
        if (ref.getFieldName() != null) {
          b.append(b.isEmpty() ? "" : ".").append(ref.getFieldName());
        } else {
          b.append('[').append(ref.getIndex()).append(']');
        }
      }
      return b.toString();
    }
    return e.getLocation() == null ? "?" : "line " + e.getLocation().getLineNr();
  }

  /**
   * Settings of the service itself.
   *
   * @param applicationId Streams application id; consumer groups derive from it
   * @param stateDir RocksDB state directory
   * @param artifactDir the local artifact store's root
   * @param workDir scratch space for runs
   * @param concurrency runs executing at once, at least 1
   * @param tick how often the coordinator checks schedules and cooldowns
   */
  public record Service(String applicationId, Path stateDir, Path artifactDir, Path workDir,
      int concurrency, Duration tick) {

    /** Streams application id unless configured. */
    public static final String DEFAULT_APPLICATION_ID = "flywheel-training-trigger";

    /** The defaults, under {@code .flywheel/}. */
    public static Service defaults() {
      return new Service(DEFAULT_APPLICATION_ID, Path.of(".flywheel/state"),
          Path.of(".flywheel/artifacts"), Path.of(".flywheel/training"), 1, Duration.ofSeconds(5));
    }

    /** @throws InvalidConfigException when concurrency is below 1 */
    public Service {
      if (concurrency < 1) {
        throw new InvalidConfigException("trainingTrigger.concurrency is " + concurrency
            + "; at least 1 run must be able to execute");
      }
    }
  }

  // the platform checks the keys no service reads (SECTIONS, MODEL_KEYS), so these ignore them
  @JsonIgnoreProperties(ignoreUnknown = true)
  record FileYaml(List<ModelYaml> models, ServiceYaml trainingTrigger) {}

  @JsonIgnoreProperties(ignoreUnknown = true)
  record ModelYaml(String name, String featureGroup, String target, String task,
      List<String> features, TrainingSpec.Yaml training, TriggerSpec.Yaml triggers) {}

  record ServiceYaml(String applicationId, String stateDir, String artifactDir, String workDir,
      Integer concurrency, String tick) {

    Service toService() {
      Service d = Service.defaults();
      Duration t = TimeSpans.parse("trainingTrigger.tick", tick);
      return new Service(applicationId == null ? d.applicationId() : applicationId,
          stateDir == null ? d.stateDir() : Path.of(stateDir),
          artifactDir == null ? d.artifactDir() : Path.of(artifactDir),
          workDir == null ? d.workDir() : Path.of(workDir),
          concurrency == null ? d.concurrency() : concurrency,
          t == null || t.isZero() ? d.tick() : t);
    }
  }
}
