package dev.flywheel.featurestreams;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

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
 * FLYWHEEL_APPLICATION_SERVER} (none). Any Kafka client or Streams property passes through as a
 * system property {@code -Dflywheel.kafka.<property>=<value>}. Stops cleanly on SIGTERM/Ctrl-C.
 */
public final class FeatureStreamsMain {

  /** Prefix of system properties passed to Kafka as they are. */
  public static final String KAFKA_PROPERTY_PREFIX = "flywheel.kafka.";

  private FeatureStreamsMain() {}

  /** Starts the service and blocks until the JVM is asked to stop. */
  public static void main(String[] args) throws InterruptedException {
    Path yaml = Path.of(args.length > 0 ? args[0] : "flywheel.yaml");
    FeatureStreamsConfig config = Files.exists(yaml) ? FeatureStreamsConfig.load(yaml)
        : new FeatureStreamsConfig(null);
    if (config.featureGroups().isEmpty()) {
      System.out.println("no featureGroups in " + yaml + "; running the card_activity demo group");
      config = FeatureStreamsConfig.cardActivity();
    }
    Map<String, Object> kafka = new HashMap<>();
    System.getProperties().forEach((k, v) -> {
      if (k.toString().startsWith(KAFKA_PROPERTY_PREFIX)) {
        kafka.put(k.toString().substring(KAFKA_PROPERTY_PREFIX.length()), v);
      }
    });
    FeatureStreamsService.Builder builder = FeatureStreamsService.builder()
        .config(config)
        .bootstrapServers(env("FLYWHEEL_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
        .schemaRegistryUrl(env("FLYWHEEL_SCHEMA_REGISTRY_URL", "http://127.0.0.1:8081"))
        .topicPrefix(env("FLYWHEEL_TOPIC_PREFIX", ""))
        .applicationId(env("FLYWHEEL_FEATURES_APPLICATION_ID",
            FeatureStreamsService.DEFAULT_APPLICATION_ID))
        .standbyReplicas(Integer.parseInt(env("FLYWHEEL_FEATURES_STANDBY_REPLICAS", "0")))
        .kafka(kafka);
    String stateDir = System.getenv("FLYWHEEL_STATE_DIR");
    if (stateDir != null && !stateDir.isBlank()) {
      builder.stateDir(Path.of(stateDir));
    }
    String server = System.getenv("FLYWHEEL_APPLICATION_SERVER");
    if (server != null && !server.isBlank()) {
      builder.applicationServer(server);
    }
    FeatureStreamsService service = builder.build().start();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      service.close();
      stopped.countDown();
    }, "flywheel-feature-streams-shutdown"));
    if (service.awaitRunning(Duration.ofMinutes(2))) {
      System.out.println("flywheel feature-streams running: groups " + config.groupNames());
    }
    stopped.await();
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : value;
  }
}
