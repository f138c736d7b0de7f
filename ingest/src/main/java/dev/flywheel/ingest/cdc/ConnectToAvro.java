package dev.flywheel.ingest.cdc;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.avro.JsonProperties;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;

/**
 * Turns the row images of Debezium change events (Kafka Connect {@link Struct}s) into Avro {@link
 * GenericRecord}s of a source schema derived from the table's columns.
 *
 * <p>Type mapping (Connect type, or Debezium/Connect semantic name, to Avro):
 *
 * <ul>
 *   <li>{@code INT8}, {@code INT16}, {@code INT32} → {@code int}; {@code INT64} → {@code long};
 *       {@code FLOAT32} → {@code float}; {@code FLOAT64} → {@code double}; {@code BOOLEAN} →
 *       {@code boolean}; {@code STRING} → {@code string}; {@code BYTES} → {@code bytes};
 *   <li>Connect {@code Timestamp} (PostgreSQL {@code timestamp}, with {@code
 *       time.precision.mode=connect}) and Debezium {@code ZonedTimestamp} ({@code timestamptz}) →
 *       {@code long} {@code timestamp-millis};
 *   <li>Connect {@code Date} → {@code int} {@code date}; Connect {@code Time} → {@code int} {@code
 *       time-millis};
 *   <li>Connect {@code Decimal} ({@code numeric(p,s)}) → {@code bytes} {@code decimal(p,s)}, or
 *       a {@code string} holding the plain number when the column has no declared precision;
 *   <li>{@code ARRAY} → {@code array}; {@code MAP} with string keys → {@code map}; {@code STRUCT}
 *       (other than the decimal types above) → a nested {@code record}.
 * </ul>
 *
 * <p>An optional Connect schema (a nullable column) becomes {@code ["null", T]} with default
 * {@code null}. Column defaults are not carried over: a column added later must be nullable for
 * the registry's BACKWARD check to accept the new schema.
 *
 * <p>A value that is Debezium's placeholder for a column PostgreSQL did not send ({@value
 * #UNAVAILABLE_VALUE}: an unchanged TOAST column of a table whose {@code REPLICA IDENTITY} is not
 * {@code FULL}) is refused with {@link UnavailableValueException} rather than written as the
 * column's value.
 *
 * <p>Every record also gets the change's metadata: {@value #OP} ({@code c}, {@code u}, {@code r},
 * or {@code d} for delete events), {@value #LSN} and {@value #COMMIT_TIME}. Thread-safe:
 * stateless.
 */
final class ConnectToAvro {

  /** The change operation: {@code c} insert, {@code u} update, {@code r} snapshot read, {@code d}. */
  static final String OP = "cdc_op";

  /** The PostgreSQL log sequence number of the change. */
  static final String LSN = "cdc_lsn";

  /** When the change's transaction committed. */
  static final String COMMIT_TIME = "cdc_commit_time";

  /**
   * Debezium's default {@code unavailable.value.placeholder}: the value it gives a column
   * PostgreSQL left out of a change (an unchanged TOAST value under {@code REPLICA IDENTITY
   * DEFAULT}); as text for text columns, as its UTF-8 bytes for {@code bytea}.
   */
  static final String UNAVAILABLE_VALUE = "__debezium_unavailable_value";

  private static final byte[] UNAVAILABLE_BYTES =
      UNAVAILABLE_VALUE.getBytes(java.nio.charset.StandardCharsets.UTF_8);

  private static final String DEBEZIUM_ZONED_TIMESTAMP = "io.debezium.time.ZonedTimestamp";
  private static final String DEBEZIUM_VARIABLE_SCALE_DECIMAL = "io.debezium.data.VariableScaleDecimal";
  private static final String DECIMAL_PRECISION = "connect.decimal.precision";

  private ConnectToAvro() {}

  /** Whether {@code schema} is Debezium's {@code numeric} without a scale: a scale and the bytes. */
  static boolean isVariableScaleDecimal(org.apache.kafka.connect.data.Schema schema) {
    return DEBEZIUM_VARIABLE_SCALE_DECIMAL.equals(schema.name());
  }

  /** The number a Debezium {@code VariableScaleDecimal} struct holds. */
  static BigDecimal variableScaleDecimal(Struct variable) {
    return new BigDecimal(new java.math.BigInteger(variable.getBytes("value")),
        variable.getInt32("scale"));
  }

