package dev.flywheel.registry;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The compatibility levels of the Confluent Schema Registry API, with their meaning for a candidate
 * schema against the earlier versions of a subject.
 */
public enum CompatibilityLevel {
  /** No check. */
  NONE(false, false, false),
  /** Readers using the candidate can read data written with the latest version. */
  BACKWARD(true, false, false),
  /** As {@link #BACKWARD}, against every earlier version. */
  BACKWARD_TRANSITIVE(true, false, true),
  /** Readers using the latest version can read data written with the candidate. */
  FORWARD(false, true, false),
  /** As {@link #FORWARD}, against every earlier version. */
  FORWARD_TRANSITIVE(false, true, true),
  /** Both {@link #BACKWARD} and {@link #FORWARD}. */
  FULL(true, true, false),
  /** Both {@link #BACKWARD_TRANSITIVE} and {@link #FORWARD_TRANSITIVE}. */
  FULL_TRANSITIVE(true, true, true);

  private final boolean backward;
  private final boolean forward;
  private final boolean transitive;

  CompatibilityLevel(boolean backward, boolean forward, boolean transitive) {
    this.backward = backward;
    this.forward = forward;
    this.transitive = transitive;
  }

  /** True when the candidate, as reader, must read data written with earlier versions. */
  public boolean backward() {
    return backward;
  }

  /** True when earlier versions, as readers, must read data written with the candidate. */
  public boolean forward() {
    return forward;
  }

  /** True when the check runs against every earlier version, not only the latest. */
  public boolean transitive() {
    return transitive;
  }

  /**
   * Parses a level name, ignoring case.
   *
   * @throws IllegalArgumentException naming the valid levels when {@code name} is not one
   */
  public static CompatibilityLevel parse(String name) {
    if (name != null) {
      String upper = name.trim().toUpperCase(Locale.ROOT);
      for (CompatibilityLevel level : values()) {
        if (level.name().equals(upper)) {
          return level;
        }
      }
    }
    throw new IllegalArgumentException("invalid compatibility level '" + name + "'; valid levels are "
        + Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", ")));
  }
}
