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
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
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
 * <p>A model entry without {@code featureGroup} that names nothing else about training either (no
 * {@code training}, {@code triggers}, {@code features} or {@code task}) is a model trained outside
 * Flywheel, declared for the registry and drift detection only (as ingest reads it: an entry with
 * neither {@code featureGroup} nor {@code training} is not trained by Flywheel; it may name its
 * {@code target}, which ingest uses to check labels). It is one of {@link #externalModels}, never
 * trained: requests for it are refused (see {@link #EXTERNAL_HINT}). An entry that names any of
 * those keys without {@code featureGroup} is an error.
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
 * @param models the models Flywheel trains, by name in declaration order; never null
 * @param externalModels the names of the models declared without {@code featureGroup}, trained
 *     outside Flywheel, in declaration order; never null
 * @param service this service's settings; never null
 */
public record TrainingTriggerConfig(Map<String, ModelSpec> models, Set<String> externalModels,
    Service service) {

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

  /** The top-level sections this service reads ({@code models}, {@code trainingTrigger}). */
  public static final Set<String> SECTIONS = keysOf(FileYaml.class);

  /**
   * The keys of a {@code models:} entry this service reads; the keys inside {@code training} and
   * {@code triggers} are checked by the parser itself.
   */
  public static final Set<String> MODEL_KEYS = keysOf(ModelYaml.class);

  /**
   * The keys of a model entry that only a model Flywheel trains uses; one of them without {@code
   * featureGroup} is an error, none of them makes the entry a model trained outside Flywheel.
   */
  public static final List<String> TRAINING_KEYS = List.of("training", "triggers", "features",
      "task");

  /** What to do to have a model trained outside Flywheel trained by it. */
  public static final String EXTERNAL_HINT = "to have Flywheel train it, add featureGroup: <the"
      + " feature group whose vectors train it> to its entry under models: in flywheel.yaml";

  /** Copies. @throws InvalidConfigException when a name is both trained and external */
  public TrainingTriggerConfig {
    models = Collections.unmodifiableMap(new LinkedHashMap<>(models));
    externalModels = externalModels == null ? Set.of()
        : Collections.unmodifiableSet(new LinkedHashSet<>(externalModels));
    service = service == null ? Service.defaults() : service;
    for (String name : externalModels) {
      if (models.containsKey(name)) {
        throw new InvalidConfigException("model '" + name + "' is declared twice");
      }
    }
  }

  /** These models, none external. */
  public TrainingTriggerConfig(Map<String, ModelSpec> models, Service service) {
    this(models, Set.of(), service);
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
    return new TrainingTriggerConfig(models, externalModels, s);
  }

  /** This config with these models trained outside Flywheel (declared without featureGroup). */
  public TrainingTriggerConfig withExternalModels(Collection<String> names) {
    return new TrainingTriggerConfig(models, new LinkedHashSet<>(names), service);
  }

  /** The model of this name, if declared for Flywheel to train (with a feature group). */
  public Optional<ModelSpec> model(String name) {
    return Optional.ofNullable(models.get(name));
  }

  /** Whether a model of this name is declared without featureGroup: trained outside Flywheel. */
  public boolean isExternal(String name) {
    return externalModels.contains(name);
  }

  /**
   * Why a request to train {@code name}, declared without featureGroup, is refused, and what to
   * do instead.
   */
  public static String externalRefusal(String name) {
    return "model '" + name + "' is declared in flywheel.yaml without featureGroup, so it is"
        + " trained outside Flywheel and training-trigger does not train it; " + EXTERNAL_HINT;
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
    List<String> external = new ArrayList<>();
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
        List<String> trainingKeys = m.trainingKeys();
        if (m.featureGroup() == null && trainingKeys.isEmpty()) {
          external.add(m.name()); // trained outside Flywheel: for the registry and drift only
          continue;
        }
        throw new InvalidConfigException(where + ": " + at + ".featureGroup is "
            + (m.featureGroup() == null ? "missing" : "blank") + ": name the feature group whose"
            + " vectors train the model, e.g. featureGroup: card_activity"
            + (trainingKeys.isEmpty() ? ""
                : " (the entry names " + String.join(", ", trainingKeys) + ", which only a model"
                    + " Flywheel trains uses; for a model trained outside Flywheel, declared for"
                    + " the registry and drift detection only, remove "
                    + (trainingKeys.size() == 1 ? "it" : "them") + " instead)"));
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
    return of(models).withExternalModels(external).withService(service);
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
      List<String> features, TrainingSpec.Yaml training, TriggerSpec.Yaml triggers) {

    /** The {@link #TRAINING_KEYS} this entry names, in that order. */
    List<String> trainingKeys() {
      List<String> named = new ArrayList<>();
      Object[] values = {training, triggers, features, task};
      for (int i = 0; i < values.length; i++) {
        if (values[i] != null) {
          named.add(TRAINING_KEYS.get(i));
        }
      }
      return named;
    }
  }

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
