package dev.flywheel.ingest.file;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.apache.avro.Schema;

/**
 * Reads CSV as RFC 4180 describes it: UTF-8, a header row naming the columns, fields separated by
 * commas, records ended by CRLF, LF or CR; a field in double quotes may hold commas, line breaks
 * and doubled quotes ({@code "say ""hi"""}). Blank lines are skipped and a leading byte-order mark
 * is ignored.
 *
 * <p>Each row becomes a JSON object whose values are typed by the source's Avro schema, since CSV
 * itself has only text ({@link CsvValues}): {@code 42} is a number for an {@code int} field and
 * text for a {@code string} one, {@code true} a boolean for a {@code boolean} field, and an empty
 * cell is null for a nullable field. A row with more or fewer cells than the header, a quote
 * inside an unquoted field, text after a closing quote or a quote never closed makes that row
 * unreadable; reading goes on with the next row. A quote never closed, or not closed within the
 * row limit ({@link #DEFAULT_MAX_ROW_CHARS} unless given; the file producer gives its {@code
 * max.request.size}), ends its row at the end of the line where the quote opened, and reading
 * goes on from the next line, so one stray quote does not swallow the rest of the file. A row
 * over the limit without a line break to go on from is cut to the limit and made unreadable, its
 * line skipped. So does a row holding bytes that are not UTF-8
 * (a Latin-1 {@code Müller}), instead of having them replaced by U+FFFD.
 */
public final class CsvReader implements RecordReader {

  private static final int EOF = -1;

  /** The most characters a row may have unless told: Kafka's default max.request.size (1 MiB). */
  public static final int DEFAULT_MAX_ROW_CHARS = 1024 * 1024;

  private final CountingInputStream counting;
  private final Reader reader;
  private final Schema schema;
  private final int maxRowChars;
  /** The chars read ahead; longer than BUFFER_CHARS after a row's text was pushed back. */
  private char[] buffer = new char[FileFormat.BUFFER_CHARS];
  private int position;
  private int limit;
  private boolean started;

  /** Physical line, from 1, of the next character to read. */
  private long line = 1;

  private List<String> header;
  private List<Schema.Field> fields;

  /**
   * Reads the CSV of {@code in}, which it closes when closed, typing values by {@code schema}.
   *
   * @param schema the source's record schema; columns it does not name are read as text
   * @throws IllegalArgumentException if {@code schema} is not a record schema
   */
  public CsvReader(InputStream in, Schema schema) {
    this(in, schema, DEFAULT_MAX_ROW_CHARS);
  }

  /**
   * Reads the CSV of {@code in}, which it closes when closed, typing values by {@code schema},
   * with rows of at most {@code maxRowChars} characters (the memory a row may take).
   *
   * @throws IllegalArgumentException if {@code schema} is not a record schema or {@code
   *     maxRowChars} is below 1
   */
  public CsvReader(InputStream in, Schema schema, int maxRowChars) {
    Objects.requireNonNull(in, "in");
    if (maxRowChars < 1) {
      throw new IllegalArgumentException("maxRowChars must be at least 1, got " + maxRowChars);
    }
    this.maxRowChars = maxRowChars;
    this.schema = Objects.requireNonNull(schema, "schema");
    if (schema.getType() != Schema.Type.RECORD) {
      throw new IllegalArgumentException(
          "CSV rows are read into a record schema, got a " + schema.getType() + " schema");
    }
    this.counting = new CountingInputStream(in);
    this.reader = Utf8Input.reader(counting);
  }

  /** The column names of the header row, once the first record has been read; else empty. */
  public List<String> header() {
    return header == null ? List.of() : header;
  }

  @Override
  public SourceLine next() throws IOException {
    if (header == null) {
      readHeader();
    }
    Row row = readRow();
    if (row == null) {
      return null;
    }
    if (row.error != null) {
      return SourceLine.invalid(row.line, row.text, row.error);
    }
    if (row.cells.size() != header.size()) {
      return SourceLine.invalid(row.line, row.text, "row has " + row.cells.size()
          + (row.cells.size() == 1 ? " cell" : " cells") + " but the header has "
          + header.size() + " columns " + header);
    }
    ObjectNode object = CsvValues.FACTORY.objectNode();
    for (int i = 0; i < header.size(); i++) {
      Schema.Field field = fields.get(i);
      String cell = row.cells.get(i);
      JsonNode value = field == null ? CsvValues.FACTORY.textNode(cell)
          : CsvValues.typed(field.schema(), cell);
      if (value != null) {
        object.set(header.get(i), value);
      }
    }
    return SourceLine.valid(row.line, row.text, object);
  }

