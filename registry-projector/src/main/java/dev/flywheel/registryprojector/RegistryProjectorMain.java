package dev.flywheel.registryprojector;

import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.ServiceEnvironment;
import dev.flywheel.topics.Topics;
import io.javalin.Javalin;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the registry projector on its own, with its query API and {@code /health} on one HTTP
 * port: {@code RegistryProjectorMain [flywheel.yaml]}. Settings from the environment:
 * {@code FLYWHEEL_BOOTSTRAP_SERVERS} (default {@code 127.0.0.1:9092}), {@code
 * FLYWHEEL_SCHEMA_REGISTRY_URL} (default {@code http://127.0.0.1:8081}), {@code
 * FLYWHEEL_TOPIC_PREFIX}, {@code FLYWHEEL_STATE_DIR} (default {@code .flywheel/state}) and {@code
 * FLYWHEEL_REGISTRY_PORT} (overrides {@code registry.port}). Any Kafka client or Streams
 * property passes through as an environment variable {@code FLYWHEEL_KAFKA_<NAME>} ({@code
 * FLYWHEEL_KAFKA_SECURITY_PROTOCOL=SASL_SSL}) or a system property {@code
 * -Dflywheel.kafka.<property>=<value>}, which wins (see {@link ServiceEnvironment}). The older form
 * {@code -Dkafka.<property>=<value>} is still read; it wins over the variables and loses to {@code
 * -Dflywheel.kafka.<property>}. Stops cleanly on SIGTERM / Ctrl-C.
 */
public final class RegistryProjectorMain {

  private static final Logger log = LoggerFactory.getLogger(RegistryProjectorMain.class);

  /**
   * The older prefix of system properties passed to the Kafka clients, still read next to {@code
   * -Dflywheel.kafka.<property>}.
   */
  public static final String KAFKA_PREFIX = "kafka.";

  private RegistryProjectorMain() {}

  /** @param args optionally the path of {@code flywheel.yaml} (default {@code flywheel.yaml}) */
  public static void main(String[] args) throws InterruptedException {
    Path yaml = Path.of(args.length > 0 ? args[0] : "flywheel.yaml");
    RegistryConfig config = Files.exists(yaml) ? RegistryConfig.load(yaml)
        : RegistryConfig.defaults();
    ServiceEnvironment env = ServiceEnvironment.fromSystem();
    String registryUrl = env.schemaRegistryUrl();
    Path stateDir = env.stateDir();
    int port = Integer.parseInt(env.get("FLYWHEEL_REGISTRY_PORT", Integer.toString(config.port())));

    AvroSerdes serdes = env.serdes();
    Topics topics = env.topics(serdes);
    Map<String, Object> kafka = env.kafka(KAFKA_PREFIX);
    RegistryProjectorService service = RegistryProjectorService.builder().config(config)
        .kafka(kafka).serdes(serdes).topics(topics).stateDir(stateDir).build();
    Javalin http = Javalin.create(c -> {
      c.startup.showJavalinBanner = false;
      c.startup.showOldJavalinVersionWarning = false;
      c.jetty.port = port;
      service.routes(c.routes);
      c.routes.get("/health", ctx -> {
        Optional<String> problem = service.healthProblem();
        ctx.status(problem.isEmpty() ? 200 : 503).contentType("application/json")
            .result(RegistryJson.write(problem.isEmpty()
                ? RegistryJson.MAPPER.createObjectNode().put("status", "UP")
                : RegistryJson.MAPPER.createObjectNode().put("status", "DOWN")
                    .put("reason", problem.get())));
      });
    });
    ServiceEnvironment.ShutdownLatch stopped =
        ServiceEnvironment.closeOnShutdown("registry-projector-shutdown", http::stop, service);
    service.start();
    http.start();
    log.info("registry projector on {} (schema registry {}), query API on http://127.0.0.1:{}"
        + "/models", kafka.get("bootstrap.servers"), registryUrl, http.port());
    System.out.println("registry projector listening on port " + http.port());
    stopped.await();
  }
}
