package dev.flywheel.devstack.junit;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.EmbeddedKafka;
import dev.flywheel.devstack.EmbeddedPostgres;
import dev.flywheel.devstack.registry.EmbeddedSchemaRegistry;
import java.lang.reflect.Method;
import java.util.Set;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ExtensionContext.Namespace;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * The JUnit 5 extension behind {@link WithDevstack}: one embedded {@link Devstack} (broker and
 * schema registry) shared by every test class of a test run, so a module's integration tests pay
 * the start-up once.
 *
 * <p>The stack lives in the store of the root {@link ExtensionContext}, which JUnit closes when the
 * whole run ends (with Maven: once per test JVM). It starts before the first test class that uses
 * the extension, on free ports and temporary folders. PostgreSQL starts only when a test first asks
 * for an {@link EmbeddedPostgres} parameter (or calls {@link Devstack#startPostgres()}) and then
 * stays up for the rest of the run.
 *
 * <p>Resolves parameters of type {@link Devstack}, {@link EmbeddedKafka}, {@link
 * EmbeddedSchemaRegistry}, {@link EmbeddedPostgres} and {@link UniqueNames}. Safe under JUnit's
 * parallel execution: the store creates the stack once.
 */
public final class DevstackExtension implements BeforeAllCallback, ParameterResolver {

  private static final Namespace NAMESPACE = Namespace.create(DevstackExtension.class);
  private static final Set<Class<?>> SUPPORTED = Set.of(Devstack.class, EmbeddedKafka.class,
      EmbeddedSchemaRegistry.class, EmbeddedPostgres.class, UniqueNames.class);

  /** Used by JUnit through {@link WithDevstack} or {@code @ExtendWith}. */
  public DevstackExtension() {}

  /**
   * The stack shared by the run {@code context} belongs to, started on first use; for extensions
   * and helpers that hold an {@link ExtensionContext} rather than a parameter.
   */
  public static Devstack devstack(ExtensionContext context) {
    return context.getRoot().getStore(NAMESPACE)
        .getOrComputeIfAbsent(Devstack.class, key -> Devstack.builder().build().start(),
            Devstack.class);
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    devstack(context);
  }

  @Override
  public boolean supportsParameter(ParameterContext parameterContext,
      ExtensionContext extensionContext) {
    return SUPPORTED.contains(parameterContext.getParameter().getType());
  }

  @Override
  public Object resolveParameter(ParameterContext parameterContext,
      ExtensionContext extensionContext) {
    Class<?> type = parameterContext.getParameter().getType();
    if (type == UniqueNames.class) {
      return extensionContext.getStore(NAMESPACE).getOrComputeIfAbsent(UniqueNames.class,
          key -> UniqueNames.of(label(extensionContext)), UniqueNames.class);
    }
    Devstack devstack = devstack(extensionContext);
    if (type == Devstack.class) {
      return devstack;
    }
    if (type == EmbeddedKafka.class) {
      return devstack.kafka();
    }
    if (type == EmbeddedSchemaRegistry.class) {
      return devstack.registry();
    }
    if (type == EmbeddedPostgres.class) {
      return devstack.startPostgres();
    }
    throw new ParameterResolutionException("@WithDevstack cannot provide a " + type.getName());
  }

  private static String label(ExtensionContext context) {
    return context.getTestMethod().map(Method::getName)
        .orElseGet(() -> context.getRequiredTestClass().getSimpleName());
  }
}
