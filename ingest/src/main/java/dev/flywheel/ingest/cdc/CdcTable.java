package dev.flywheel.ingest.cdc;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A captured PostgreSQL table and the Flywheel source its changes feed.
 *
 * @param schema the PostgreSQL schema, e.g. {@code public}
 * @param table the table name, unquoted
 * @param source the source name; records go to {@code flywheel.data.<source>}
 */
public record CdcTable(String schema, String table, String source) {

  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]*");

  /**
   * @throws IllegalArgumentException when the schema or table is not a plain PostgreSQL identifier
   *     or the source is empty
   */
  public CdcTable {
    Objects.requireNonNull(schema, "schema");
    Objects.requireNonNull(table, "table");
    Objects.requireNonNull(source, "source");
    if (!IDENTIFIER.matcher(schema).matches() || !IDENTIFIER.matcher(table).matches()) {
      throw new IllegalArgumentException("table '" + schema + "." + table + "' is not a plain"
          + " PostgreSQL identifier (letters, digits, '_', '$'); rename it or capture it through"
          + " a view");
    }
    if (source.isEmpty()) {
      throw new IllegalArgumentException("the source of table " + schema + "." + table
          + " is empty");
    }
  }

  /**
   * Parses {@code schema.table} (or {@code table}, in {@code public}).
   *
   * @throws IllegalArgumentException as the constructor does
   */
  public static CdcTable of(String qualifiedTable, String source) {
    Objects.requireNonNull(qualifiedTable, "qualifiedTable");
    int dot = qualifiedTable.indexOf('.');
    return dot < 0
        ? new CdcTable("public", qualifiedTable, source)
        : new CdcTable(qualifiedTable.substring(0, dot), qualifiedTable.substring(dot + 1), source);
  }

  /** {@code schema.table}, as Debezium's {@code table.include.list} takes it. */
  public String qualifiedName() {
    return schema + "." + table;
  }
}
