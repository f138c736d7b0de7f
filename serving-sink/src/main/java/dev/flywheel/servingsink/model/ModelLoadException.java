package dev.flywheel.servingsink.model;

/** A runtime could not load an artifact (corrupt file, wrong format); the message says which. */
public class ModelLoadException extends RuntimeException {
  public ModelLoadException(String message, Throwable cause) {
    super(message, cause);
  }
}
