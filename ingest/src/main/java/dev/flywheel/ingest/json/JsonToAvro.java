package dev.flywheel.ingest.json;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.avro.Conversions;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

/**
 * Converts JSON (a Jackson {@link JsonNode}) into an Avro {@link GenericRecord} of a given schema,
 * collecting every problem as a {@link FieldError} instead of stopping at the first.
 *
 * <pre>{@code
 * Conversion c = JsonToAvro.convert(json, schema);
 * if (c.valid()) producer.send(..., c.record());
 * else c.errors().forEach(e -> System.out.println(e.field() + ": " + e.reason()));
 * }</pre>
 *
 * <p>What each Avro type accepts (anything else is an error naming the field):
 *
 * <table>
 *   <caption>JSON accepted per Avro type</caption>
 *   <tr><th>Avro</th><th>JSON</th></tr>
 *   <tr><td>null</td><td>null or a missing field</td></tr>
 *   <tr><td>boolean</td><td>true / false</td></tr>
 *   <tr><td>int, long</td><td>an integral number in range (no fraction, no string)</td></tr>
 *   <tr><td>float, double</td><td>any number in range</td></tr>
 *   <tr><td>string</td><td>a string; with {@code uuid}, a UUID in its 8-4-4-4-12 form</td></tr>
 *   <tr><td>bytes, fixed</td><td>a base64 string (fixed: of exactly its size)</td></tr>
 *   <tr><td>enum</td><td>one of its symbols, as a string</td></tr>
 *   <tr><td>array, map</td><td>a JSON array; a JSON object</td></tr>
 *   <tr><td>record</td><td>a JSON object; a missing field takes its default, an unknown field is
 *       an error</td></tr>
 *   <tr><td>union</td><td>a value of one branch, tried in order; or Avro's JSON encoding
 *       {@code {"string": "x"}} naming the branch, unless a map or record branch takes that
 *       object as it is: then it is that map or record ({@code {"string": "x"}} is a map with
 *       the key {@code string} in {@code ["null", "string", {"type": "map", "values": "string"}]},
 *       and the string {@code x} in {@code ["null", "string", {"type": "map", "values":
 *       "int"}]})</td></tr>
 *   <tr><td>timestamp-millis/-micros</td><td>epoch number, or an ISO-8601 instant with offset
 *       ({@code 2024-05-01T10:15:30.123Z})</td></tr>
 *   <tr><td>local-timestamp-millis/-micros</td><td>number, or ISO-8601 without offset</td></tr>
 *   <tr><td>date</td><td>days since 1970-01-01, or {@code 2024-05-01}</td></tr>
 *   <tr><td>time-millis/-micros</td><td>number, or {@code 10:15:30.123}</td></tr>
 *   <tr><td>decimal</td><td>a number or numeric string with at most the schema's scale in
 *       decimal places and at most its precision in digits</td></tr>
 * </table>
 *
 * <p>Values are in Avro's generic representation ({@code Long} for timestamps, {@code Integer}
 * for dates, {@code ByteBuffer} or {@code GenericFixed} for decimals, {@code String} for strings),
 * which every {@code GenericDatumWriter}, and so {@code GenericAvroSerde}, writes. Stateless and
 * thread-safe.
 */
public final class JsonToAvro {

  private static final Pattern UUID_FORM = Pattern.compile(
      "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
  private static final Object INVALID = new Object();
  private static final Conversions.DecimalConversion DECIMALS = new Conversions.DecimalConversion();
  private static final BigInteger LONG_MIN = BigInteger.valueOf(Long.MIN_VALUE);
  private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);
  private static final int MAX_SHOWN = 40;

  private JsonToAvro() {}

  /**
   * Converts {@code json} to a record of {@code schema}.
   *
   * @param json the JSON value; null is treated as JSON null
   * @param schema an Avro record schema
   * @return the record, or every error found
   * @throws IllegalArgumentException when {@code schema} is not a record schema
   */
  public static Conversion convert(JsonNode json, Schema schema) {
    Objects.requireNonNull(schema, "schema");
    if (schema.getType() != Schema.Type.RECORD) {
      throw new IllegalArgumentException("JsonToAvro converts to record schemas; "
          + schema.getFullName() + " is a " + schema.getType().getName());
    }
    List<FieldError> errors = new ArrayList<>();
    Object value = convert(json, schema, "", errors);
    return errors.isEmpty() ? new Conversion((GenericRecord) value, List.of())
        : new Conversion(null, errors);
  }

