package dev.flywheel.ingest.cdc;

/** What a deleted row becomes on its source topic. */
public enum DeleteMode {
  /** A record with the row's key and a null value, which compaction and tables read as a delete. */
  TOMBSTONE,
  /**
   * A record with {@code cdc_op = "d"} and the row's last image: every column is nullable in the
   * source schema, because PostgreSQL sends only the key columns of a deleted row unless the table
   * has {@code REPLICA IDENTITY FULL}.
   */
  DELETE_EVENT
}