  /**
   * The Avro schema of a table's rows plus the change metadata.
   *
   * @param row the Connect schema of the row image ({@code after} or {@code before})
   * @param recordName the full name of the Avro record, e.g. {@code dev.flywheel.cdc.orders}
   * @param allColumnsNullable whether every column becomes nullable (delete events carry only the
   *     key columns of the old row unless the table has {@code REPLICA IDENTITY FULL})
   * @param keyColumns the primary-key columns, never made nullable
   * @throws IllegalArgumentException when a column has a type without an Avro mapping or a name
   *     taken by the change metadata
   */
  static Schema rowSchema(org.apache.kafka.connect.data.Schema row, String recordName,
      boolean allColumnsNullable, List<String> keyColumns) {
    SchemaBuilder.FieldAssembler<Schema> fields =
        SchemaBuilder.record(recordName).doc("A row of a table captured by Flywheel CDC.").fields();
    for (Field column : row.fields()) {
      String name = column.name();
      if (name.equals(OP) || name.equals(LSN) || name.equals(COMMIT_TIME)) {
        throw new IllegalArgumentException("column '" + name + "' has a name Flywheel CDC uses"
            + " for change metadata (" + OP + ", " + LSN + ", " + COMMIT_TIME + "); rename it");
      }
      Schema type = type(column.schema(), recordName + "_" + name);
      boolean nullable = column.schema().isOptional()
          || (allColumnsNullable && !keyColumns.contains(name));
      if (nullable) {
        fields.name(name).type(Schema.createUnion(Schema.create(Schema.Type.NULL), type))
            .withDefault(null);
      } else {
        fields.name(name).type(type).noDefault();
      }
    }
    fields.name(OP).doc("c insert, u update, r snapshot read, d delete").type().stringType()
        .noDefault();
    fields.name(LSN).doc("PostgreSQL log sequence number of the change").type().longType()
        .noDefault();
    Schema commitTime = LogicalTypes.timestampMillis().addToSchema(Schema.create(Schema.Type.LONG));
    fields.name(COMMIT_TIME).doc("when the change's transaction committed").type(commitTime)
        .noDefault();
    return fields.endRecord();
  }

  /**
   * The Avro record of a row image.
   *
   * @throws UnavailableValueException when a column holds Debezium's placeholder for a value
   *     PostgreSQL did not send
   * @throws IllegalArgumentException when a value cannot be converted to its Avro type
   */
  static GenericRecord row(Schema schema, Struct image, String op, long lsn, long commitTimeMs) {
    GenericData.Record record = new GenericData.Record(schema);
    for (Schema.Field field : schema.getFields()) {
      String name = field.name();
      if (name.equals(OP) || name.equals(LSN) || name.equals(COMMIT_TIME)) {
        continue;
      }
      Field column = image.schema().field(name);
      Object value = column == null ? null : image.get(column);
      record.put(name, value == null ? null : value(column.schema(), value, name));
    }
    record.put(OP, op);
    record.put(LSN, lsn);
    record.put(COMMIT_TIME, commitTimeMs);
    return record;
  }

  private static Schema type(org.apache.kafka.connect.data.Schema schema, String nestedName) {
    String semantic = schema.name();
    if (Timestamp.LOGICAL_NAME.equals(semantic) || DEBEZIUM_ZONED_TIMESTAMP.equals(semantic)) {
      return LogicalTypes.timestampMillis().addToSchema(Schema.create(Schema.Type.LONG));
    }
    if (Date.LOGICAL_NAME.equals(semantic)) {
      return LogicalTypes.date().addToSchema(Schema.create(Schema.Type.INT));
    }
    if (Time.LOGICAL_NAME.equals(semantic)) {
      return LogicalTypes.timeMillis().addToSchema(Schema.create(Schema.Type.INT));
    }
    if (Decimal.LOGICAL_NAME.equals(semantic)) {
      Map<String, String> parameters = schema.parameters() == null ? Map.of() : schema.parameters();
      String precision = parameters.get(DECIMAL_PRECISION);
      if (precision == null) {
        return Schema.create(Schema.Type.STRING);
      }
      int scale = Integer.parseInt(parameters.getOrDefault(Decimal.SCALE_FIELD, "0"));
      return LogicalTypes.decimal(Integer.parseInt(precision), scale)
          .addToSchema(Schema.create(Schema.Type.BYTES));
    }
    if (DEBEZIUM_VARIABLE_SCALE_DECIMAL.equals(semantic)) {
      return Schema.create(Schema.Type.STRING);
    }
    switch (schema.type()) {
      case INT8:
      case INT16:
      case INT32:
        return Schema.create(Schema.Type.INT);
      case INT64:
        return Schema.create(Schema.Type.LONG);
      case FLOAT32:
        return Schema.create(Schema.Type.FLOAT);
      case FLOAT64:
        return Schema.create(Schema.Type.DOUBLE);
      case BOOLEAN:
        return Schema.create(Schema.Type.BOOLEAN);
      case STRING:
        return Schema.create(Schema.Type.STRING);
      case BYTES:
        return Schema.create(Schema.Type.BYTES);
      case ARRAY:
        return Schema.createArray(nullableIfOptional(schema.valueSchema(), nestedName + "_item"));
      case MAP:
        if (schema.keySchema().type() != org.apache.kafka.connect.data.Schema.Type.STRING) {
          throw new IllegalArgumentException("column '" + nestedName + "' is a map with "
              + schema.keySchema().type() + " keys; Avro maps need string keys");
        }
        return Schema.createMap(nullableIfOptional(schema.valueSchema(), nestedName + "_value"));
      case STRUCT:
        return rowOfStruct(schema, nestedName);
      default:
        throw new IllegalArgumentException(
            "column '" + nestedName + "' has Connect type " + schema.type()
                + " (" + semantic + "), which Flywheel CDC cannot map to Avro");
    }
  }