  private static Object convert(JsonNode json, Schema schema, String path, List<FieldError> out) {
    if (schema.getType() == Schema.Type.UNION) {
      return union(json, schema, path, out);
    }
    if (json == null || json.isNull() || json.isMissingNode()) {
      if (schema.getType() == Schema.Type.NULL) {
        return null;
      }
      return fail(out, path, "is null but must be " + describe(schema));
    }
    LogicalType logical = schema.getLogicalType();
    return switch (schema.getType()) {
      case NULL -> fail(out, path, "must be null, got " + show(json));
      case BOOLEAN -> json.isBoolean() ? json.booleanValue()
          : fail(out, path, "expected a boolean, got " + show(json));
      case INT -> logical == null ? intValue(json, path, out) : logicalInt(json, schema, path, out);
      case LONG -> logical == null ? longValue(json, path, out)
          : logicalLong(json, schema, path, out);
      case FLOAT -> floatValue(json, path, out);
      case DOUBLE -> json.isNumber() ? json.doubleValue()
          : fail(out, path, "expected a number, got " + show(json));
      case STRING -> string(json, schema, path, out);
      case BYTES -> logical instanceof LogicalTypes.Decimal d ? decimal(json, schema, d, path, out)
          : bytes(json, path, out);
      case FIXED -> logical instanceof LogicalTypes.Decimal d ? decimal(json, schema, d, path, out)
          : fixed(json, schema, path, out);
      case ENUM -> enumValue(json, schema, path, out);
      case ARRAY -> array(json, schema, path, out);
      case MAP -> map(json, schema, path, out);
      case RECORD -> record(json, schema, path, out);
      case UNION -> throw new AssertionError("handled above");
    };
  }

  private static Object record(JsonNode json, Schema schema, String path, List<FieldError> out) {
    if (!json.isObject()) {
      return fail(out, path, "expected an object (record " + schema.getName() + "), got "
          + show(json));
    }
    GenericData.Record record = new GenericData.Record(schema);
    boolean ok = true;
    for (Schema.Field field : schema.getFields()) {
      String fieldPath = path.isEmpty() ? field.name() : path + "." + field.name();
      JsonNode value = json.get(field.name());
      Object converted;
      if (value == null) {
        if (field.hasDefaultValue()) {
          converted = GenericData.get().deepCopy(field.schema(),
              GenericData.get().getDefaultValue(field));
        } else {
          converted = fail(out, fieldPath, "is required (" + describe(field.schema())
              + ") and has no default");
        }
      } else {
        converted = convert(value, field.schema(), fieldPath, out);
      }
      if (converted == INVALID) {
        ok = false;
      } else {
        record.put(field.pos(), converted);
      }
    }
    Iterator<String> names = json.fieldNames();
    while (names.hasNext()) {
      String name = names.next();
      if (schema.getField(name) == null) {
        ok = false;
        fail(out, path.isEmpty() ? name : path + "." + name, "is not a field of "
            + schema.getFullName());
      }
    }
    return ok ? record : INVALID;
  }

  private static Object union(JsonNode json, Schema union, String path, List<FieldError> out) {
    List<Schema> branches = union.getTypes();
    if (json == null || json.isNull() || json.isMissingNode()) {
      for (Schema branch : branches) {
        if (branch.getType() == Schema.Type.NULL) {
          return null;
        }
      }
      return fail(out, path, "is null but must be one of " + describe(union));
    }
    List<Schema> nonNull = branches.stream().filter(b -> b.getType() != Schema.Type.NULL).toList();
    // Avro's JSON encoding of a union value: {"<branch name>": value}. The same object may be a
    // plain value of a map or record branch ({"string": "x"} is also a map with the key
    // "string"): the plain reading wins, as for every other JSON value; the object is read as
    // Avro's encoding only when no branch takes it as it is.
    if (json.isObject() && json.size() == 1) {
      String name = json.fieldNames().next();
      Schema named = null;
      for (Schema branch : nonNull) {
        if (branchName(branch, name)) {
          named = branch;
          break;
        }
      }
      if (named != null) {
        for (Schema branch : nonNull) {
          if (branch.getType() == Schema.Type.MAP || branch.getType() == Schema.Type.RECORD) {
            List<FieldError> attempt = new ArrayList<>();
            Object value = convert(json, branch, path, attempt);
            if (attempt.isEmpty()) {
              return value;
            }
          }
        }
        return convert(json.get(name), named, path, out);
      }
    }
    if (nonNull.size() == 1) {
      return convert(json, nonNull.get(0), path, out);
    }
    for (Schema branch : nonNull) {
      List<FieldError> attempt = new ArrayList<>();
      Object value = convert(json, branch, path, attempt);
      if (attempt.isEmpty()) {
        return value;
      }
    }
    return fail(out, path, "matches none of " + describe(union) + ": got " + show(json));
  }

