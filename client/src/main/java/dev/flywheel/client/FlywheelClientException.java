package dev.flywheel.client;

/** A request of the client failed; the message says what to check or fix. */
public class FlywheelClientException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** With a message that says what to fix. */
  public FlywheelClientException(String message) {
    super(message);
  }

  /** With a message that says what to fix, and the underlying cause. */
  public FlywheelClientException(String message, Throwable cause) {
    super(message, cause);
  }
}
