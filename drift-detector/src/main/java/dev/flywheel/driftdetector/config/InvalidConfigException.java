package dev.flywheel.driftdetector.config;

/** A setting of {@code flywheel.yaml} drift-detector cannot use; the message names the key to fix. */
public final class InvalidConfigException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** @param message what is wrong and how to fix it */
  public InvalidConfigException(String message) {
    super(message);
  }
}
