package dev.flywheel.ingest.file;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.math.BigDecimal;
import java.util.List;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;

/**
 * Types the text of a CSV cell by the Avro schema of its field, so that a row becomes the JSON
 * object a JSON Lines file would have held.
 *
 * <p>For a union each branch is tried in the schema's order and the first that reads the text
 * wins. Numbers ({@code int}, {@code long}, {@code float}, {@code double}, {@code decimal}) become
 * JSON numbers when the text is one; {@code true}/{@code false} (any case) become booleans for a
 * {@code boolean} field; records, arrays and maps are read from JSON text in the cell; strings,
 * enums and bytes stay text. Text that fits no branch stays text, so that the conversion to Avro
 * reports which field is wrong and why, exactly as for JSON input; a {@code timestamp-millis}
 * written as an ISO-8601 instant is such text too, and is converted there.
 *
 * <p>An empty cell is null when the field is nullable, an empty string for a string field, and
 * otherwise absent, so that the field's default applies (or its absence is reported).
 */
public final class CsvValues {

  static final JsonNodeFactory FACTORY = JsonNodeFactory.withExactBigDecimals(true);
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private CsvValues() {}

  /**
   * The JSON value of {@code cell} for a field of type {@code schema}, or null when the field is
   * to be left out of the record (an empty cell of a field that is neither nullable nor a string).
   */
  public static JsonNode typed(Schema schema, String cell) {
    List<Schema> branches = schema.getType() == Schema.Type.UNION ? schema.getTypes()
        : List.of(schema);
    if (cell.isEmpty()) {
      for (Schema branch : branches) {
        if (branch.getType() == Schema.Type.NULL) {
          return FACTORY.nullNode();
        }
      }
      for (Schema branch : branches) {
        if (branch.getType() == Schema.Type.STRING) {
          return FACTORY.textNode("");
        }
      }
      return null;
    }
    for (Schema branch : branches) {
      JsonNode value = attempt(branch, cell);
      if (value != null) {
        return value;
      }
    }
    return FACTORY.textNode(cell);
  }

  private static JsonNode attempt(Schema schema, String cell) {
    return switch (schema.getType()) {
      case STRING, ENUM -> FACTORY.textNode(cell);
      case INT, LONG -> integer(cell.strip());
      case FLOAT, DOUBLE -> floating(cell.strip());
      case BOOLEAN -> bool(cell.strip());
      case BYTES, FIXED -> schema.getLogicalType() instanceof LogicalTypes.Decimal
          ? decimal(cell.strip()) : FACTORY.textNode(cell);
      case RECORD, MAP -> json(cell, true);
      case ARRAY -> json(cell, false);
      case NULL, UNION -> null;
    };
  }

  private static JsonNode integer(String text) {
    if (!isInteger(text)) {
      return null;
    }
    try {
      long value = Long.parseLong(text);
      return value == (int) value ? FACTORY.numberNode((int) value) : FACTORY.numberNode(value);
    } catch (NumberFormatException outOfRange) {
      return FACTORY.numberNode(new java.math.BigInteger(text));
    }
  }

  private static boolean isInteger(String text) {
    int start = text.startsWith("-") || text.startsWith("+") ? 1 : 0;
    if (text.length() == start) {
      return false;
    }
    for (int i = start; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }

  private static JsonNode floating(String text) {
    switch (text) {
      case "NaN":
        return FACTORY.numberNode(Double.NaN);
      case "Infinity", "+Infinity":
        return FACTORY.numberNode(Double.POSITIVE_INFINITY);
      case "-Infinity":
        return FACTORY.numberNode(Double.NEGATIVE_INFINITY);
      default:
        return decimal(text);
    }
  }

  private static JsonNode decimal(String text) {
    if (text.isEmpty() || !Character.isDigit(text.charAt(text.length() - 1))) {
      return null; // BigDecimal accepts neither, but be explicit: no "1.", no "1e"
    }
    try {
      return FACTORY.numberNode(new BigDecimal(text));
    } catch (NumberFormatException notANumber) {
      return null;
    }
  }

  private static JsonNode bool(String text) {
    if (text.equalsIgnoreCase("true")) {
      return FACTORY.booleanNode(true);
    }
    if (text.equalsIgnoreCase("false")) {
      return FACTORY.booleanNode(false);
    }
    return null;
  }

  private static JsonNode json(String text, boolean object) {
    try {
      JsonNode value = MAPPER.readTree(text);
      return value != null && (object ? value.isObject() : value.isArray()) ? value : null;
    } catch (JsonProcessingException notJson) {
      return null;
    }
  }
}
