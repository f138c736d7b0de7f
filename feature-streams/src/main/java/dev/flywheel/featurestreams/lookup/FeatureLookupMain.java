package dev.flywheel.featurestreams.lookup;

import dev.flywheel.featurestreams.FeatureStreamsConfig;
import dev.flywheel.featurestreams.FeatureStreamsMain;
import dev.flywheel.featurestreams.FeatureStreamsService;
import dev.flywheel.topics.ServiceEnvironment;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Runs the feature engine with its online lookup on its own HTTP server: {@code
 * FeatureLookupMain [flywheel.yaml]} (the built-in {@code card_activity} group when the file
 * declares no {@code featureGroups}).
 *
 * <p>The environment of {@link FeatureStreamsMain} ({@code FLYWHEEL_BOOTSTRAP_SERVERS}, {@code
 * FLYWHEEL_SCHEMA_REGISTRY_URL}, {@code FLYWHEEL_TOPIC_PREFIX}, {@code
 * FLYWHEEL_FEATURES_APPLICATION_ID}, {@code FLYWHEEL_STATE_DIR}, {@code
 * FLYWHEEL_FEATURES_STANDBY_REPLICAS}, {@code FLYWHEEL_REPLICATION_FACTOR}, {@code
 * FLYWHEEL_SCHEMA_REGISTRY_<NAME>}, {@code FLYWHEEL_KAFKA_<NAME>}, {@code
 * -Dflywheel.kafka.<property>}; see {@link FeatureStreamsMain#serviceBuilder}), plus {@code
 * FLYWHEEL_LOOKUP_PORT} (default 8080) and {@code FLYWHEEL_APPLICATION_SERVER} (default {@code
 * 127.0.0.1:<port>}; when several instances share the application id, set it to an address the
 * others can reach). Stops cleanly on SIGTERM/Ctrl-C.
 */
public final class FeatureLookupMain {

  private FeatureLookupMain() {}

  /** Starts the engine and the lookup, and blocks until the JVM is asked to stop. */
  public static void main(String[] args) throws InterruptedException {
    Path yaml = Path.of(args.length > 0 ? args[0] : "flywheel.yaml");
    FeatureStreamsConfig config = Files.exists(yaml) ? FeatureStreamsConfig.load(yaml)
        : FeatureStreamsConfig.cardActivity();
    ServiceEnvironment env = ServiceEnvironment.fromSystem();
    int port = Integer.parseInt(env.get("FLYWHEEL_LOOKUP_PORT", "8080"));
    String server = env.get("FLYWHEEL_APPLICATION_SERVER", "127.0.0.1:" + port);
    FeatureStreamsService.Builder builder = FeatureStreamsMain.serviceBuilder(config, env)
        .applicationServer(server);
    FeatureStreamsService features = builder.build().start();
    FeatureLookupService lookup = FeatureLookupService.builder()
        .streams(features::kafkaStreams)
        .applicationServer(server)
        .groups(LookupGroup.of(config))
        .port(port)
        .build()
        .start();
    ServiceEnvironment.ShutdownLatch stopped = ServiceEnvironment.closeOnShutdown(
        "flywheel-feature-lookup-shutdown", lookup, features);
    System.out.println("flywheel feature lookup on http://" + server + "/features/{group}/{entity}"
        + " for groups " + config.groupNames());
    stopped.await();
  }
}
