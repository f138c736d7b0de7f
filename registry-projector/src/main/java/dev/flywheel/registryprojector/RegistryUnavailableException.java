package dev.flywheel.registryprojector;

/** The registry cannot answer now (state restoring, history rebuilding); the caller may retry. */
public final class RegistryUnavailableException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** @param message what is happening and when to retry */
  public RegistryUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
