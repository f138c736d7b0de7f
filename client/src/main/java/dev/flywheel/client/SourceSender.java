package dev.flywheel.client;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;

/**
 * Sends records of one ingest source to {@code flywheel.data.<source>}, keyed by the source's key
 * field and written with the source's registered schema (the latest version when the sender was
 * made). Obtained from {@link FlywheelClient#source(String)}; thread-safe.
 */
public final class SourceSender {

  /** Schema property naming a source's key field, as {@code flywheel sources add} writes it. */
  public static final String KEY_PROPERTY = "flywheel.source.key";

  private final FlywheelClient client;
  private final String source;
  private final String topic;
  private final Schema schema;
  private final String keyField;

  SourceSender(FlywheelClient client, String source, String topic, Schema schema) {
    this.client = client;
    this.source = source;
    this.topic = topic;
    this.schema = schema;
    this.keyField = schema.getProp(KEY_PROPERTY);
  }

  /** The full topic name records go to. */
  public String topic() {
    return topic;
  }

  /** The source's registered schema records are written with. */
  public Schema schema() {
    return schema;
  }

  /**
   * Sends one record, keyed by its key field.
   *
   * @return completes with the record's position once the broker acknowledged it
   * @throws FlywheelClientException when the record's key field is missing or the record does not
   *     fit the registered schema
   */
  public CompletableFuture<EventPosition> send(GenericRecord record) {
    Objects.requireNonNull(record, "record");
    if (keyField == null) {
      throw new FlywheelClientException("source '" + source + "' has no key field in its"
          + " registered schema (property " + KEY_PROPERTY + "); add it with flywheel sources add "
          + source + " --key <field>, or send with an explicit key: send(key, record)");
    }
    if (record.getSchema().getField(keyField) == null || record.get(keyField) == null) {
      throw new FlywheelClientException("the record of source '" + source + "' has no value for"
          + " its key field '" + keyField + "'");
    }
    return send(String.valueOf(record.get(keyField)), record);
  }

  /**
   * Sends one record with an explicit key (the entity id).
   *
   * @return completes with the record's position once the broker acknowledged it
   */
  public CompletableFuture<EventPosition> send(String key, GenericRecord record) {
    Objects.requireNonNull(record, "record");
    return client.sendSource(topic, key, record);
  }

  /**
   * Converts a JSON object to a record of the registered schema and sends it: union values plain,
   * timestamps as epoch millis or ISO-8601 instants, missing fields taking their defaults.
   *
   * @throws FlywheelClientException naming the field when the JSON does not fit the schema
   */
  public CompletableFuture<EventPosition> sendJson(String json) {
    Objects.requireNonNull(json, "json");
    GenericRecord record;
    try {
      record = JsonRecords.parse(json, schema);
    } catch (IllegalArgumentException e) {
      throw new FlywheelClientException("source '" + source + "': " + e.getMessage(), e);
    }
    return send(record);
  }
}
