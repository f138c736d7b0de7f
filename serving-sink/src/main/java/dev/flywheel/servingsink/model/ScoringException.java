package dev.flywheel.servingsink.model;

/** A model runtime failed to score; the message names the model and what failed. */
public class ScoringException extends RuntimeException {
  public ScoringException(String message, Throwable cause) {
    super(message, cause);
  }

  public ScoringException(String message) {
    super(message);
  }
}
