package dev.flywheel.devstack.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs a test class against the shared embedded {@link dev.flywheel.devstack.Devstack}: a KRaft
 * broker and the schema registry, started once for the whole test run of a module and stopped when
 * it ends, plus PostgreSQL from the first test that asks for it.
 *
 * <p>Test methods, constructors and lifecycle methods may declare parameters of type {@link
 * dev.flywheel.devstack.Devstack}, {@link dev.flywheel.devstack.EmbeddedKafka}, {@link
 * dev.flywheel.devstack.registry.EmbeddedSchemaRegistry}, {@link
 * dev.flywheel.devstack.EmbeddedPostgres} and {@link UniqueNames}:
 *
 * <pre>{@code
 * @WithDevstack
 * class EnrichmentIT {
 *   @Test
 *   void shouldEnrich(Devstack devstack, UniqueNames names) {
 *     String input = names.topic("transactions");   // e.g. t12-shouldEnrich.transactions
 *     ...
 *   }
 * }
 * }</pre>
 *
 * <p>The same as {@code @ExtendWith(DevstackExtension.class)}.
 */
@Target({ElementType.TYPE, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(DevstackExtension.class)
public @interface WithDevstack {}
