package dev.flywheel.platform.runtime;

import io.javalin.config.RoutesConfig;
import java.util.Map;
import java.util.Optional;

/**
 * One Flywheel service as the all-in-one runtime runs it: started in order, its HTTP routes
 * mounted on the one shared server, its health part of {@code GET /health}, closed in reverse
 * order.
 */
public interface PlatformService extends AutoCloseable {

  /** Short name, as in {@code flywheel run <name>} and the health report. */
  String name();

  /** Connects to Kafka and starts processing; returns once running. */
  void start();

  /** Adds this service's routes to the shared server; called after {@link #start()}. */
  default void routes(RoutesConfig routes) {}

  /** Why the service is not healthy, or empty when it is. */
  default Optional<String> healthProblem() {
    return Optional.empty();
  }

  /**
   * What the service adds to its entry in the health report besides {@code status} and {@code
   * problem} (e.g. serving's {@code models}), whether healthy or not; values Jackson can write.
   */
  default Map<String, Object> healthDetails() {
    return Map.of();
  }

  /** Stops the service and releases everything; idempotent. */
  @Override
  void close();
}
