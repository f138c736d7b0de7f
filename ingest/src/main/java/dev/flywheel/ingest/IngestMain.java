package dev.flywheel.ingest;

import dev.flywheel.ingest.http.IngestService;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * Runs the ingest service on its own: {@code IngestMain [flywheel.yaml]} (HTTP, and CDC when the
 * YAML has a {@code cdc} section; the database password may come from {@code
 * FLYWHEEL_CDC_PASSWORD}).
 *
 * <p>Connection settings come from the environment, with the embedded stack's defaults: {@code
 * FLYWHEEL_BOOTSTRAP_SERVERS} ({@code 127.0.0.1:9092}), {@code FLYWHEEL_SCHEMA_REGISTRY_URL}
 * ({@code http://127.0.0.1:8081}), {@code FLYWHEEL_TOPIC_PREFIX} (none). {@code
 * FLYWHEEL_INGEST_PORT} overrides {@code ingest.port} of the YAML. Stops cleanly on SIGTERM/Ctrl-C.
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
    String registry = env("FLYWHEEL_SCHEMA_REGISTRY_URL", "http://127.0.0.1:8081");
    AvroSerdes serdes = AvroSerdes.fromConfig(Map.of("schema.registry.url", registry));
    Topics.Builder topics = Topics.builder(serdes);
    String prefix = System.getenv("FLYWHEEL_TOPIC_PREFIX");
    if (prefix != null && !prefix.isBlank()) {
      topics.prefix(prefix);
    }
    Map<String, Object> kafka = new HashMap<>();
    kafka.put("bootstrap.servers", env("FLYWHEEL_BOOTSTRAP_SERVERS", "127.0.0.1:9092"));
    IngestService service = IngestService.builder()
        .config(config)
        .configDir(yaml.toAbsolutePath().getParent())
        .kafka(kafka)
        .serdes(serdes)
        .topics(topics.build())
        .build()
        .start();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      service.close();
      stopped.countDown();
    }, "flywheel-ingest-shutdown"));
    System.out.println("flywheel ingest listening on port " + service.port());
    stopped.await();
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : value;
  }
}
