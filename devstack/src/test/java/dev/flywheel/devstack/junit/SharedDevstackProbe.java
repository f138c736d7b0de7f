package dev.flywheel.devstack.junit;

import dev.flywheel.devstack.Devstack;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * Remembers every {@link Devstack} the test classes of this JVM were given, so that each class can
 * check they all got the same one.
 */
final class SharedDevstackProbe {

  private static final Set<Devstack> SEEN = Collections.synchronizedSet(
      Collections.newSetFromMap(new IdentityHashMap<>()));

  private SharedDevstackProbe() {}

  /** Records {@code devstack} and returns every distinct stack recorded so far. */
  static Set<Devstack> observe(Devstack devstack) {
    SEEN.add(devstack);
    synchronized (SEEN) {
      return Set.copyOf(SEEN);
    }
  }
}
