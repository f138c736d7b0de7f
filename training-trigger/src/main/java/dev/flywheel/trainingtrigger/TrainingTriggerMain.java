package dev.flywheel.trainingtrigger;

import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.ServiceEnvironment;
import dev.flywheel.trainingtrigger.config.TrainingTriggerConfig;
import io.javalin.Javalin;
import java.nio.file.Path;

/**
 * Runs training-trigger on its own: {@code TrainingTriggerMain [flywheel.yaml]}.
 *
 * <p>Connection settings come from the environment, with the embedded stack's defaults: {@code
 * FLYWHEEL_BOOTSTRAP_SERVERS} ({@code 127.0.0.1:9092}), {@code FLYWHEEL_SCHEMA_REGISTRY_URL}
 * ({@code http://127.0.0.1:8081}), {@code FLYWHEEL_TOPIC_PREFIX} (none), {@code
 * FLYWHEEL_TRAINING_PORT} (HTTP, default {@value #DEFAULT_PORT}; 0 picks a free one). Any Kafka
 * client property can be given as an environment variable {@code FLYWHEEL_KAFKA_<NAME>} ({@code
 * FLYWHEEL_KAFKA_SECURITY_PROTOCOL=SASL_SSL}) or a system property {@code
 * -Dflywheel.kafka.<property>=<value>}, which wins (see {@link ServiceEnvironment}). Stops cleanly
 * on SIGTERM/Ctrl-C.
 */
public final class TrainingTriggerMain {

  /** The HTTP port unless configured. */
  public static final int DEFAULT_PORT = 8084;

  private TrainingTriggerMain() {}

  /** Starts the service and blocks until the JVM is asked to stop. */
  public static void main(String[] args) throws InterruptedException {
    Path yaml = Path.of(args.length > 0 ? args[0] : "flywheel.yaml");
    TrainingTriggerConfig config = TrainingTriggerConfig.load(yaml);
    ServiceEnvironment env = ServiceEnvironment.fromSystem();
    AvroSerdes serdes = env.serdes();
    TrainingTriggerService service = TrainingTriggerService.builder().config(config)
        .kafka(env.kafka()).schemaRegistryUrl(env.schemaRegistryUrl()).topics(env.topics(serdes))
        .build().start();
    int port = Integer.parseInt(env.get("FLYWHEEL_TRAINING_PORT", Integer.toString(DEFAULT_PORT)));
    Javalin http = Javalin.create(c -> {
      c.jetty.port = port;
      c.startup.showJavalinBanner = false;
      c.startup.showOldJavalinVersionWarning = false;
      service.routes(c.routes);
    }).start();
    ServiceEnvironment.ShutdownLatch stopped = ServiceEnvironment.closeOnShutdown(
        "flywheel-training-trigger-shutdown", http::stop, service);
    System.out.println("flywheel training-trigger running; POST http://127.0.0.1:" + http.port()
        + "/models/{model}/train");
    stopped.await();
  }
}