  private void readHeader() throws IOException {
    Row row = readRow();
    if (row == null) {
      throw new MalformedFileException(
          "the CSV file is empty; its first line must be a header naming the columns, such as "
              + fieldNames());
    }
    if (row.error != null) {
      throw new MalformedFileException("the CSV header on line " + row.line + " cannot be read: "
          + row.error);
    }
    List<String> names = new ArrayList<>(row.cells.size());
    List<Schema.Field> columnFields = new ArrayList<>(row.cells.size());
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < row.cells.size(); i++) {
      String name = row.cells.get(i).strip();
      if (name.isEmpty()) {
        throw new MalformedFileException("column " + (i + 1) + " of the CSV header on line "
            + row.line + " has no name; name every column after a field of " + fieldNames());
      }
      if (!seen.add(name)) {
        throw new MalformedFileException("the CSV header on line " + row.line + " names column '"
            + name + "' twice; each column must be named once");
      }
      names.add(name);
      columnFields.add(schema.getField(name));
    }
    header = List.copyOf(names);
    fields = columnFields;
  }

  private List<String> fieldNames() {
    return schema.getFields().stream().map(Schema.Field::name).toList();
  }

  private Row readRow() throws IOException {
    int c = read();
    if (!started) {
      started = true;
      if (c == FileFormat.BYTE_ORDER_MARK) {
        c = read();
      }
    }
    while (c == '\n' || c == '\r') { // blank lines
      endLine(c);
      c = read();
    }
    if (c == EOF) {
      return null;
    }
    long startLine = line;
    StringBuilder text = new StringBuilder(128);
    StringBuilder cell = new StringBuilder(32);
    List<String> cells = new ArrayList<>();
    String error = null;
    State state = State.FIELD_START;
    long quoteOpenedOn = 0;
    int quoteOpenedAt = 0;
    while (true) {
      if (c == EOF) {
        if (state == State.QUOTED) {
          String neverClosed = "a quoted field opened on line " + quoteOpenedOn + " is never"
              + " closed; end it with '\"' and write a quote inside it as '\"\"'";
          Row resynced = resync(startLine, text, quoteOpenedAt, quoteOpenedOn, neverClosed);
          if (resynced != null) {
            return resynced;
          }
          if (error == null) {
            error = neverClosed;
          }
        }
        break;
      }
      if ((c == '\n' || c == '\r') && state != State.QUOTED) {
        endLine(c);
        break;
      }
      text.append((char) c);
      if (text.length() > maxRowChars) {
        return tooLong(startLine, text, state == State.QUOTED, quoteOpenedAt, quoteOpenedOn);
      }
      switch (state) {
        case FIELD_START -> {
          if (c == '"') {
            state = State.QUOTED;
            quoteOpenedOn = line;
            quoteOpenedAt = text.length() - 1;
          } else if (c == ',') {
            cells.add("");
          } else {
            cell.append((char) c);
            state = State.UNQUOTED;
          }
        }
        case UNQUOTED -> {
          if (c == ',') {
            cells.add(cell.toString());
            cell.setLength(0);
            state = State.FIELD_START;
          } else {
            if (c == '"' && error == null) {
              error = "cell " + (cells.size() + 1) + " has a '\"' but does not start with one;"
                  + " quote the whole cell and double the quote inside: \"a \"\"b\"\"\"";
            }
            cell.append((char) c);
          }
        }
        case QUOTED -> {
          if (c == '"') {
            if (peek() == '"') {
              text.append((char) read());
              cell.append('"');
            } else {
              state = State.AFTER_QUOTE;
            }
          } else if (c == '\n' || c == '\r') {
            if (c == '\r' && peek() == '\n') {
              text.append((char) read());
              cell.append('\r');
              cell.append('\n');
            } else {
              cell.append((char) c);
            }
            line++;
          } else {
            cell.append((char) c);
          }
        }
        case AFTER_QUOTE -> {
          if (c == ',') {
            cells.add(cell.toString());
            cell.setLength(0);
            state = State.FIELD_START;
          } else {
            if (error == null) {
              error = "cell " + (cells.size() + 1) + " has '" + (char) c + "' after its closing"
                  + " quote; a quoted cell ends at its quote (write a quote inside it as '\"\"')";
            }
            cell.append((char) c);
            state = State.UNQUOTED;
          }
        }
        default -> throw new IllegalStateException(state.name());
      }
      c = read();
    }
    cells.add(cell.toString());
    String rowText = text.toString();
    String notUtf8 = Utf8Input.problem(startLine, rowText);
    return new Row(startLine, rowText, cells, notUtf8 != null ? notUtf8 : error);
  }

  /**
   * The row over {@link #maxRowChars} whose text so far is {@code text}: when a quote still open
   * (opened at {@code quoteAt} of the text, on line {@code quoteLine}) is followed by a line
   * break, the row ends there and reading goes on from the next line; else the rest of the line
   * is skipped and the row is its first maxRowChars characters.
   */
  private Row tooLong(long startLine, StringBuilder text, boolean quoted, int quoteAt,
      long quoteLine) throws IOException {
    if (quoted) {
      Row resynced = resync(startLine, text, quoteAt, quoteLine, "a quoted field opened on line "
          + quoteLine + " is not closed within " + maxRowChars + " characters, the most a row"
          + " may have; end it with '\"' and write a quote inside it as '\"\"'");
      if (resynced != null) {
        return resynced;
      }
    }
    int c = read();
    while (c != EOF && c != '\n' && c != '\r') {
      c = read();
    }
    if (c != EOF) {
      endLine(c);
    }
    return new Row(startLine, text.substring(0, maxRowChars), List.of(), "the row on line "
        + startLine + " is over " + maxRowChars + " characters, the most a row may have (the"
        + " producer's max.request.size); it is cut to that here: split it into smaller records,"
        + " or raise max.request.size");
  }

  /**
   * Ends the row whose quote opened at {@code quoteAt} of {@code text} (on line {@code
   * quoteLine}) and was never closed at the first line break after the quote, as invalid for
   * {@code reason}, and reads the text after that line break again as the next lines; null when
   * there is no line break after the quote.
   */
  private Row resync(long startLine, StringBuilder text, int quoteAt, long quoteLine,
      String reason) throws IOException {
    int cut = quoteAt;
    while (cut < text.length() && text.charAt(cut) != '\n' && text.charAt(cut) != '\r') {
      cut++;
    }
    if (cut == text.length()) {
      return null;
    }
    if (text.charAt(cut) == '\r' && cut + 1 == text.length() && peek() == '\n') {
      text.append((char) read()); // the LF of a CRLF not read yet
    }
    int next = text.charAt(cut) == '\r' && cut + 1 < text.length()
        && text.charAt(cut + 1) == '\n' ? cut + 2 : cut + 1;
    pushBack(text.substring(next));
    line = quoteLine + 1;
    return new Row(startLine, text.substring(0, cut), List.of(),
        reason + " (the row is taken to end at the end of line " + quoteLine + ")");
  }

  /** Makes {@code chars} the next to be read, before those already read ahead. */
  private void pushBack(String chars) {
    int rest = limit - position;
    char[] joined = new char[chars.length() + rest];
    chars.getChars(0, chars.length(), joined, 0);
    System.arraycopy(buffer, position, joined, chars.length(), rest);
    buffer = joined;
    position = 0;
    limit = joined.length;
  }

  /** Consumes a line terminator that started with {@code c}: LF, CR or CRLF. */
  private void endLine(int c) throws IOException {
    if (c == '\r' && peek() == '\n') {
      read();
    }
    line++;
  }

  private int read() throws IOException {
    if (position == limit && !fill()) {
      return EOF;
    }
    return buffer[position++];
  }

  private int peek() throws IOException {
    if (position == limit && !fill()) {
      return EOF;
    }
    return buffer[position];
  }

  private boolean fill() throws IOException {
    if (buffer.length != FileFormat.BUFFER_CHARS) {
      buffer = new char[FileFormat.BUFFER_CHARS]; // drop a pushed-back row's array
    }
    int n;
    do {
      n = reader.read(buffer, 0, buffer.length);
    } while (n == 0);
    if (n < 0) {
      return false;
    }
    position = 0;
    limit = n;
    return true;
  }

  @Override
  public long bytesRead() {
    return counting.count();
  }

  @Override
  public void close() throws IOException {
    reader.close();
  }

  private enum State { FIELD_START, UNQUOTED, QUOTED, AFTER_QUOTE }

  private record Row(long line, String text, List<String> cells, String error) {}
}
