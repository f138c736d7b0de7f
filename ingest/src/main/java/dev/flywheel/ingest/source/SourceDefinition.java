package dev.flywheel.ingest.source;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;

/**
 * An ingest source: a name, the Avro record schema of its events, the field that keys them and the
 * field that holds their event time, and optionally a bearer token HTTP callers must present.
 *
 * <p>Every path into Flywheel (HTTP, the file producer, CDC) uses the same definition to key and
 * timestamp records, so that one entity's events stay on one partition in order:
 *
 * <pre>{@code
 * SourceDefinition tx = SourceDefinition.builder("card-tx")
 *     .schema(schema)              // an Avro record schema
 *     .keyField("card_id")         // string, int, long or enum; not nullable
 *     .timeField("event_time")     // long: timestamp-millis, timestamp-micros or plain epoch millis
 *     .build();                    // throws InvalidSourceException listing every problem
 * producer.send(new ProducerRecord<>(topic, null, tx.timestampOf(record), tx.keyOf(record), record));
 * }</pre>
 *
 * <p>Rules checked by {@link Builder#build()}:
 *
 * <ul>
 *   <li>the name uses only ASCII letters, digits, '.', '_' and '-', does not start or end with '.'
 *       and does not end with {@code .dlq} (it becomes the topic {@code flywheel.data.<name>});
 *   <li>the schema is a record;
 *   <li>the key field is a top-level field of type {@code string} (any logical type, e.g. uuid),
 *       {@code int}, {@code long} or an enum, and not nullable;
 *   <li>the time field is a top-level, non-nullable {@code long}: {@code timestamp-millis},
 *       {@code timestamp-micros}, or a plain {@code long} read as epoch milliseconds.
 * </ul>
 *
 * <p>Immutable and thread-safe. Every accessor is non-null except {@link #bearerToken()}, which is
 * empty when the source is open to any caller.
 */
public final class SourceDefinition {

  private static final String DLQ_SUFFIX = ".dlq";

  private final String name;
  private final Schema schema;
  private final String keyField;
  private final String timeField;
  private final String bearerToken;
  private final long timeDivisor;

  private SourceDefinition(Builder b, long timeDivisor) {
    this.name = b.name;
    this.schema = b.schema;
    this.keyField = b.keyField;
    this.timeField = b.timeField;
    this.bearerToken = b.bearerToken;
    this.timeDivisor = timeDivisor;
  }

  /** A builder for a source called {@code name}. */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  /** The source name, e.g. {@code card-tx}. */
  public String name() {
    return name;
  }

  /** The Avro record schema of the source's events. */
  public Schema schema() {
    return schema;
  }

  /** The top-level field whose value, as a string, keys each record. */
  public String keyField() {
    return keyField;
  }

  /** The top-level field holding each event's time; it becomes the Kafka record timestamp. */
  public String timeField() {
    return timeField;
  }

  /** The bearer token HTTP callers must send, or empty when the source needs none. */
  public Optional<String> bearerToken() {
    return Optional.ofNullable(bearerToken);
  }

  /**
   * The same source with another schema (e.g. the registry's latest version), checked again.
   *
   * @throws InvalidSourceException when the key or time field no longer fits {@code newSchema}
   */
  public SourceDefinition withSchema(Schema newSchema) {
    return toBuilder().schema(newSchema).build();
  }

  /** A builder holding this definition's values. */
  public Builder toBuilder() {
    return new Builder(name).schema(schema).keyField(keyField).timeField(timeField)
        .bearerToken(bearerToken);
  }

  /**
   * The record key of {@code record}: its key field as a string (an enum by its symbol).
   *
   * @throws IllegalArgumentException when the record has no value in the key field
   */
  public String keyOf(GenericRecord record) {
    Object value = record.get(keyField);
    if (value == null) {
      throw new IllegalArgumentException(
          "record of source '" + name + "' has no value in key field '" + keyField + "'");
    }
    return value.toString();
  }

  /**
   * The event time of {@code record} in epoch milliseconds, for the Kafka record timestamp.
   *
   * @throws IllegalArgumentException when the record has no value in the time field, or it is
   *     negative (Kafka does not accept negative timestamps)
   */
  public long timestampOf(GenericRecord record) {
    Object value = record.get(timeField);
    if (!(value instanceof Long raw)) {
      throw new IllegalArgumentException(
          "record of source '" + name + "' has no long value in time field '" + timeField + "'");
    }
    long millis = Math.floorDiv(raw, timeDivisor);
    if (millis < 0) {
      throw new IllegalArgumentException("event time " + raw + " in field '" + timeField
          + "' of source '" + name + "' is before 1970; Kafka record timestamps cannot be negative");
    }
    return millis;
  }

