package dev.flywheel.trainingtrigger.dataset;

/** A dataset cannot be built; the message says what is missing and where to look. */
public final class DatasetException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** @param message what to fix */
  public DatasetException(String message) {
    super(message);
  }

  /**
   * @param message what to fix
   * @param cause what failed
   */
  public DatasetException(String message, Throwable cause) {
    super(message, cause);
  }
}
