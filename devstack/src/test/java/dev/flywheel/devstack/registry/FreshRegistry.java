package dev.flywheel.devstack.registry;

import dev.flywheel.devstack.junit.DevstackExtension;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A schema registry of its own for each test, on its own {@code _schemas} topic of the shared
 * devstack broker: every test starts from an empty registry whose ids begin at 1, without paying
 * for a broker of its own. Register with {@code @RegisterExtension} in a {@code @WithDevstack}
 * class.
 */
final class FreshRegistry implements BeforeEachCallback, AfterEachCallback {

  private static final AtomicInteger TOPICS = new AtomicInteger();

  private String bootstrapServers;
  private EmbeddedSchemaRegistry registry;
  private RegistryHttp http;

  @Override
  public void beforeEach(ExtensionContext context) {
    bootstrapServers = DevstackExtension.devstack(context).bootstrapServers();
    registry = start(UnaryOperator.identity());
    http = new RegistryHttp(registry.url());
  }

  @Override
  public void afterEach(ExtensionContext context) {
    if (registry != null) {
      registry.close();
      registry = null;
    }
  }

  /** This test's registry. */
  EmbeddedSchemaRegistry registry() {
    return registry;
  }

  /** Raw HTTP to this test's registry. */
  RegistryHttp http() {
    return http;
  }

  /**
   * Another registry on a fresh topic of the shared broker, configured by {@code settings}; the
   * caller closes it.
   */
  EmbeddedSchemaRegistry startAnother(UnaryOperator<EmbeddedSchemaRegistry.Builder> settings) {
    return start(settings);
  }

  private EmbeddedSchemaRegistry start(UnaryOperator<EmbeddedSchemaRegistry.Builder> settings) {
    return settings.apply(EmbeddedSchemaRegistry.builder()
            .bootstrapServers(bootstrapServers)
            .topic("_schemas-test-" + TOPICS.incrementAndGet()))
        .build()
        .start();
  }
}
