package dev.flywheel.registryprojector;

/**
 * A record on an input topic the registry cannot use at all (not a command it can decide on),
 * such as a tombstone or a command keyed by another model. Thrown from a processor, it sends the
 * record's original bytes to {@code <topic>.dlq} through the shared dead-letter processing handler
 * with this message, which says what to fix, in {@code flywheel.error}; the processor carries on.
 */
public final class UnusableRecordException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** @param message what is wrong with the record and what to fix */
  public UnusableRecordException(String message) {
    super(message);
  }
}
