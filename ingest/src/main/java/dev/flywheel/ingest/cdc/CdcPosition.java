package dev.flywheel.ingest.cdc;

import java.util.Objects;

/**
 * Where a change sits in PostgreSQL's change stream: Debezium's {@code source.sequence}, the LSN of
 * the last transaction committed before the change's own ({@code commitLsn}, 0 when unknown) and
 * the change's own LSN. Debezium documents this pair as the key to order and deduplicate events:
 * it grows strictly along the stream even when concurrent transactions interleave in the WAL, which
 * the change LSN alone does not.
 *
 * <p>The commit LSN is unknown ({@code null} in the sequence) for the changes of the first
 * transaction Debezium streams without stored offsets (its offset context is new: a new engine
 * name, a recreated offsets topic or replication slot), until that transaction's commit. 0 stands
 * for it: PostgreSQL never gives an LSN of 0 ({@code InvalidXLogRecPtr}). Such a position cannot be
 * ordered against one whose commit LSN is known (see {@link #comparableTo}).
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

  /** Whether the commit LSN is known (Debezium gave one); see the class documentation. */
  boolean commitKnown() {
    return commitLsn != 0;
  }

  /**
   * Whether {@link #compareTo} may say if this position is at or before {@code other} along the
   * stream: when both commit LSNs are known, when both are unknown (then the change LSNs decide,
   * which grow within the one transaction that has no commit LSN), and when only this one's is
   * known (it then sorts after: the change is taken as new, at worst written twice). Not when only
   * {@code other}'s is known: the change LSN alone cannot order interleaved transactions, and an
   * unknown commit LSN is not "before" every known one.
   */
  boolean comparableTo(CdcPosition other) {
    return commitKnown() == other.commitKnown() || commitKnown();
  }

  /**
   * Orders by commit LSN, then change LSN; meaningful only where {@link #comparableTo} holds (an
   * unknown commit LSN sorts first).
   */
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