  private static boolean branchName(Schema branch, String name) {
    return switch (branch.getType()) {
      case RECORD, ENUM, FIXED -> name.equals(branch.getFullName()) || name.equals(branch.getName());
      default -> name.equals(branch.getType().getName());
    };
  }

  private static Object intValue(JsonNode json, String path, List<FieldError> out) {
    if (!json.isIntegralNumber()) {
      return fail(out, path, "expected an int, got " + show(json));
    }
    if (!json.canConvertToInt()) {
      return fail(out, path, "is " + json.asText() + ", out of the int range");
    }
    return json.intValue();
  }

  private static Object longValue(JsonNode json, String path, List<FieldError> out) {
    if (!json.isIntegralNumber()) {
      return fail(out, path, "expected a long, got " + show(json));
    }
    BigInteger value = json.bigIntegerValue();
    if (value.compareTo(LONG_MIN) < 0 || value.compareTo(LONG_MAX) > 0) {
      return fail(out, path, "is " + json.asText() + ", out of the long range");
    }
    return value.longValue();
  }

  private static Object floatValue(JsonNode json, String path, List<FieldError> out) {
    if (!json.isNumber()) {
      return fail(out, path, "expected a number, got " + show(json));
    }
    double value = json.doubleValue();
    if (Math.abs(value) > Float.MAX_VALUE) {
      return fail(out, path, "is " + json.asText() + ", out of the float range");
    }
    return (float) value;
  }

  private static Object logicalInt(JsonNode json, Schema schema, String path,
      List<FieldError> out) {
    LogicalType logical = schema.getLogicalType();
    if (json.isTextual() && logical instanceof LogicalTypes.Date) {
      try {
        return Math.toIntExact(LocalDate.parse(json.textValue()).toEpochDay());
      } catch (DateTimeParseException | ArithmeticException e) {
        return fail(out, path, "expected a date as yyyy-MM-dd or days since 1970-01-01, got "
            + show(json));
      }
    }
    if (json.isTextual() && logical instanceof LogicalTypes.TimeMillis) {
      try {
        return (int) (LocalTime.parse(json.textValue()).toNanoOfDay() / 1_000_000);
      } catch (DateTimeParseException e) {
        return fail(out, path, "expected a time of day as HH:mm:ss[.SSS] or milliseconds after"
            + " midnight, got " + show(json));
      }
    }
    if (!json.isIntegralNumber()) {
      return fail(out, path, "expected " + describe(schema) + ", got " + show(json));
    }
    return intValue(json, path, out);
  }

  private static Object logicalLong(JsonNode json, Schema schema, String path,
      List<FieldError> out) {
    LogicalType logical = schema.getLogicalType();
    if (json.isTextual()) {
      String text = json.textValue();
      try {
        if (logical instanceof LogicalTypes.TimestampMillis) {
          return instant(text).toEpochMilli();
        }
        if (logical instanceof LogicalTypes.TimestampMicros) {
          Instant instant = instant(text);
          return Math.addExact(Math.multiplyExact(instant.getEpochSecond(), 1_000_000L),
              instant.getNano() / 1_000);
        }
        if (logical instanceof LogicalTypes.LocalTimestampMillis) {
          return LocalDateTime.parse(text).toInstant(ZoneOffset.UTC).toEpochMilli();
        }
        if (logical instanceof LogicalTypes.LocalTimestampMicros) {
          return ChronoUnit.MICROS.between(Instant.EPOCH,
              LocalDateTime.parse(text).toInstant(ZoneOffset.UTC));
        }
        if (logical instanceof LogicalTypes.TimeMicros) {
          return LocalTime.parse(text).toNanoOfDay() / 1_000;
        }
      } catch (DateTimeParseException | ArithmeticException e) {
        return fail(out, path, "expected " + describe(schema) + " as "
            + textForm(logical) + " or a number, got " + show(json));
      }
    }
    if (!json.isIntegralNumber()) {
      return fail(out, path, "expected " + describe(schema) + ", got " + show(json));
    }
    return longValue(json, path, out);
  }

