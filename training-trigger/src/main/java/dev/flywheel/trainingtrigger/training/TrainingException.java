package dev.flywheel.trainingtrigger.training;

/** Training failed; the message says what to fix. */
public final class TrainingException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** @param message what to fix */
  public TrainingException(String message) {
    super(message);
  }

  /** @param message what to fix @param cause the failure */
  public TrainingException(String message, Throwable cause) {
    super(message, cause);
  }
}
