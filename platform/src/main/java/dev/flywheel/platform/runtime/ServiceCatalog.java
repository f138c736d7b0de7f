package dev.flywheel.platform.runtime;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.flywheel.driftdetector.config.DriftDetectorConfig;
import dev.flywheel.featurestreams.FeatureStreamsConfig;
import dev.flywheel.ingest.IngestConfig;
import dev.flywheel.registryprojector.RegistryConfig;
import dev.flywheel.serde.AvroSerdeConfig;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.servingsink.ServingSinkConfig;
import dev.flywheel.topics.Topics;
import dev.flywheel.trainingtrigger.config.TrainingTriggerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Flywheel's six services by name, each built from one {@code flywheel.yaml} as a {@link
 * PlatformService} for a {@link FlywheelRuntime}: {@code flywheel up} runs every configured one,
 * {@code flywheel run <service>} one.
 *
 * <pre>{@code
 * FlywheelRuntime.Builder runtime = FlywheelRuntime.builder().host("0.0.0.0");
 * List<String> notes = ServiceCatalog.addAll(runtime, Files.readString(yaml),
 *     PlatformConfig.load(yaml, System.getenv()).withCluster(bootstrap, registryUrl),
 *     Path.of(".flywheel/state"));
 * notes.forEach(System.out::println);       // "drift: skipped, ..." for each unconfigured one
 * try (FlywheelRuntime running = runtime.build().start()) { ... }
 * }</pre>
 *
 * <p>A service runs when {@code flywheel.yaml} configures it, and is skipped with a one-line note
 * otherwise (so an empty file runs no service, and fails nothing):
 *
 * <table>
 *   <caption>services, their sections and state</caption>
 *   <tr><th>name</th><th>runs when the YAML has</th><th>HTTP on the shared server</th></tr>
 *   <tr><td>{@code registry}</td><td>{@code registry:} or {@code models:}</td>
 *       <td>{@code GET /models...}</td></tr>
 *   <tr><td>{@code ingest}</td><td>{@code sources:}, {@code ingest:} or {@code cdc:}</td>
 *       <td>{@code POST /ingest/{source}}, {@code /sources}, {@code /labels}</td></tr>
 *   <tr><td>{@code features}</td><td>{@code featureGroups:}</td>
 *       <td>{@code GET /features/{group}/{entity}}, {@code POST /features/{group}/batch}</td></tr>
 *   <tr><td>{@code serving}</td><td>{@code servingSink:}</td>
 *       <td>{@code POST /predict/{model}}</td></tr>
 *   <tr><td>{@code training}</td><td>{@code trainingTrigger:}, or a model with {@code training:}
 *       or {@code triggers:}</td><td>{@code POST /models/{model}/train}</td></tr>
 *   <tr><td>{@code drift}</td><td>{@code driftDetector:}, or a model with {@code drift:}</td>
 *       <td>none (gauges on {@code /metrics})</td></tr>
 * </table>
 *
 * <p>They start in {@link #START_ORDER}: {@code registry} first (serving reads its state at start),
 * then {@code ingest}, whose start registers the declared sources and creates their topics, which
 * {@code features} checks its groups against; then {@code features}, whose lookup {@code serving}
 * reads in the same process; then {@code training} and {@code drift}. The shared HTTP server opens
 * only after every service has started, so no HTTP record arrives before its consumers run. Each
 * Kafka Streams service keeps its state under {@code <stateDir>/<name>}. With a topic prefix,
 * default application ids get it too ({@code acme.flywheel-feature-streams}), so tenants on one
 * cluster never share a consumer group or internal topic.
 *
 * <p>Each service parses its own sections when the catalogue is built, so a wrong setting fails
 * before anything starts, naming the file, the service and the setting; a misspelt key is named
 * with its section and the keys that section knows ({@code bad.yaml: serving: unknown key
 * 'startFrm' at servingSink.startFrm; known keys: [applicationId, ...]}). A top-level section or a
 * key of a {@code models:} entry that no service reads fails first ({@link ConfigKeys#check}), so
 * a misspelt section does not merely skip its service and a misspelt model key is not ignored.
 */
public final class ServiceCatalog {

  /** The registry projector. */
  public static final String REGISTRY = "registry";
  /** HTTP ingest and change data capture. */
  public static final String INGEST = "ingest";
  /** The feature engine and its online lookup. */
  public static final String FEATURES = "features";
  /** The serving sink. */
  public static final String SERVING = "serving";
  /** Training-trigger. */
  public static final String TRAINING = "training";
  /** Drift-detector. */
  public static final String DRIFT = "drift";

  /** Every service, in the order {@link #addAll} starts them. */
  public static final List<String> START_ORDER =
      List.of(REGISTRY, INGEST, FEATURES, SERVING, TRAINING, DRIFT);

  private static final Logger log = LoggerFactory.getLogger(ServiceCatalog.class);
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final String LOCALHOST = "127.0.0.1";

  private final ServiceContext context;
  private final String configName;
  private final int httpPort;
  private final Map<String, Object> configs = new LinkedHashMap<>();
  private final Map<String, String> skipped = new LinkedHashMap<>();
  private volatile FeaturesPlatformService features;

  private ServiceCatalog(Builder b) {
    PlatformConfig config = b.config;
    this.configName = b.configName;
    int port = config.http().port();
    this.httpPort = port == 0 ? freePort() : port;
    Map<String, Object> kafka = new HashMap<>(config.kafka().properties());
    kafka.put("bootstrap.servers", config.kafka().bootstrapServers());
    Map<String, Object> serdeConfig = new HashMap<>(config.kafka().properties());
    serdeConfig.put(AvroSerdeConfig.SCHEMA_REGISTRY_URL, config.kafka().schemaRegistryUrl());
    AvroSerdes serdes = AvroSerdes.fromConfig(serdeConfig);
    Topics.Builder topics = Topics.builder(serdes)
        .partitions(config.kafka().partitions())
        .replicationFactor(config.kafka().replicationFactor());
    if (config.kafka().topicPrefix() != null) {
      topics.prefix(config.kafka().topicPrefix());
    }
    this.context = new ServiceContext(b.yaml, b.configDir, kafka,
        config.kafka().bootstrapServers(), config.kafka().schemaRegistryUrl(), serdes,
        topics.build(), b.stateDir != null ? b.stateDir : config.stateDir(),
        config.kafka().topicPrefix(), b.advertisedHost + ":" + httpPort, b.scratchDir);
    parseSections(b.yaml);
  }

  /** A builder; {@code yaml} and {@code config} are required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Adds every service {@code flywheel.yaml} configures to {@code runtime}, in {@link
   * #START_ORDER}, and sets the runtime's cluster, topic catalogue, HTTP port (a free one when
   * {@code config}'s is 0: the feature lookup must know its own address before the server opens)
   * and, with ingest, the request size ingest accepts.
   *
   * @param runtime the runtime to add to; its host is left as set
   * @param flywheelYaml the whole file's text; each service reads its own sections
   * @param config the platform settings; must name the cluster ({@link
   *     PlatformConfig#withCluster})
   * @param stateDir the root of the services' state ({@code <stateDir>/<service>})
   * @return one line per skipped service, saying which section would enable it
   * @throws IllegalArgumentException when the config names no cluster, or a service's section is
   *     invalid (naming the service and the setting)
   */
  public static List<String> addAll(FlywheelRuntime.Builder runtime, String flywheelYaml,
      PlatformConfig config, Path stateDir) {
    return builder().yaml(flywheelYaml).config(config).stateDir(stateDir).build().addAll(runtime);
  }

  /** The services the YAML configures, in start order. */
  public List<String> configured() {
    return START_ORDER.stream().filter(configs::containsKey).toList();
  }

  /** The services the YAML does not configure, each with a note on the section that would. */
  public Map<String, String> skipped() {
    return Map.copyOf(skipped);
  }

  /** The port the runtime's HTTP server must listen on (0 in the config resolved to a free one). */
  public int httpPort() {
    return httpPort;
  }

  /** The topic catalogue the services share. */
  public Topics topics() {
    return context.topics();
  }

  /**
   * Adds every configured service to {@code runtime} (see {@link #addAll(FlywheelRuntime.Builder,
   * String, PlatformConfig, Path)}).
   *
   * @return one line per skipped service
   */
  public List<String> addAll(FlywheelRuntime.Builder runtime) {
    configure(runtime);
    for (String name : configured()) {
      runtime.service(meters -> create(name, meters));
    }
    List<String> notes = new ArrayList<>();
    skipped.forEach((name, why) -> notes.add(name + ": skipped, " + why));
    notes.forEach(note -> log.info("{}", note));
    return notes;
  }

  /**
   * Adds the one service {@code name} to {@code runtime} and sets the runtime's cluster, topics and
   * HTTP port as {@link #addAll(FlywheelRuntime.Builder)} does: {@code flywheel run <name>}.
   *
   * @throws IllegalArgumentException when there is no such service, or the YAML does not
   *     configure it (saying which section would)
   */
  public void add(FlywheelRuntime.Builder runtime, String name) {
    if (!START_ORDER.contains(name)) {
      throw new IllegalArgumentException("there is no service '" + name + "'; the services are "
          + String.join(", ", START_ORDER));
    }
    if (!configs.containsKey(name)) {
      throw new IllegalArgumentException(configName + " does not configure " + name + ": "
          + skipped.get(name));
    }
    configure(runtime);
    runtime.service(meters -> create(name, meters));
  }

  private void configure(FlywheelRuntime.Builder runtime) {
    runtime.kafka(context.kafka()).topics(context.topics()).httpPort(httpPort);
    if (configs.get(INGEST) instanceof IngestConfig ingest) {
      runtime.maxRequestBytes(ingest.ingest().maxBodyBytes());
    }
  }

  private PlatformService create(String name, io.micrometer.core.instrument.MeterRegistry meters) {
    Object config = configs.get(name);
    return switch (name) {
      case REGISTRY -> new RegistryPlatformService(context, (RegistryConfig) config, meters);
      case INGEST -> new IngestPlatformService(context, (IngestConfig) config, meters);
      case FEATURES -> {
        FeaturesPlatformService created =
            new FeaturesPlatformService(context, (FeatureStreamsConfig) config, meters);
        features = created;
        yield created;
      }
      case SERVING -> new ServingPlatformService(context, (ServingSinkConfig) config, meters,
          () -> features);
      case TRAINING -> new TrainingPlatformService(context, (TrainingTriggerConfig) config,
          meters);
      case DRIFT -> new DriftPlatformService(context, (DriftDetectorConfig) config, meters);
      default -> throw new IllegalArgumentException("there is no service '" + name + "'");
    };
  }

  private void parseSections(String yaml) {
    Map<String, Object> root;
    try {
      root = yaml.isBlank() ? Map.of() : YAML.readValue(yaml,
          YAML.getTypeFactory().constructMapType(LinkedHashMap.class, String.class, Object.class));
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(configName + " is not valid YAML: "
          + e.getOriginalMessage(), e);
    }
    ConfigKeys.check(yaml, configName);
    Map<String, Object> sections = root == null ? Map.of() : root;
    List<?> models = sections.get("models") instanceof List<?> list ? list : List.of();
    if (sections.containsKey("registry") || sections.containsKey("models")) {
      configs.put(REGISTRY, parse(REGISTRY, () -> RegistryConfig.parse(yaml)));
    } else {
      skipped.put(REGISTRY, configName + " has no registry or models section");
    }
    if (sections.containsKey("sources") || sections.containsKey("ingest")
        || sections.containsKey("cdc")) {
      configs.put(INGEST, parse(INGEST, () -> IngestConfig.parse(yaml)));
    } else {
      skipped.put(INGEST, configName + " has no sources, ingest or cdc section");
    }
    if (sections.containsKey("featureGroups")) {
      configs.put(FEATURES, parse(FEATURES, () -> FeatureStreamsConfig.parse(yaml)));
    } else {
      skipped.put(FEATURES, configName + " has no featureGroups section");
    }
    if (sections.containsKey("servingSink")) {
      configs.put(SERVING, parse(SERVING, () -> ServingSinkConfig.parse(yaml)));
    } else {
      skipped.put(SERVING, configName + " has no servingSink section");
    }
    if (sections.containsKey("trainingTrigger") || anyModelHas(models, "training")
        || anyModelHas(models, "triggers")) {
      configs.put(TRAINING, parse(TRAINING,
          () -> TrainingTriggerConfig.parse(yaml, configName)));
    } else {
      skipped.put(TRAINING, configName + " has no trainingTrigger section and no model with"
          + " training or triggers");
    }
    if (sections.containsKey("driftDetector") || anyModelHas(models, "drift")) {
      configs.put(DRIFT, parse(DRIFT, () -> DriftDetectorConfig.parse(yaml, configName)));
    } else {
      skipped.put(DRIFT, configName + " has no driftDetector section and no model with drift");
    }
  }

  private static boolean anyModelHas(List<?> models, String key) {
    return models.stream().anyMatch(m -> m instanceof Map<?, ?> entry && entry.containsKey(key));
  }

  private Object parse(String service, ParseStep step) {
    try {
      return step.parse();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      String message = unknownKey(e).orElse(String.valueOf(e.getMessage()));
      // training and drift name the file themselves (they are given configName)
      String named = configName + ": ";
      if (message.startsWith(named)) {
        message = message.substring(named.length());
      }
      throw new IllegalArgumentException(configName + ": " + service + ": " + message, e);
    }
  }

  /**
   * A misspelt key, when a service's parser failed on one: the key, where it is and the keys its
   * section knows, instead of the parser's own words (which may name a Java class).
   */
  static Optional<String> unknownKey(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof UnrecognizedPropertyException e) {
        StringBuilder at = new StringBuilder();
        for (JsonMappingException.Reference ref : e.getPath()) {
          if (ref.getFieldName() != null) {
            at.append(at.isEmpty() ? "" : ".").append(ref.getFieldName());
          } else if (ref.getIndex() >= 0) {
            at.append('[').append(ref.getIndex()).append(']');
          }
        }
        TreeSet<String> known = new TreeSet<>();
        if (e.getKnownPropertyIds() != null) {
          e.getKnownPropertyIds().forEach(id -> known.add(String.valueOf(id)));
        }
        return Optional.of("unknown key '" + e.getPropertyName() + "' at "
            + (at.isEmpty() ? e.getPropertyName() : at) + "; known keys: " + known);
      }
    }
    return Optional.empty();
  }

  @FunctionalInterface
  private interface ParseStep {
    Object parse() throws IOException;
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(LOCALHOST))) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free port for HTTP: " + e.getMessage(), e);
    }
  }

  /** Builds a {@link ServiceCatalog}. */
  public static final class Builder {
    private String yaml;
    private String configName = "flywheel.yaml";
    private Path configDir = Path.of(".");
    private PlatformConfig config;
    private Path stateDir;
    private Path scratchDir;
    private String advertisedHost = LOCALHOST;

    private Builder() {}

    /** The whole {@code flywheel.yaml} text; required (may be empty). */
    public Builder yaml(String yaml) {
      this.yaml = Objects.requireNonNull(yaml, "yaml");
      return this;
    }

    /**
     * The file as errors name it, such as the path given to {@code --config}; default {@code
     * flywheel.yaml}.
     */
    public Builder configName(String configName) {
      this.configName = Objects.requireNonNull(configName, "configName");
      return this;
    }

    /** The folder paths in the YAML (such as schema files) are relative to; default {@code .}. */
    public Builder configDir(Path configDir) {
      this.configDir = Objects.requireNonNull(configDir, "configDir");
      return this;
    }

    /** The platform settings, naming the cluster ({@link PlatformConfig#withCluster}); required. */
    public Builder config(PlatformConfig config) {
      this.config = Objects.requireNonNull(config, "config");
      return this;
    }

    /** The root of the services' state; default the config's {@code stateDir}. */
    public Builder stateDir(Path stateDir) {
      this.stateDir = Objects.requireNonNull(stateDir, "stateDir");
      return this;
    }

    /**
     * Where training keeps its artifacts ({@code <scratchDir>/artifacts}) and work files ({@code
     * <scratchDir>/training}) when {@code trainingTrigger.artifactDir} and {@code workDir} are left
     * at their defaults; by default those stay under {@code .flywheel/} in the working directory.
     * {@code flywheel up --temporary} points it at its temporary folder.
     */
    public Builder scratchDir(Path scratchDir) {
      this.scratchDir = Objects.requireNonNull(scratchDir, "scratchDir");
      return this;
    }

    /**
     * The host other instances reach this process's HTTP server at, for routed feature lookups;
     * default {@code 127.0.0.1} (one machine).
     */
    public Builder advertisedHost(String advertisedHost) {
      this.advertisedHost = Objects.requireNonNull(advertisedHost, "advertisedHost");
      return this;
    }

    /**
     * @throws IllegalStateException when yaml or config is missing, or the config names no
     *     cluster
     * @throws IllegalArgumentException when a service's section is invalid
     */
    public ServiceCatalog build() {
      if (yaml == null || config == null) {
        throw new IllegalStateException("ServiceCatalog needs the flywheel.yaml text and the"
            + " PlatformConfig");
      }
      if (config.kafka().isEmbedded()) {
        throw new IllegalStateException("the PlatformConfig names no cluster: set"
            + " kafka.bootstrapServers and kafka.schemaRegistryUrl, or call withCluster(bootstrap,"
            + " registryUrl) once the embedded broker runs");
      }
      return new ServiceCatalog(this);
    }
  }
}
