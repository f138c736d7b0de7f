package dev.flywheel.ingest.file;

import java.io.IOException;

/**
 * A file that cannot be read at all in its format, as opposed to one bad record: a CSV file
 * without a header row, or with two columns of the same name. The message says what to fix.
 */
public final class MalformedFileException extends IOException {
  private static final long serialVersionUID = 1L;

  /** A file that cannot be read, for the reason {@code message}. */
  public MalformedFileException(String message) {
    super(message);
  }
}
