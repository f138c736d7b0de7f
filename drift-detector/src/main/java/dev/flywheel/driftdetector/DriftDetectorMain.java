package dev.flywheel.driftdetector;

import dev.flywheel.driftdetector.config.DriftDetectorConfig;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * Runs drift detection on its own: {@code DriftDetectorMain [flywheel.yaml]}.
 *
 * <p>Connection settings come from the environment, with the embedded stack's defaults: {@code
 * FLYWHEEL_BOOTSTRAP_SERVERS} ({@code 127.0.0.1:9092}), {@code FLYWHEEL_SCHEMA_REGISTRY_URL}
 * ({@code http://127.0.0.1:8081}), {@code FLYWHEEL_TOPIC_PREFIX} (none), {@code
 * FLYWHEEL_STATE_DIR} ({@code .flywheel/state}). Any Kafka client property can be given as
 * {@code -Dflywheel.kafka.<property>=<value>}. Stops cleanly on SIGTERM/Ctrl-C.
 */
public final class DriftDetectorMain {

  /** Prefix of system properties passed to the Kafka clients. */
  public static final String KAFKA_PROPERTY_PREFIX = "flywheel.kafka.";

  private DriftDetectorMain() {}

  /** Starts the service and blocks until the JVM is asked to stop. */
  public static void main(String[] args) throws InterruptedException {
    Path yaml = Path.of(args.length > 0 ? args[0] : "flywheel.yaml");
    DriftDetectorConfig config = Files.exists(yaml) ? DriftDetectorConfig.load(yaml)
        : DriftDetectorConfig.defaults();
    String registry = env("FLYWHEEL_SCHEMA_REGISTRY_URL", "http://127.0.0.1:8081");
    AvroSerdes serdes = AvroSerdes.fromConfig(Map.of("schema.registry.url", registry));
    Topics.Builder topics = Topics.builder(serdes);
    String prefix = System.getenv("FLYWHEEL_TOPIC_PREFIX");
    if (prefix != null && !prefix.isBlank()) {
      topics.prefix(prefix);
    }
    Map<String, Object> kafka = new HashMap<>();
    kafka.put("bootstrap.servers", env("FLYWHEEL_BOOTSTRAP_SERVERS", "127.0.0.1:9092"));
    System.getProperties().stringPropertyNames().stream()
        .filter(n -> n.startsWith(KAFKA_PROPERTY_PREFIX))
        .forEach(n -> kafka.put(n.substring(KAFKA_PROPERTY_PREFIX.length()),
            System.getProperty(n)));
    DriftDetectorService service = DriftDetectorService.builder()
        .config(config)
        .kafka(kafka)
        .schemaRegistryUrl(registry)
        .topics(topics.build())
        .serdes(serdes)
        .stateDir(Path.of(env("FLYWHEEL_STATE_DIR", ".flywheel/state")))
        .build()
        .start();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      service.close();
      stopped.countDown();
    }, "flywheel-drift-detector-shutdown"));
    System.out.println("flywheel drift-detector running as " + config.applicationId());
    stopped.await();
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : value;
  }
}
