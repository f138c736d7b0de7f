package dev.flywheel.devstack.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flywheel.devstack.registry.StoreRecord.ConfigRecord;
import dev.flywheel.devstack.registry.StoreRecord.SchemaRecord;
import dev.flywheel.devstack.registry.StoreRecord.SchemaValue;
import dev.flywheel.registry.CompatibilityLevel;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Encodes and decodes {@code _schemas} records in the Confluent Schema Registry's own JSON format,
 * so that the topic reads as any Confluent registry's would.
 *
 * <p>Keys are written with a fixed field order: compaction compares key bytes, so the same logical
 * key must always give the same bytes.
 */
final class StoreRecordCodec {

  static final String SCHEMA_KEYTYPE = "SCHEMA";
  static final String CONFIG_KEYTYPE = "CONFIG";

  private static final ObjectMapper JSON = new ObjectMapper();

  private StoreRecordCodec() {}

  static byte[] key(StoreRecord record) {
    ObjectNode key = JSON.createObjectNode();
    if (record instanceof SchemaRecord schema) {
      key.put("keytype", SCHEMA_KEYTYPE);
      key.put("subject", schema.subject());
      key.put("version", schema.version());
      key.put("magic", 1);
    } else if (record instanceof ConfigRecord config) {
      key.put("keytype", CONFIG_KEYTYPE);
      key.put("subject", config.subject());
      key.put("magic", 0);
    } else {
      throw new IllegalArgumentException("unknown record " + record);
    }
    return bytes(key);
  }

  /** The value bytes, or null for a tombstone or a deleted configuration. */
  static byte[] value(StoreRecord record) {
    if (record instanceof SchemaRecord schema) {
      SchemaValue value = schema.value();
      if (value == null) {
        return null;
      }
      ObjectNode node = JSON.createObjectNode();
      node.put("subject", value.subject());
      node.put("version", value.version());
      node.put("id", value.id());
      node.put("schema", value.schema());
      node.put("deleted", value.deleted());
      return bytes(node);
    }
    if (record instanceof ConfigRecord config) {
      if (config.level() == null) {
        return null;
      }
      ObjectNode node = JSON.createObjectNode();
      node.put("compatibilityLevel", config.level().name());
      return bytes(node);
    }
    throw new IllegalArgumentException("unknown record " + record);
  }

  /**
   * Decodes one record.
   *
   * @return the record, or null for a key type this registry does not keep (Confluent's {@code
   *     NOOP}, {@code MODE}, {@code DELETE_SUBJECT}, ...)
   * @throws IllegalArgumentException when the key or value is not valid JSON of the expected shape
   */
  static StoreRecord decode(byte[] keyBytes, byte[] valueBytes) {
    if (keyBytes == null) {
      throw new IllegalArgumentException("record without a key");
    }
    JsonNode key = parse(keyBytes);
    String keytype = key.path("keytype").asText("");
    switch (keytype) {
      case SCHEMA_KEYTYPE: {
        String subject = requiredText(key, "subject");
        int version = requiredInt(key, "version");
        if (valueBytes == null) {
          return new SchemaRecord(subject, version, null);
        }
        JsonNode value = parse(valueBytes);
        return new SchemaRecord(subject, version, new SchemaValue(subject, version,
            requiredInt(value, "id"), requiredText(value, "schema"),
            value.path("deleted").asBoolean(false)));
      }
      case CONFIG_KEYTYPE: {
        JsonNode subjectNode = key.path("subject");
        String subject = subjectNode.isTextual() ? subjectNode.asText() : null;
        if (valueBytes == null) {
          return new ConfigRecord(subject, null);
        }
        JsonNode value = parse(valueBytes);
        JsonNode level = value.path("compatibilityLevel");
        if (!level.isTextual()) {
          // a Confluent config record carrying only other settings (normalize, alias, ...)
          return null;
        }
        return new ConfigRecord(subject, CompatibilityLevel.parse(level.asText()));
      }
      default:
        return null;
    }
  }

  private static JsonNode parse(byte[] bytes) {
    try {
      JsonNode node = JSON.readTree(bytes);
      if (node == null || !node.isObject()) {
        throw new IllegalArgumentException("not a JSON object");
      }
      return node;
    } catch (IOException e) {
      throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
    }
  }

  private static String requiredText(JsonNode node, String field) {
    JsonNode value = node.get(field);
    if (value == null || !value.isTextual()) {
      throw new IllegalArgumentException("missing text field '" + field + "'");
    }
    return value.asText();
  }

  private static int requiredInt(JsonNode node, String field) {
    JsonNode value = node.get(field);
    if (value == null || !value.canConvertToInt()) {
      throw new IllegalArgumentException("missing int field '" + field + "'");
    }
    return value.intValue();
  }

  private static byte[] bytes(JsonNode node) {
    try {
      return JSON.writeValueAsBytes(node);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
