package dev.flywheel.servingsink.model;

import dev.flywheel.events.ServingCheck;
import java.util.Objects;

/**
 * A promoted version failed a serving check and is not served; the message says what is wrong
 * and what to fix. A {@linkplain #retriable() retriable} one says only that the check could not
 * be made yet (the feature lookup did not answer): the version is not refused, and loading it is
 * tried again.
 */
public final class Refusal extends Exception {

  private final transient ServingCheck check;
  private final boolean retriable;

  public Refusal(ServingCheck check, String message, Throwable cause) {
    this(check, message, cause, false);
  }

  public Refusal(ServingCheck check, String message) {
    this(check, message, null, false);
  }

  private Refusal(ServingCheck check, String message, Throwable cause, boolean retriable) {
    super(message, cause);
    this.check = Objects.requireNonNull(check, "check");
    this.retriable = retriable;
  }

  /** The check could not be made now; the same version may pass it later. */
  public static Refusal notYet(ServingCheck check, String message, Throwable cause) {
    return new Refusal(check, message, cause, true);
  }

  /** Whether the check could not be made now, rather than failed. */
  public boolean retriable() {
    return retriable;
  }

  /** Which check failed. */
  public ServingCheck check() {
    return check;
  }
}
