package dev.flywheel.servingsink.model;

import dev.flywheel.events.ServingCheck;
import java.util.Objects;

/**
 * A promoted version failed a serving check and is not served; the message says what is wrong
 * and what to fix.
 */
public final class Refusal extends Exception {

  private final transient ServingCheck check;

  public Refusal(ServingCheck check, String message, Throwable cause) {
    super(message, cause);
    this.check = Objects.requireNonNull(check, "check");
  }

  public Refusal(ServingCheck check, String message) {
    this(check, message, null);
  }

  /** Which check failed. */
  public ServingCheck check() {
    return check;
  }
}
