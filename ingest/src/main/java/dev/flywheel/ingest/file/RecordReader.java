package dev.flywheel.ingest.file;

import java.io.Closeable;
import java.io.IOException;

/**
 * Reads a file's records one at a time, in file order. Not thread-safe.
 *
 * <p>A record that cannot be read (malformed JSON, a CSV row with the wrong number of cells) is
 * returned as an unreadable {@link SourceLine} with the reason, and reading goes on with the next
 * one; only I/O errors and a file that cannot be read at all (a CSV file without a header) throw.
 */
public interface RecordReader extends Closeable {

  /**
   * The next record, or null at the end of the file. Blank lines are skipped.
   *
   * @throws IOException if the file cannot be read
   * @throws MalformedFileException if the file as a whole cannot be read in its format
   */
  SourceLine next() throws IOException;

  /** Bytes of the file consumed so far, read-ahead included; for progress against the file size. */
  long bytesRead();
}
