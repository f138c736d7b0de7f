package dev.flywheel.serde;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * Builds a fully populated instance of a generated event class from its schema: every optional
 * field set to its non-null branch, every enum at its last symbol, every array and map with two
 * entries, so a round trip exercises every field. Values are derived from the field names, so two
 * fields never share a value by accident.
 */
final class FullyPopulated {

  private static final Instant T0 = Instant.parse("2026-03-01T12:00:00Z");

  private final int unionBranch;
  private int counter;

  /**
   * @param unionBranch which branch of a union of several records (RegistryCommand's and
   *     ModelEvent's {@code command}) to take, modulo the union's size
   */
  private FullyPopulated(int unionBranch) {
    this.unionBranch = unionBranch;
  }

  /** A fully populated {@code type}, taking branch 0 of multi-record unions. */
  static <T extends SpecificRecord> T of(Class<T> type) {
    return of(type, 0);
  }

  /** A fully populated {@code type}, taking branch {@code unionBranch} of multi-record unions. */
  static <T extends SpecificRecord> T of(Class<T> type, int unionBranch) {
    SpecificData model = SpecificData.getForClass(type);
    return type.cast(new FullyPopulated(unionBranch).value(model.getSchema(type), model, "root"));
  }

  /** The non-null branches of the first union of several records among {@code type}'s fields. */
  static List<Schema> commandBranches(Class<? extends SpecificRecord> type) {
    for (Schema.Field field : SpecificData.getForClass(type).getSchema(type).getFields()) {
      if (field.schema().getType() == Schema.Type.UNION && nonNull(field.schema()).size() > 1) {
        return nonNull(field.schema());
      }
    }
    return List.of();
  }

  private Object value(Schema schema, SpecificData model, String name) {
    int n = ++counter;
    switch (schema.getType()) {
      case RECORD: {
        SpecificRecord record = (SpecificRecord) model.newRecord(null, schema);
        for (Schema.Field field : schema.getFields()) {
          record.put(field.pos(), value(field.schema(), model, field.name()));
        }
        return record;
      }
      case UNION: {
        List<Schema> branches = nonNull(schema);
        Schema branch = branches.get(branches.size() > 1 ? unionBranch % branches.size() : 0);
        return value(branch, model, name);
      }
      case ENUM:
        return model.createEnum(schema.getEnumSymbols().get(schema.getEnumSymbols().size() - 1),
            schema);
      case ARRAY: {
        List<Object> list = new ArrayList<>();
        list.add(value(schema.getElementType(), model, name + "0"));
        list.add(value(schema.getElementType(), model, name + "1"));
        return list;
      }
      case MAP: {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put(name + "-a", value(schema.getValueType(), model, name + "a"));
        map.put(name + "-b", value(schema.getValueType(), model, name + "b"));
        return map;
      }
      case STRING:
        return name + "-" + n;
      case BYTES:
        return ByteBuffer.wrap((name + "-" + n).getBytes(StandardCharsets.UTF_8));
      case FIXED: {
        byte[] bytes = new byte[schema.getFixedSize()];
        for (int i = 0; i < bytes.length; i++) {
          bytes[i] = (byte) (n + i);
        }
        return model.createFixed(null, bytes, schema);
      }
      case INT:
        return 1000 + n;
      case LONG:
        if (schema.getLogicalType() instanceof LogicalTypes.TimestampMillis) {
          return T0.plusMillis(n * 1001L);
        }
        if (schema.getLogicalType() != null) {
          throw new IllegalArgumentException("no sample for logical type "
              + schema.getLogicalType().getName() + " of field " + name);
        }
        return 1_000_000_000_000L + n;
      case FLOAT:
        return 0.5f + n;
      case DOUBLE:
        return 0.25 + n;
      case BOOLEAN:
        return true;
      case NULL:
        return null;
      default:
        throw new IllegalArgumentException("no sample for " + schema.getType() + " of field " + name);
    }
  }

  private static List<Schema> nonNull(Schema union) {
    return union.getTypes().stream().filter(s -> s.getType() != Schema.Type.NULL).toList();
  }
}
