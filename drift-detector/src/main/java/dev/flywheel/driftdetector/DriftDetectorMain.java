package dev.flywheel.driftdetector;

import dev.flywheel.driftdetector.config.DriftDetectorConfig;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.ServiceEnvironment;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Runs drift detection on its own: {@code DriftDetectorMain [flywheel.yaml]}.
 *
 * <p>Connection settings come from the environment, with the embedded stack's defaults: {@code
 * FLYWHEEL_BOOTSTRAP_SERVERS} ({@code 127.0.0.1:9092}), {@code FLYWHEEL_SCHEMA_REGISTRY_URL}
 * ({@code http://127.0.0.1:8081}), {@code FLYWHEEL_TOPIC_PREFIX} (none), {@code
 * FLYWHEEL_STATE_DIR} ({@code .flywheel/state}). Any Kafka client property can be given as an
 * environment variable {@code FLYWHEEL_KAFKA_<NAME>} ({@code
 * FLYWHEEL_KAFKA_SECURITY_PROTOCOL=SASL_SSL}) or a system property {@code
 * -Dflywheel.kafka.<property>=<value>}, which wins (see {@link ServiceEnvironment}). Stops cleanly
 * on SIGTERM/Ctrl-C.
 */
public final class DriftDetectorMain {

  /** Prefix of system properties passed to the Kafka clients. */
  public static final String KAFKA_PROPERTY_PREFIX = ServiceEnvironment.KAFKA_PROPERTY_PREFIX;

  private DriftDetectorMain() {}

  /** Starts the service and blocks until the JVM is asked to stop. */
  public static void main(String[] args) throws InterruptedException {
    Path yaml = Path.of(args.length > 0 ? args[0] : "flywheel.yaml");
    DriftDetectorConfig config = Files.exists(yaml) ? DriftDetectorConfig.load(yaml)
        : DriftDetectorConfig.defaults();
    ServiceEnvironment env = ServiceEnvironment.fromSystem();
    AvroSerdes serdes = env.serdes();
    DriftDetectorService service = DriftDetectorService.builder()
        .config(config)
        .kafka(env.kafka())
        .schemaRegistryUrl(env.schemaRegistryUrl())
        .topics(env.topics(serdes))
        .serdes(serdes)
        .stateDir(env.stateDir())
        .build()
        .start();
    ServiceEnvironment.ShutdownLatch stopped =
        ServiceEnvironment.closeOnShutdown("flywheel-drift-detector-shutdown", service);
    System.out.println("flywheel drift-detector running as " + config.applicationId());
    stopped.await();
  }
}
