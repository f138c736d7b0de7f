package dev.flywheel.ingest.file;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import org.apache.avro.Schema;

/** The file formats the file producer reads, told apart by the file name's extension. */
public enum FileFormat {

  /** JSON Lines / NDJSON: one JSON object per line ({@code .jsonl}, {@code .ndjson}). */
  JSON_LINES,

  /** RFC 4180 CSV with a header row ({@code .csv}). */
  CSV;

  static final int BUFFER_CHARS = 64 * 1024;
  static final char BYTE_ORDER_MARK = '\uFEFF';

  /**
   * The format of {@code file} by its extension, in any case.
   *
   * @throws IllegalArgumentException naming the extensions understood, for any other extension
   */
  public static FileFormat of(Path file) {
    Objects.requireNonNull(file, "file");
    Path fileName = file.getFileName();
    String name = fileName == null ? "" : fileName.toString().toLowerCase(Locale.ROOT);
    if (name.endsWith(".jsonl") || name.endsWith(".ndjson")) {
      return JSON_LINES;
    }
    if (name.endsWith(".csv")) {
      return CSV;
    }
    throw new IllegalArgumentException("cannot tell the format of '" + file + "': name it"
        + " .jsonl or .ndjson for one JSON object per line, or .csv for CSV with a header row");
  }

  /**
   * Opens a reader of {@code file} in this format.
   *
   * @param schema the source's record schema, which types CSV cells
   * @throws IOException if the file cannot be opened
   */
  public RecordReader open(Path file, Schema schema) throws IOException {
    return open(Files.newInputStream(file), schema);
  }

  /**
   * Opens a reader of {@code file} in this format whose CSV rows are at most {@code maxRowChars}
   * characters (see {@link CsvReader}).
   *
   * @throws IOException if the file cannot be opened
   */
  public RecordReader open(Path file, Schema schema, int maxRowChars) throws IOException {
    InputStream in = Files.newInputStream(file);
    return switch (this) {
      case JSON_LINES -> new JsonLinesReader(in);
      case CSV -> new CsvReader(in, schema, maxRowChars);
    };
  }

  /** A reader of {@code in} in this format; closing the reader closes {@code in}. */
  public RecordReader open(InputStream in, Schema schema) {
    return switch (this) {
      case JSON_LINES -> new JsonLinesReader(in);
      case CSV -> new CsvReader(in, schema);
    };
  }
}