  private static Schema nullableIfOptional(org.apache.kafka.connect.data.Schema schema,
      String nestedName) {
    Schema type = type(schema, nestedName);
    return schema.isOptional()
        ? Schema.createUnion(Schema.create(Schema.Type.NULL), type)
        : type;
  }

  private static Schema rowOfStruct(org.apache.kafka.connect.data.Schema struct, String name) {
    List<Schema.Field> fields = new ArrayList<>();
    for (Field field : struct.fields()) {
      Schema type = type(field.schema(), name + "_" + field.name());
      fields.add(field.schema().isOptional()
          ? new Schema.Field(field.name(),
              Schema.createUnion(Schema.create(Schema.Type.NULL), type), null,
              JsonProperties.NULL_VALUE)
          : new Schema.Field(field.name(), type));
    }
    int dot = name.lastIndexOf('.');
    return Schema.createRecord(dot < 0 ? name : name.substring(dot + 1), null,
        dot < 0 ? null : name.substring(0, dot), false, fields);
  }

  private static Object value(org.apache.kafka.connect.data.Schema schema, Object value,
      String column) {
    if (UNAVAILABLE_VALUE.equals(value)
        || (value instanceof byte[] bytes && java.util.Arrays.equals(bytes, UNAVAILABLE_BYTES))
        || (value instanceof ByteBuffer buffer
            && buffer.equals(ByteBuffer.wrap(UNAVAILABLE_BYTES)))) {
      throw new UnavailableValueException(column);
    }
    String semantic = schema.name();
    if (Timestamp.LOGICAL_NAME.equals(semantic)) {
      return ((java.util.Date) value).getTime();
    }
    if (DEBEZIUM_ZONED_TIMESTAMP.equals(semantic)) {
      try {
        return OffsetDateTime.parse((String) value).toInstant().toEpochMilli();
      } catch (DateTimeParseException e) {
        return Instant.parse((String) value).toEpochMilli();
      }
    }
    if (Date.LOGICAL_NAME.equals(semantic)) {
      return (int) Math.floorDiv(((java.util.Date) value).getTime(), 86_400_000L);
    }
    if (Time.LOGICAL_NAME.equals(semantic)) {
      return (int) ((java.util.Date) value).getTime();
    }
    if (Decimal.LOGICAL_NAME.equals(semantic)) {
      BigDecimal decimal = (BigDecimal) value;
      Map<String, String> parameters = schema.parameters() == null ? Map.of() : schema.parameters();
      if (parameters.get(DECIMAL_PRECISION) == null) {
        return decimal.toPlainString();
      }
      return ByteBuffer.wrap(decimal.unscaledValue().toByteArray());
    }
    if (DEBEZIUM_VARIABLE_SCALE_DECIMAL.equals(semantic)) {
      return variableScaleDecimal((Struct) value).toPlainString();
    }
    switch (schema.type()) {
      case INT8:
        return ((Byte) value).intValue();
      case INT16:
        return ((Short) value).intValue();
      case BYTES:
        return value instanceof byte[] bytes ? ByteBuffer.wrap(bytes) : value;
      case ARRAY: {
        List<Object> items = new ArrayList<>();
        for (Object item : (List<?>) value) {
          items.add(item == null ? null : value(schema.valueSchema(), item, column));
        }
        return items;
      }
      case MAP: {
        Map<String, Object> entries = new HashMap<>();
        for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
          Object item = entry.getValue();
          entries.put((String) entry.getKey(),
              item == null ? null : value(schema.valueSchema(), item, column));
        }
        return entries;
      }
      case STRUCT: {
        Struct struct = (Struct) value;
        Schema nested = rowOfStruct(schema, column);
        GenericData.Record record = new GenericData.Record(nested);
        for (Field field : schema.fields()) {
          Object item = struct.get(field);
          record.put(field.name(), item == null ? null : value(field.schema(), item, column));
        }
        return record;
      }
      default:
        return Objects.requireNonNull(value);
    }
  }

  /**
   * A column holds Debezium's placeholder {@value #UNAVAILABLE_VALUE} instead of its value:
   * PostgreSQL did not send the column (an unchanged TOAST value), so the row cannot be written
   * whole.
   */
  static final class UnavailableValueException extends IllegalArgumentException {
    UnavailableValueException(String column) {
      super("column '" + column + "' holds Debezium's placeholder " + UNAVAILABLE_VALUE
          + " instead of its value: PostgreSQL did not send this unchanged TOAST column because"
          + " the table's REPLICA IDENTITY is not FULL. Run ALTER TABLE <table> REPLICA IDENTITY"
          + " FULL so that every change carries every column, then write the row again (an"
          + " UPDATE of it in PostgreSQL captures it anew)");
    }
  }
}
