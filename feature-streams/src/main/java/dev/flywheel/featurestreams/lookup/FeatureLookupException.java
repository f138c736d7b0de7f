package dev.flywheel.featurestreams.lookup;

/** A feature lookup failed; the message says why and, where it can, what to do. */
public class FeatureLookupException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** @param message what failed */
  public FeatureLookupException(String message) {
    super(message);
  }

  /** @param cause what made it fail */
  public FeatureLookupException(String message, Throwable cause) {
    super(message, cause);
  }
}
