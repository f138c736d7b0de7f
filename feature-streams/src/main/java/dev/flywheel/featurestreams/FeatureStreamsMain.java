package dev.flywheel.featurestreams;

import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.ServiceEnvironment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * Runs the feature engine on its own: {@code FeatureStreamsMain [flywheel.yaml]} (default {@code
 * flywheel.yaml}; the built-in {@code card_activity} demo group when the file has no
 * {@code featureGroups}).
 *
 * <p>From the environment, with the embedded stack's defaults: {@code FLYWHEEL_BOOTSTRAP_SERVERS}
 * ({@code 127.0.0.1:9092}), {@code FLYWHEEL_SCHEMA_REGISTRY_URL} ({@code http://127.0.0.1:8081}),
 * {@code FLYWHEEL_TOPIC_PREFIX} (none), {@code FLYWHEEL_FEATURES_APPLICATION_ID} ({@value
 * FeatureStreamsService#DEFAULT_APPLICATION_ID}), {@code FLYWHEEL_STATE_DIR} (Kafka Streams'
 * temporary folder), {@code FLYWHEEL_FEATURES_STANDBY_REPLICAS} (0), {@code
 * FLYWHEEL_APPLICATION_SERVER} (none), {@code FLYWHEEL_REPLICATION_FACTOR} (the broker's default)
 * for the topics it creates. Schema registry settings (basic auth, bearer token, TLS) pass through
 * as {@code FLYWHEEL_SCHEMA_REGISTRY_<NAME>} variables ({@code
 * FLYWHEEL_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO}) or {@code -Dflywheel.schema.registry.<name>}
 * system properties (see {@link ServiceEnvironment#schemaRegistry()}). Any Kafka client or Streams property passes through as an
 * environment variable {@code FLYWHEEL_KAFKA_<NAME>} ({@code
 * FLYWHEEL_KAFKA_SECURITY_PROTOCOL=SASL_SSL}) or a system property {@code
 * -Dflywheel.kafka.<property>=<value>}, which wins (see {@link ServiceEnvironment}). Stops cleanly
 * on SIGTERM/Ctrl-C.
 */
public final class FeatureStreamsMain {

  /** Prefix of system properties passed to Kafka as they are. */
  public static final String KAFKA_PROPERTY_PREFIX = ServiceEnvironment.KAFKA_PROPERTY_PREFIX;

  private FeatureStreamsMain() {}

  /**
   * The service of {@code config} as {@code env} describes it (see the class comment): Kafka
   * settings from {@link ServiceEnvironment#kafka()}; the serdes, and the topic catalogue built
   * from them, from {@link ServiceEnvironment#serdes()} and {@link
   * ServiceEnvironment#topics(dev.flywheel.topics.AvroSerdeFactory)}, so the {@code
   * FLYWHEEL_SCHEMA_REGISTRY_<NAME>} settings (basic auth, bearer token, TLS) reach the registry
   * client, and {@code FLYWHEEL_TOPIC_PREFIX} and {@code FLYWHEEL_REPLICATION_FACTOR} the topics.
   *
   * @throws org.apache.kafka.common.config.ConfigException when a registry setting is invalid
   * @throws IllegalArgumentException when the topic prefix or replication factor is
   */
  public static FeatureStreamsService.Builder serviceBuilder(FeatureStreamsConfig config,
      ServiceEnvironment env) {
    Map<String, Object> kafka = env.kafka();
    AvroSerdes serdes = env.serdes();
    FeatureStreamsService.Builder builder = FeatureStreamsService.builder()
        .config(config)
        .bootstrapServers(String.valueOf(kafka.get("bootstrap.servers")))
        .schemaRegistryUrl(env.schemaRegistryUrl())
        .serdes(serdes)
        .topics(env.topics(serdes))
        .applicationId(env.get("FLYWHEEL_FEATURES_APPLICATION_ID",
            FeatureStreamsService.DEFAULT_APPLICATION_ID))
        .standbyReplicas(Integer.parseInt(env.get("FLYWHEEL_FEATURES_STANDBY_REPLICAS", "0")))
        .kafka(kafka);
    env.find(ServiceEnvironment.STATE_DIR).map(Path::of).ifPresent(builder::stateDir);
    env.find("FLYWHEEL_APPLICATION_SERVER").ifPresent(builder::applicationServer);
    return builder;
  }

  /** Starts the service and blocks until the JVM is asked to stop. */
  public static void main(String[] args) throws InterruptedException {
    Path yaml = Path.of(args.length > 0 ? args[0] : "flywheel.yaml");
    FeatureStreamsConfig config = Files.exists(yaml) ? FeatureStreamsConfig.load(yaml)
        : new FeatureStreamsConfig(null);
    if (config.featureGroups().isEmpty()) {
      System.out.println("no featureGroups in " + yaml + "; running the card_activity demo group");
      config = FeatureStreamsConfig.cardActivity();
    }
    FeatureStreamsService service =
        serviceBuilder(config, ServiceEnvironment.fromSystem()).build().start();
    ServiceEnvironment.ShutdownLatch stopped =
        ServiceEnvironment.closeOnShutdown("flywheel-feature-streams-shutdown", service);
    if (service.awaitRunning(Duration.ofMinutes(2))) {
      System.out.println("flywheel feature-streams running: groups " + config.groupNames());
    }
    stopped.await();
  }
}
