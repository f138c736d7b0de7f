package dev.flywheel.ingest.file;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
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
 * unreadable; reading goes on with the next row.
 */
public final class CsvReader implements RecordReader {

  private static final int EOF = -1;

  private final CountingInputStream counting;
  private final Reader reader;
  private final Schema schema;
  private final char[] buffer = new char[FileFormat.BUFFER_CHARS];
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
    Objects.requireNonNull(in, "in");
    this.schema = Objects.requireNonNull(schema, "schema");
    if (schema.getType() != Schema.Type.RECORD) {
      throw new IllegalArgumentException(
          "CSV rows are read into a record schema, got a " + schema.getType() + " schema");
    }
    this.counting = new CountingInputStream(in);
    this.reader = new InputStreamReader(counting, StandardCharsets.UTF_8);
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
    while (true) {
      if (c == EOF) {
        if (state == State.QUOTED && error == null) {
          error = "a quoted field opened on line " + quoteOpenedOn + " is never closed;"
              + " end it with '\"' and write a quote inside it as '\"\"'";
        }
        break;
      }
      if ((c == '\n' || c == '\r') && state != State.QUOTED) {
        endLine(c);
        break;
      }
      text.append((char) c);
      switch (state) {
        case FIELD_START -> {
          if (c == '"') {
            state = State.QUOTED;
            quoteOpenedOn = line;
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
    return new Row(startLine, text.toString(), cells, error);
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