  private static String textForm(LogicalType logical) {
    if (logical instanceof LogicalTypes.TimestampMillis
        || logical instanceof LogicalTypes.TimestampMicros) {
      return "an ISO-8601 instant with offset (2024-05-01T10:15:30Z)";
    }
    if (logical instanceof LogicalTypes.TimeMicros) {
      return "a time of day (10:15:30.123456)";
    }
    return "an ISO-8601 local date-time (2024-05-01T10:15:30)";
  }

  private static Instant instant(String text) {
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      return OffsetDateTime.parse(text).toInstant();
    }
  }

  private static Object string(JsonNode json, Schema schema, String path, List<FieldError> out) {
    if (!json.isTextual()) {
      return fail(out, path, "expected a string, got " + show(json));
    }
    String text = json.textValue();
    if (schema.getLogicalType() instanceof LogicalTypes.Uuid && !UUID_FORM.matcher(text).matches()) {
      return fail(out, path, "expected a UUID (8-4-4-4-12 hex digits), got " + show(json));
    }
    return text;
  }

  private static byte[] base64(JsonNode json, String path, List<FieldError> out) {
    if (!json.isTextual()) {
      fail(out, path, "expected base64 text, got " + show(json));
      return null;
    }
    try {
      return Base64.getDecoder().decode(json.textValue());
    } catch (IllegalArgumentException e) {
      fail(out, path, "is not valid base64: " + e.getMessage());
      return null;
    }
  }

  private static Object bytes(JsonNode json, String path, List<FieldError> out) {
    byte[] bytes = base64(json, path, out);
    return bytes == null ? INVALID : ByteBuffer.wrap(bytes);
  }

  private static Object fixed(JsonNode json, Schema schema, String path, List<FieldError> out) {
    byte[] bytes = base64(json, path, out);
    if (bytes == null) {
      return INVALID;
    }
    if (bytes.length != schema.getFixedSize()) {
      return fail(out, path, "is " + bytes.length + " bytes; fixed " + schema.getFullName()
          + " needs exactly " + schema.getFixedSize());
    }
    return new GenericData.Fixed(schema, bytes);
  }

  private static Object decimal(JsonNode json, Schema schema, LogicalTypes.Decimal type,
      String path, List<FieldError> out) {
    BigDecimal value;
    if (json.isNumber()) {
      if (json.isDouble() || json.isFloat()) {
        double d = json.doubleValue();
        if (!Double.isFinite(d)) {
          // a number too large for a double (1e400) that the parser made infinite
          return fail(out, path, "is out of range for decimal(" + type.getPrecision() + ","
              + type.getScale() + ")");
        }
      }
      value = json.isFloatingPointNumber() && !json.isBigDecimal()
          ? new BigDecimal(json.asText()) : json.decimalValue();
    } else if (json.isTextual()) {
      try {
        value = new BigDecimal(json.textValue().trim());
      } catch (NumberFormatException e) {
        return fail(out, path, "expected a decimal number, got " + show(json));
      }
    } else {
      return fail(out, path, "expected a decimal number, got " + show(json));
    }
    BigDecimal stripped = value.stripTrailingZeros();
    if (stripped.scale() > type.getScale()) {
      return fail(out, path, "has " + stripped.scale() + " decimal places; decimal("
          + type.getPrecision() + "," + type.getScale() + ") allows " + type.getScale());
    }
    // digits before the point, checked before setScale, which would build all of them: 1e999999999
    // is a short string and a 415 MB number
    long integerDigits = stripped.signum() == 0 ? 0
        : (long) stripped.precision() - stripped.scale();
    if (integerDigits > type.getPrecision() - type.getScale()) {
      return fail(out, path, "has " + integerDigits + " digits before the decimal point; decimal("
          + type.getPrecision() + "," + type.getScale() + ") allows "
          + (type.getPrecision() - type.getScale()));
    }
    BigDecimal scaled = value.setScale(type.getScale());
    if (scaled.precision() > type.getPrecision()) {
      return fail(out, path, "has " + scaled.precision() + " digits; decimal("
          + type.getPrecision() + "," + type.getScale() + ") allows " + type.getPrecision());
    }
    if (schema.getType() == Schema.Type.FIXED) {
      return DECIMALS.toFixed(scaled, schema, type);
    }
    return DECIMALS.toBytes(scaled, schema, type);
  }

  private static Object enumValue(JsonNode json, Schema schema, String path,
      List<FieldError> out) {
    if (!json.isTextual() || !schema.hasEnumSymbol(json.textValue())) {
      return fail(out, path, "expected one of " + schema.getEnumSymbols() + " (enum "
          + schema.getName() + "), got " + show(json));
    }
    return new GenericData.EnumSymbol(schema, json.textValue());
  }

  private static Object array(JsonNode json, Schema schema, String path, List<FieldError> out) {
    if (!json.isArray()) {
      return fail(out, path, "expected an array, got " + show(json));
    }
    List<Object> items = new ArrayList<>(json.size());
    boolean ok = true;
    for (int i = 0; i < json.size(); i++) {
      Object item = convert(json.get(i), schema.getElementType(), path + "[" + i + "]", out);
      ok &= item != INVALID;
      items.add(item);
    }
    return ok ? new GenericData.Array<>(schema, items) : INVALID;
  }

  private static Object map(JsonNode json, Schema schema, String path, List<FieldError> out) {
    if (!json.isObject()) {
      return fail(out, path, "expected an object (map), got " + show(json));
    }
    Map<String, Object> values = new LinkedHashMap<>();
    boolean ok = true;
    for (Iterator<Map.Entry<String, JsonNode>> it = json.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> entry = it.next();
      Object value = convert(entry.getValue(), schema.getValueType(),
          path + "[" + entry.getKey() + "]", out);
      ok &= value != INVALID;
      values.put(entry.getKey(), value);
    }
    return ok ? values : INVALID;
  }

  private static Object fail(List<FieldError> out, String path, String reason) {
    out.add(new FieldError(path.isEmpty() ? FieldError.ROOT : path, reason));
    return INVALID;
  }

  private static String show(JsonNode json) {
    String kind = switch (json.getNodeType()) {
      case STRING -> "a string";
      case NUMBER -> "a number";
      case BOOLEAN -> "a boolean";
      case ARRAY -> "an array";
      case OBJECT -> "an object";
      default -> json.getNodeType().toString().toLowerCase();
    };
    if (json.isContainerNode()) {
      return kind;
    }
    String text = json.toString();
    return kind + " " + (text.length() > MAX_SHOWN ? text.substring(0, MAX_SHOWN) + "…" : text);
  }

  /** A short human description of an Avro type, e.g. {@code long (timestamp-millis)}. */
  static String describe(Schema schema) {
    if (schema.getType() == Schema.Type.UNION) {
      Set<String> seen = new HashSet<>();
      List<String> parts = new ArrayList<>();
      for (Schema branch : schema.getTypes()) {
        String d = describe(branch);
        if (seen.add(d)) {
          parts.add(d);
        }
      }
      return "[" + String.join(", ", parts) + "]";
    }
    String base = switch (schema.getType()) {
      case RECORD, ENUM, FIXED -> schema.getType().getName() + " " + schema.getName();
      case ARRAY -> "array of " + describe(schema.getElementType());
      case MAP -> "map of " + describe(schema.getValueType());
      default -> schema.getType().getName();
    };
    LogicalType logical = schema.getLogicalType();
    if (logical instanceof LogicalTypes.Decimal d) {
      return "decimal(" + d.getPrecision() + "," + d.getScale() + ")";
    }
    return logical == null ? base : base + " (" + logical.getName() + ")";
  }
}
