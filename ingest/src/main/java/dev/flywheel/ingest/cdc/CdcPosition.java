package dev.flywheel.ingest.cdc;

import java.util.Objects;

/**
 * Where a change sits in PostgreSQL's change stream: Debezium's {@code source.sequence}, the LSN of
 * the last transaction committed before the change's own ({@code commitLsn}, 0 when unknown) and
 * the change's own LSN. Debezium documents this pair as the key to order and deduplicate events:
 * it grows strictly along the stream even when concurrent transactions interleave in the WAL, which
 * the change LSN alone does not.
 *
 * <p>Written as {@code <commitLsn>/<lsn>} in the {@value #HEADER} header of every record CDC
 * produces, so that a restarted ingest can tell which redelivered changes it already wrote.
 */
record CdcPosition(long commitLsn, long lsn) implements Comparable<CdcPosition> {

  /** The header of every produced record that carries its position. */
  static final String HEADER = "flywheel.cdc.position";

  /**
   * Parses Debezium's {@code source.sequence}, a JSON array of two decimal strings or nulls, such
   * as {@code ["24023928","24023984"]}; a missing sequence gives {@code (0, lsn)}.
   *
   * @throws IllegalArgumentException when the text is not such an array
   */
  static CdcPosition fromSequence(String sequence, long lsn) {
    if (sequence == null || sequence.isBlank()) {
      return new CdcPosition(0, lsn);
    }
    String body = sequence.trim();
    if (!body.startsWith("[") || !body.endsWith("]")) {
      throw new IllegalArgumentException("Debezium sequence '" + sequence + "' is not a JSON array");
    }
    String[] parts = body.substring(1, body.length() - 1).split(",");
    if (parts.length != 2) {
      throw new IllegalArgumentException(
          "Debezium sequence '" + sequence + "' does not hold two LSNs");
    }
    return new CdcPosition(parseLsn(parts[0], sequence), parseLsn(parts[1], sequence));
  }

  /**
   * Parses the {@value #HEADER} header form {@code <commitLsn>/<lsn>}.
   *
   * @throws IllegalArgumentException when the text has another form
   */
  static CdcPosition parse(String text) {
    Objects.requireNonNull(text, "text");
    int slash = text.indexOf('/');
    if (slash < 0) {
      throw new IllegalArgumentException("CDC position '" + text + "' is not <commitLsn>/<lsn>");
    }
    try {
      return new CdcPosition(Long.parseLong(text.substring(0, slash)),
          Long.parseLong(text.substring(slash + 1)));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "CDC position '" + text + "' is not <commitLsn>/<lsn>", e);
    }
  }

  @Override
  public int compareTo(CdcPosition other) {
    int byCommit = Long.compare(commitLsn, other.commitLsn);
    return byCommit != 0 ? byCommit : Long.compare(lsn, other.lsn);
  }

  @Override
  public String toString() {
    return commitLsn + "/" + lsn;
  }

  private static long parseLsn(String part, String sequence) {
    String value = part.trim();
    if (value.equals("null")) {
      return 0;
    }
    if (value.startsWith("\"") && value.endsWith("\"") && value.length() >= 2) {
      value = value.substring(1, value.length() - 1);
    }
    try {
      return Long.parseLong(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "Debezium sequence '" + sequence + "' holds '" + part + "', not an LSN", e);
    }
  }
}
