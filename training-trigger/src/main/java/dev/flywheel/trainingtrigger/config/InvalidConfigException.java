package dev.flywheel.trainingtrigger.config;

/** A {@code flywheel.yaml} setting of training-trigger is wrong; the message says what to fix. */
public final class InvalidConfigException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** @param message what is wrong and how to fix it */
  public InvalidConfigException(String message) {
    super(message);
  }
}
