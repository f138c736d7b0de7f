package dev.flywheel.servingsink;

import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.ServiceEnvironment;
import io.javalin.Javalin;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Runs the serving sink on its own: {@code ServingSinkMain [flywheel.yaml]}.
 *
 * <p>Connection settings come from the environment, with the embedded stack's defaults: {@code
 * FLYWHEEL_BOOTSTRAP_SERVERS} ({@code 127.0.0.1:9092}), {@code FLYWHEEL_SCHEMA_REGISTRY_URL}
 * ({@code http://127.0.0.1:8081}), {@code FLYWHEEL_TOPIC_PREFIX} (none), {@code
 * FLYWHEEL_SERVING_PORT} (HTTP port of {@code POST /predict}, default 8084; 0 for a free one).
 * Any Kafka client property can be given as an environment variable {@code FLYWHEEL_KAFKA_<NAME>}
 * ({@code FLYWHEEL_KAFKA_SECURITY_PROTOCOL=SASL_SSL}) or a system property {@code
 * -Dflywheel.kafka.<property>=<value>}, which wins (see {@link ServiceEnvironment}). Stops cleanly
 * on SIGTERM/Ctrl-C.
 */
public final class ServingSinkMain {

  /** System properties with this prefix are passed to every Kafka client, prefix removed. */
  public static final String KAFKA_PROPERTY_PREFIX = ServiceEnvironment.KAFKA_PROPERTY_PREFIX;

  private ServingSinkMain() {}

  /** Starts the service and blocks until the JVM is asked to stop. */
  public static void main(String[] args) throws Exception {
    Path yaml = Path.of(args.length > 0 ? args[0] : "flywheel.yaml");
    ServingSinkConfig config = Files.exists(yaml) ? ServingSinkConfig.load(yaml)
        : ServingSinkConfig.defaults();
    ServiceEnvironment env = ServiceEnvironment.fromSystem();
    AvroSerdes serdes = env.serdes();
    // FLYWHEEL_KAFKA_<NAME> and -Dflywheel.kafka.<property>: any Kafka client property
    ServingSinkService service = ServingSinkService.builder().config(config).kafka(env.kafka())
        .topics(env.topics(serdes)).meters(new SimpleMeterRegistry()).build().start();
    Javalin http = Javalin.create(c -> {
      c.jetty.port = Integer.parseInt(env.get("FLYWHEEL_SERVING_PORT", "8084"));
      c.startup.showJavalinBanner = false;
      c.startup.showOldJavalinVersionWarning = false;
      service.routes(c.routes);
    }).start();
    ServiceEnvironment.ShutdownLatch stopped =
        ServiceEnvironment.closeOnShutdown("flywheel-serving-sink-shutdown", http::stop, service);
    System.out.println("flywheel serving-sink serving " + service.served().values()
        + "; POST /predict on port " + http.port());
    stopped.await();
  }
}
