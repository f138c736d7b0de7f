package dev.flywheel.serde;

import java.nio.ByteBuffer;
import org.apache.avro.Schema;

/**
 * The Avro schemas of plain Java values, as Confluent's serializer maps them: {@code null},
 * strings, int, long, float, double, boolean and bytes ({@code byte[]} or {@link ByteBuffer}). One
 * instance per type, so the serializer's identity cache hits.
 */
final class Primitives {

  static final Schema STRING = Schema.create(Schema.Type.STRING);
  static final Schema INT = Schema.create(Schema.Type.INT);
  static final Schema LONG = Schema.create(Schema.Type.LONG);
  static final Schema FLOAT = Schema.create(Schema.Type.FLOAT);
  static final Schema DOUBLE = Schema.create(Schema.Type.DOUBLE);
  static final Schema BOOLEAN = Schema.create(Schema.Type.BOOLEAN);
  static final Schema BYTES = Schema.create(Schema.Type.BYTES);

  private Primitives() {}

  /** The schema of a primitive datum; null when {@code datum} is not one. */
  static Schema schemaOf(Object datum) {
    if (datum instanceof CharSequence) {
      return STRING;
    } else if (datum instanceof Integer) {
      return INT;
    } else if (datum instanceof Long) {
      return LONG;
    } else if (datum instanceof Double) {
      return DOUBLE;
    } else if (datum instanceof Float) {
      return FLOAT;
    } else if (datum instanceof Boolean) {
      return BOOLEAN;
    } else if (datum instanceof byte[] || datum instanceof ByteBuffer) {
      return BYTES;
    }
    return null;
  }

  /** True for the schemas of {@link #schemaOf}: not named, not a container. */
  static boolean isPrimitive(Schema schema) {
    switch (schema.getType()) {
      case STRING, INT, LONG, FLOAT, DOUBLE, BOOLEAN, BYTES, NULL:
        return true;
      default:
        return false;
    }
  }
}
