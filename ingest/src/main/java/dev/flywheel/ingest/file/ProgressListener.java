package dev.flywheel.ingest.file;

/**
 * Told how far a {@link FileProducer} run has got, on the thread that reads the file, every
 * {@link FileProducer#PROGRESS_INTERVAL_RECORDS} records and once at the end. Implementations must
 * be quick: the file is not read while they run.
 */
@FunctionalInterface
public interface ProgressListener {

  /** A listener that ignores progress. */
  ProgressListener NONE = progress -> { };

  /** Called with the progress so far. */
  void onProgress(Progress progress);

  /**
   * How far a run has got.
   *
   * @param bytesRead bytes of the file read so far (read-ahead included)
   * @param fileBytes the file's size in bytes when the run started
   * @param read records read so far (valid and invalid)
   * @param produced records the broker has acknowledged on the source topic so far
   * @param invalid records found invalid so far
   * @param elapsedNanos time since the run started
   */
  record Progress(long bytesRead, long fileBytes, long read, long produced, long invalid,
      long elapsedNanos) {

    /** Records read per second so far; 0 before any time has passed. */
    public double recordsPerSecond() {
      return elapsedNanos <= 0 ? 0 : read * 1e9 / elapsedNanos;
    }
  }
}
