package dev.flywheel.devstack.junit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.EmbeddedKafka;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A second class on the shared stack, declared with {@code @ExtendWith} rather than
 * {@code @WithDevstack}; with {@link DevstackExtensionIT} in the same run it shows both get one
 * stack.
 */
@ExtendWith(DevstackExtension.class)
class DevstackExtensionSharingIT {

  private final EmbeddedKafka constructorKafka;

  DevstackExtensionSharingIT(EmbeddedKafka kafka) {
    this.constructorKafka = kafka;
  }

  @Test
  void shouldSeeTheSameStackAndBootstrapServersAsEveryOtherClass(Devstack devstack) {
    // Given the stack this class was given
    // When it is compared with those the other classes of this JVM were given
    Set<Devstack> seen = SharedDevstackProbe.observe(devstack);

    // Then all classes got this one, with the same broker
    assertThat(seen).containsExactly(devstack);
    assertThat(seen).extracting(Devstack::bootstrapServers)
        .containsExactly(constructorKafka.bootstrapServers());
  }
}
