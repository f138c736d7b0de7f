package dev.flywheel.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Conversions;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

/**
 * Converts a JSON object into a {@link GenericRecord} of a source's registered schema, the way a
 * person writes it: union values plain (or in Avro's {@code {"string": "x"}} form), timestamps as
 * epoch numbers or ISO-8601 instants, dates as ISO dates, bytes and fixed as base64, missing
 * fields taking their defaults. Errors name the field and what it expected.
 */
final class JsonRecords {

  static final ObjectMapper MAPPER = new ObjectMapper();

  private JsonRecords() {}

  /** @throws IllegalArgumentException naming the first field that does not fit the schema */
  static GenericRecord parse(String json, Schema schema) {
    JsonNode node;
    try {
      node = MAPPER.readTree(json);
    } catch (IOException e) {
      throw new IllegalArgumentException("the record is not valid JSON: " + e.getMessage());
    }
    if (node == null || !node.isObject()) {
      throw new IllegalArgumentException("the record must be a JSON object of the fields of "
          + schema.getFullName());
    }
    return (GenericRecord) convert(node, schema, "");
  }

  private static Object convert(JsonNode node, Schema schema, String path) {
    LogicalType logical = schema.getLogicalType();
    switch (schema.getType()) {
      case RECORD: {
        if (!node.isObject()) {
          throw mismatch(path, "a JSON object (" + schema.getFullName() + ")", node);
        }
        GenericData.Record record = new GenericData.Record(schema);
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
          String name = it.next();
          if (schema.getField(name) == null) {
            throw new IllegalArgumentException("field '" + join(path, name) + "' is not in schema "
                + schema.getFullName() + "; its fields are "
                + schema.getFields().stream().map(Schema.Field::name).toList());
          }
        }
        for (Schema.Field field : schema.getFields()) {
          JsonNode value = node.get(field.name());
          if (value == null || value.isMissingNode()) {
            if (field.hasDefaultValue()) {
              record.put(field.pos(), GenericData.get().deepCopy(field.schema(),
                  GenericData.get().getDefaultValue(field)));
              continue;
            }
            if (accepts(field.schema(), Schema.Type.NULL)) {
              record.put(field.pos(), null);
              continue;
            }
            throw new IllegalArgumentException("field '" + join(path, field.name())
                + "' is required by " + schema.getFullName() + " and has no default");
          }
          record.put(field.pos(), convert(value, field.schema(), join(path, field.name())));
        }
        return record;
      }
      case UNION: {
        if (node.isNull() && accepts(schema, Schema.Type.NULL)) {
          return null;
        }
        if (node.isObject() && node.size() == 1) {
          String branch = node.fieldNames().next();
          for (Schema s : schema.getTypes()) {
            if (s.getFullName().equals(branch) || s.getName().equals(branch)) {
              return convert(node.get(branch), s, path);
            }
          }
        }
        List<String> tried = new ArrayList<>();
        for (Schema s : schema.getTypes()) {
          if (s.getType() == Schema.Type.NULL) {
            continue;
          }
          try {
            return convert(node, s, path);
          } catch (IllegalArgumentException e) {
            tried.add(s.getType() == Schema.Type.RECORD ? s.getFullName() : s.getType().getName());
          }
        }
        throw mismatch(path, "one of " + tried, node);
      }
      case NULL:
        if (!node.isNull()) {
          throw mismatch(path, "null", node);
        }
        return null;
      case BOOLEAN:
        if (!node.isBoolean()) {
          throw mismatch(path, "true or false", node);
        }
        return node.booleanValue();
      case INT:
        if (logical instanceof LogicalTypes.Date && node.isTextual()) {
          try {
            return (int) LocalDate.parse(node.textValue()).toEpochDay();
          } catch (DateTimeParseException e) {
            throw mismatch(path, "an ISO date (2026-11-23) or days since 1970-01-01", node);
          }
        }
        if (!node.isIntegralNumber() || !node.canConvertToInt()) {
          throw mismatch(path, "an int", node);
        }
        return node.intValue();
      case LONG:
        if (node.isTextual() && (logical instanceof LogicalTypes.TimestampMillis
            || logical instanceof LogicalTypes.TimestampMicros)) {
          try {
            Instant t = Instant.parse(node.textValue());
            return logical instanceof LogicalTypes.TimestampMillis ? t.toEpochMilli()
                : ChronoUnit.MICROS.between(Instant.EPOCH, t);
          } catch (DateTimeParseException e) {
            throw mismatch(path, "an ISO-8601 instant (2026-11-23T10:00:00Z) or epoch number",
                node);
          }
        }
        if (!node.isIntegralNumber() || !node.canConvertToLong()) {
          throw mismatch(path, "a long", node);
        }
        return node.longValue();
      case FLOAT:
        if (!node.isNumber()) {
          throw mismatch(path, "a number", node);
        }
        return node.floatValue();
      case DOUBLE:
        if (!node.isNumber()) {
          throw mismatch(path, "a number", node);
        }
        return node.doubleValue();
      case STRING:
        if (!node.isTextual()) {
          throw mismatch(path, "a string", node);
        }
        return node.textValue();
      case ENUM:
        if (!node.isTextual() || !schema.hasEnumSymbol(node.textValue())) {
          throw mismatch(path, "one of " + schema.getEnumSymbols(), node);
        }
        return new GenericData.EnumSymbol(schema, node.textValue());
      case BYTES:
        if (logical instanceof LogicalTypes.Decimal decimal && node.isNumber()) {
          BigDecimal value = node.decimalValue().setScale(decimal.getScale());
          return new Conversions.DecimalConversion().toBytes(value, schema, decimal);
        }
        return ByteBuffer.wrap(base64(node, path));
      case FIXED: {
        byte[] bytes = base64(node, path);
        if (bytes.length != schema.getFixedSize()) {
          throw mismatch(path, "base64 of exactly " + schema.getFixedSize() + " bytes", node);
        }
        return new GenericData.Fixed(schema, bytes);
      }
      case ARRAY: {
        if (!node.isArray()) {
          throw mismatch(path, "a JSON array", node);
        }
        List<Object> items = new GenericData.Array<>(node.size(), schema);
        int i = 0;
        for (JsonNode item : node) {
          items.add(convert(item, schema.getElementType(), path + "[" + i++ + "]"));
        }
        return items;
      }
      case MAP: {
        if (!node.isObject()) {
          throw mismatch(path, "a JSON object", node);
        }
        Map<String, Object> map = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> e = it.next();
          map.put(e.getKey(), convert(e.getValue(), schema.getValueType(),
              join(path, e.getKey())));
        }
        return map;
      }
      default:
        throw new IllegalArgumentException("field '" + path + "' has Avro type "
            + schema.getType() + ", which JSON input does not support");
    }
  }

  private static boolean accepts(Schema schema, Schema.Type type) {
    return schema.getType() == type || (schema.getType() == Schema.Type.UNION
        && schema.getTypes().stream().anyMatch(s -> s.getType() == type));
  }

  private static byte[] base64(JsonNode node, String path) {
    if (!node.isTextual()) {
      throw mismatch(path, "a base64 string", node);
    }
    try {
      return Base64.getDecoder().decode(node.textValue());
    } catch (IllegalArgumentException e) {
      throw mismatch(path, "a base64 string", node);
    }
  }

  private static IllegalArgumentException mismatch(String path, String expected, JsonNode node) {
    return new IllegalArgumentException("field '" + (path.isEmpty() ? "(record)" : path)
        + "' must be " + expected + ", not " + node);
  }

  private static String join(String path, String name) {
    return path.isEmpty() ? name : path + "." + name;
  }
}
