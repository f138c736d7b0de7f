package dev.flywheel.ingest.cdc;

import java.util.Optional;

/**
 * Whether a table is still being captured.
 *
 * @param table the table
 * @param capturing false once a change was refused (for example a column change the registry
 *     rejected): from then on the table's changes go to its dead-letter topic
 * @param error why capture stopped, or null while capturing
 */
public record CdcTableStatus(CdcTable table, boolean capturing, String error) {

  /** Why capture stopped; empty while capturing. */
  public Optional<String> stopReason() {
    return Optional.ofNullable(error);
  }
}
