package dev.flywheel.servingsink;

import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import io.javalin.Javalin;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * Runs the serving sink on its own: {@code ServingSinkMain [flywheel.yaml]}.
 *
 * <p>Connection settings come from the environment, with the embedded stack's defaults: {@code
 * FLYWHEEL_BOOTSTRAP_SERVERS} ({@code 127.0.0.1:9092}), {@code FLYWHEEL_SCHEMA_REGISTRY_URL}
 * ({@code http://127.0.0.1:8081}), {@code FLYWHEEL_TOPIC_PREFIX} (none), {@code
 * FLYWHEEL_SERVING_PORT} (HTTP port of {@code POST /predict}, default 8084; 0 for a free one).
 * Any Kafka client property can be given as {@code -Dflywheel.kafka.<property>=<value>}. Stops
 * cleanly on SIGTERM/Ctrl-C.
 */
public final class ServingSinkMain {

  /** System properties with this prefix are passed to every Kafka client, prefix removed. */
  public static final String KAFKA_PROPERTY_PREFIX = "flywheel.kafka.";

  private ServingSinkMain() {}

  /** Starts the service and blocks until the JVM is asked to stop. */
  public static void main(String[] args) throws Exception {
    Path yaml = Path.of(args.length > 0 ? args[0] : "flywheel.yaml");
    ServingSinkConfig config = Files.exists(yaml) ? ServingSinkConfig.load(yaml)
        : ServingSinkConfig.defaults();
    String registry = env("FLYWHEEL_SCHEMA_REGISTRY_URL", "http://127.0.0.1:8081");
    AvroSerdes serdes = AvroSerdes.fromConfig(Map.of("schema.registry.url", registry));
    Topics.Builder topics = Topics.builder(serdes);
    String prefix = System.getenv("FLYWHEEL_TOPIC_PREFIX");
    if (prefix != null && !prefix.isBlank()) {
      topics.prefix(prefix);
    }
    Map<String, Object> kafka = new HashMap<>();
    kafka.put("bootstrap.servers", env("FLYWHEEL_BOOTSTRAP_SERVERS", "127.0.0.1:9092"));
    // -Dflywheel.kafka.<property>=<value>: any Kafka client property (security, timeouts)
    System.getProperties().forEach((k, v) -> {
      if (k.toString().startsWith(KAFKA_PROPERTY_PREFIX)) {
        kafka.put(k.toString().substring(KAFKA_PROPERTY_PREFIX.length()), v.toString());
      }
    });
    ServingSinkService service = ServingSinkService.builder().config(config).kafka(kafka)
        .topics(topics.build()).meters(new SimpleMeterRegistry()).build().start();
    Javalin http = Javalin.create(c -> {
      c.jetty.port = Integer.parseInt(env("FLYWHEEL_SERVING_PORT", "8084"));
      c.startup.showJavalinBanner = false;
      c.startup.showOldJavalinVersionWarning = false;
      service.routes(c.routes);
    }).start();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      http.stop();
      service.close();
      stopped.countDown();
    }, "flywheel-serving-sink-shutdown"));
    System.out.println("flywheel serving-sink serving " + service.served().values()
        + "; POST /predict on port " + http.port());
    stopped.await();
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : value;
  }
}
