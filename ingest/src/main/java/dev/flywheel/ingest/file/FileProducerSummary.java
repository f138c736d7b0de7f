package dev.flywheel.ingest.file;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * What a {@link FileProducer} run did.
 *
 * @param file the file read
 * @param source the source its records were produced for
 * @param topic the source's data topic
 * @param read records read from the file, valid and invalid (blank lines are not records)
 * @param produced records the broker acknowledged on {@code topic}
 * @param invalid records that did not fit the source's schema, all written to the dead-letter topic
 * @param invalidLines the first {@link FileProducer.Builder#maxListedInvalid listed} invalid
 *     records, in file order, with their reasons; {@code invalid} counts them all
 * @param deadLettered invalid records the broker acknowledged on the dead-letter topic
 * @param failed valid records the broker did not accept ({@code failure} says why)
 * @param failure why a send failed and the run stopped, or null when none did
 * @param stopped whether the run was stopped ({@link FileProducer#stop()}, Ctrl-C) before the end
 *     of the file; what was read before is flushed and counted
 * @param lastLine the file line where the last record read starts (0 when none was read): after a
 *     stop, the records after it were not produced
 * @param elapsed time from the start of the run to the last acknowledgement
 */
public record FileProducerSummary(
    Path file,
    String source,
    String topic,
    long read,
    long produced,
    long invalid,
    List<InvalidLine> invalidLines,
    long deadLettered,
    long failed,
    String failure,
    boolean stopped,
    long lastLine,
    Duration elapsed) {

  /** Copies the list; checks that nothing required is null. */
  public FileProducerSummary {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(topic, "topic");
    invalidLines = List.copyOf(invalidLines);
    Objects.requireNonNull(elapsed, "elapsed");
  }

  /** Why a send failed and the run stopped, if one did. */
  public Optional<String> failureMessage() {
    return Optional.ofNullable(failure);
  }

  /** Whether every record read was produced: nothing invalid, nothing failed, not stopped. */
  public boolean complete() {
    return invalid == 0 && failed == 0 && failure == null && !stopped;
  }

  /** Records read per second over the whole run. */
  public double recordsPerSecond() {
    long nanos = elapsed.toNanos();
    return nanos <= 0 ? 0 : read * 1e9 / nanos;
  }

  /**
   * The summary in one line, e.g. {@code read 1,000, produced 998, invalid 2 (to
   * flywheel.data.tx.dlq) in 1.2 s, 833 records/s}.
   */
  public String describe() {
    StringBuilder text = new StringBuilder(String.format(Locale.ROOT,
        "read %,d, produced %,d to %s, invalid %,d", read, produced, topic, invalid));
    if (invalid > 0) {
      text.append(String.format(Locale.ROOT, " (%,d on the dead-letter topic)", deadLettered));
    }
    if (failed > 0) {
      text.append(String.format(Locale.ROOT, ", failed %,d", failed));
    }
    text.append(String.format(Locale.ROOT, " in %.1f s, %,.0f records/s",
        elapsed.toNanos() / 1e9, recordsPerSecond()));
    if (stopped) {
      text.append(lastLine == 0 ? "; stopped before the first record"
          : "; stopped after the record on line " + lastLine
              + ", the records after it were not produced");
    }
    if (failure != null) {
      text.append("; stopped by a send failure: ").append(failure);
    }
    return text.toString();
  }
}