  /**
   * Whether an HTTP {@code Authorization} header value lets its caller write to this source:
   * always when the source has no token, otherwise only {@code Bearer <token>} with the exact
   * token (compared in constant time).
   *
   * @param authorization the header value; null when the request has none
   */
  public boolean authorizes(String authorization) {
    if (bearerToken == null) {
      return true;
    }
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return false;
    }
    byte[] given = authorization.substring(7).trim().getBytes(StandardCharsets.UTF_8);
    return MessageDigest.isEqual(given, bearerToken.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SourceDefinition other && name.equals(other.name)
        && schema.equals(other.schema) && keyField.equals(other.keyField)
        && timeField.equals(other.timeField) && Objects.equals(bearerToken, other.bearerToken);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, schema, keyField, timeField, bearerToken);
  }

  /** Never shows the token. */
  @Override
  public String toString() {
    return "SourceDefinition[" + name + ", schema=" + schema.getFullName() + ", key=" + keyField
        + ", time=" + timeField + (bearerToken == null ? "" : ", token=***") + "]";
  }

  /**
   * Checks a source name: ASCII letters, digits, '.', '_' and '-', not starting or ending with
   * '.', not ending with {@code .dlq}.
   *
   * @return the problem, or empty when the name is fine
   */
  public static Optional<String> checkName(String name) {
    if (name == null || name.isBlank()) {
      return Optional.of("the source name is missing");
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean legal = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '.' || c == '_' || c == '-';
      if (!legal) {
        return Optional.of("source name '" + name + "' contains '" + c + "' at index " + i
            + "; use only ASCII letters, digits, '.', '_' and '-'");
      }
    }
    if (name.startsWith(".") || name.endsWith(".")) {
      return Optional.of("source name '" + name + "' cannot start or end with '.'");
    }
    if (name.endsWith(DLQ_SUFFIX)) {
      return Optional.of("source name '" + name + "' ends with '" + DLQ_SUFFIX
          + "', which is reserved for dead-letter topics");
    }
    return Optional.empty();
  }

  /**
   * Builds a {@link SourceDefinition}. Name, schema, key field and time field are required; the
   * bearer token is optional.
   */
  public static final class Builder {

    private final String name;
    private Schema schema;
    private String keyField;
    private String timeField;
    private String bearerToken;

    private Builder(String name) {
      this.name = name;
    }

    /** The Avro record schema of the source's events; required. */
    public Builder schema(Schema schema) {
      this.schema = schema;
      return this;
    }

    /** The top-level field that keys records; required. */
    public Builder keyField(String keyField) {
      this.keyField = keyField;
      return this;
    }

    /** The top-level field holding the event time; required. */
    public Builder timeField(String timeField) {
      this.timeField = timeField;
      return this;
    }

    /**
     * The token HTTP callers must send as {@code Authorization: Bearer <token>}.
     *
     * @param bearerToken the token; null or blank for a source open to any caller
     */
    public Builder bearerToken(String bearerToken) {
      this.bearerToken = bearerToken == null || bearerToken.isBlank() ? null : bearerToken;
      return this;
    }

    /**
     * Checks every rule of {@link SourceDefinition} and builds the definition.
     *
     * @throws InvalidSourceException listing every problem found, each naming the field and schema
     */
    public SourceDefinition build() {
      List<String> problems = new ArrayList<>();
      checkName(name).ifPresent(problems::add);
      long timeDivisor = 1;
      if (schema == null) {
        problems.add("the schema is missing");
      } else if (schema.getType() != Schema.Type.RECORD) {
        problems.add("schema " + schema.getFullName() + " is a " + schema.getType().getName()
            + "; a source schema must be a record");
      } else {
        checkKey(problems);
        timeDivisor = checkTime(problems);
      }
      if (!problems.isEmpty()) {
        throw new InvalidSourceException(name, problems);
      }
      return new SourceDefinition(this, timeDivisor);
    }

    private void checkKey(List<String> problems) {
      Schema.Field field = field(keyField, "key", problems);
      if (field == null) {
        return;
      }
      Schema type = field.schema();
      if (type.isNullable()) {
        problems.add("key field '" + keyField + "' of schema " + schema.getFullName()
            + " is nullable (" + describe(type) + "); every record needs a key, make it required");
        return;
      }
      switch (type.getType()) {
        case STRING, INT, LONG, ENUM -> { }
        default -> problems.add("key field '" + keyField + "' of schema " + schema.getFullName()
            + " is " + describe(type) + "; a key must be a string, int, long or enum");
      }
    }

    private long checkTime(List<String> problems) {
      Schema.Field field = field(timeField, "time", problems);
      if (field == null) {
        return 1;
      }
      Schema type = field.schema();
      String wrong = "time field '" + timeField + "' of schema " + schema.getFullName() + " is "
          + describe(type) + "; the event time must be a long with logical type"
          + " timestamp-millis or timestamp-micros, or a plain long of epoch milliseconds";
      if (type.isNullable()) {
        problems.add(wrong + ", and not nullable");
        return 1;
      }
      if (type.getType() != Schema.Type.LONG) {
        problems.add(wrong);
        return 1;
      }
      LogicalType logical = type.getLogicalType();
      if (logical == null || logical instanceof LogicalTypes.TimestampMillis) {
        return 1;
      }
      if (logical instanceof LogicalTypes.TimestampMicros) {
        return 1_000;
      }
      problems.add(wrong);
      return 1;
    }

    private Schema.Field field(String fieldName, String role, List<String> problems) {
      if (fieldName == null || fieldName.isBlank()) {
        problems.add("the " + role + " field is missing; name a top-level field of schema "
            + schema.getFullName());
        return null;
      }
      Schema.Field field = schema.getField(fieldName);
      if (field == null) {
        List<String> names = schema.getFields().stream().map(Schema.Field::name).toList();
        problems.add(role + " field '" + fieldName + "' is not a field of schema "
            + schema.getFullName() + " (it has " + names + ")");
      }
      return field;
    }
  }

  static String describe(Schema type) {
    if (type.getType() == Schema.Type.UNION) {
      return type.getTypes().stream().map(SourceDefinition::describe).toList().toString();
    }
    String base = switch (type.getType()) {
      case RECORD, ENUM, FIXED -> type.getType().getName() + " " + type.getFullName();
      default -> type.getType().getName();
    };
    LogicalType logical = type.getLogicalType();
    return logical == null ? base : base + " (" + logical.getName() + ")";
  }
}
