package dev.flywheel.ingest;

import dev.flywheel.ingest.http.IngestService;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.ServiceEnvironment;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Runs the ingest service on its own: {@code IngestMain [flywheel.yaml]} (HTTP, and CDC when the
 * YAML has a {@code cdc} section; the database password may come from {@code
 * FLYWHEEL_CDC_PASSWORD}).
 *
 * <p>Connection settings come from the environment, with the embedded stack's defaults: {@code
 * FLYWHEEL_BOOTSTRAP_SERVERS} ({@code 127.0.0.1:9092}), {@code FLYWHEEL_SCHEMA_REGISTRY_URL}
 * ({@code http://127.0.0.1:8081}), {@code FLYWHEEL_TOPIC_PREFIX} (none). {@code
 * FLYWHEEL_INGEST_PORT} overrides {@code ingest.port} of the YAML. Any Kafka client property can
 * be given as an environment variable {@code FLYWHEEL_KAFKA_<NAME>} ({@code
 * FLYWHEEL_KAFKA_SECURITY_PROTOCOL=SASL_SSL}) or a system property {@code
 * -Dflywheel.kafka.<property>=<value>}, which wins (see {@link ServiceEnvironment}); it reaches
 * every Kafka client ingest creates, CDC's included. Stops cleanly on SIGTERM/Ctrl-C.
 */
public final class IngestMain {

  private IngestMain() {}

  /** Starts the service and blocks until the JVM is asked to stop. */
  public static void main(String[] args) throws InterruptedException {
    Path yaml = Path.of(args.length > 0 ? args[0] : "flywheel.yaml");
    IngestConfig config = Files.exists(yaml) ? IngestConfig.load(yaml)
        : IngestConfig.parse("{}");
    String port = System.getenv("FLYWHEEL_INGEST_PORT");
    if (port != null) {
      config = config.withIngest(config.ingest().withPort(Integer.parseInt(port)));
    }
    ServiceEnvironment env = ServiceEnvironment.fromSystem();
    AvroSerdes serdes = env.serdes();
    IngestService service = IngestService.builder()
        .config(config)
        .configDir(yaml.toAbsolutePath().getParent())
        .kafka(env.kafka())
        .serdes(serdes)
        .topics(env.topics(serdes))
        .build()
        .start();
    ServiceEnvironment.ShutdownLatch stopped =
        ServiceEnvironment.closeOnShutdown("flywheel-ingest-shutdown", service);
    System.out.println("flywheel ingest listening on port " + service.port());
    stopped.await();
  }
}
