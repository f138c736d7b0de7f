package dev.flywheel.serde;

import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.apache.avro.Conversion;
import org.apache.avro.Conversions;
import org.apache.avro.LogicalType;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericFixed;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.avro.util.Utf8;

/**
 * The length of a datum in Avro's binary encoding, computed by walking it with its schema instead
 * of encoding it: no buffer, no UTF-8 conversion, no allocation beyond logical-type conversions.
 * For a check that runs on every record against a size limit (a state kept per key that grows with
 * its input must stay within what a Kafka record may take), at a fraction of an encoding's cost.
 * {@link #ofWireFormat} adds the Confluent wire format's 5-byte header.
 */
public final class AvroSize {

  private AvroSize() {}

  /** The binary length of a generated record, with its class's logical-type conversions. */
  public static long of(SpecificRecordBase record) {
    return of(record, record.getSchema(), record.getSpecificData());
  }

  /** A generated record's length in the Confluent wire format: binary length and header. */
  public static long ofWireFormat(SpecificRecordBase record) {
    return of(record) + WireEncoder.HEADER_SIZE;
  }

  /**
   * The binary length of {@code datum} written with {@code schema}.
   *
   * @param data the model whose logical-type conversions the datum uses (a generated class's
   *     {@code getSpecificData()}, or {@link GenericData#get()} for generic data)
   */
  public static long of(Object datum, Schema schema, GenericData data) {
    LogicalType logical = schema.getLogicalType();
    if (logical != null && datum != null) {
      Conversion<?> conversion = data.getConversionByClass(datum.getClass(), logical);
      if (conversion != null) {
        datum = convert(datum, schema, logical, conversion);
      }
    }
    return switch (schema.getType()) {
      case NULL -> 0;
      case BOOLEAN -> 1;
      case INT -> varLongLength(((Number) datum).intValue());
      case LONG -> varLongLength(((Number) datum).longValue());
      case FLOAT -> Float.BYTES;
      case DOUBLE -> Double.BYTES;
      case STRING -> text(datum);
      case BYTES -> {
        int n = ((ByteBuffer) datum).remaining();
        yield varLongLength(n) + n;
      }
      case FIXED -> schema.getFixedSize();
      case ENUM -> varLongLength(schema.getEnumOrdinal(datum.toString()));
      case UNION -> {
        int branch = nullableBranch(schema, datum);
        if (branch < 0) {
          branch = data.resolveUnion(schema, datum);
        }
        yield varLongLength(branch) + of(datum, schema.getTypes().get(branch), data);
      }
      case ARRAY -> {
        Collection<?> items = (Collection<?>) datum;
        long bytes = block(items.size());
        for (Object item : items) {
          bytes += of(item, schema.getElementType(), data);
        }
        yield bytes;
      }
      case MAP -> {
        Map<?, ?> entries = (Map<?, ?>) datum;
        long bytes = block(entries.size());
        for (Map.Entry<?, ?> e : entries.entrySet()) {
          bytes += text(e.getKey()) + of(e.getValue(), schema.getValueType(), data);
        }
        yield bytes;
      }
      case RECORD -> {
        long bytes = 0;
        for (Schema.Field f : schema.getFields()) {
          Object value = datum instanceof IndexedRecord r ? r.get(f.pos())
              : data.getField(datum, f.name(), f.pos());
          bytes += of(value, f.schema(), data);
        }
        yield bytes;
      }
    };
  }

  /**
   * The branch of a two-branch union with null ({@code ["null", T]} or {@code [T, "null"]}) that
   * {@code datum} takes, without the name lookups of {@link GenericData#resolveUnion}; -1 for any
   * other union.
   */
  private static int nullableBranch(Schema union, Object datum) {
    List<Schema> types = union.getTypes();
    if (types.size() != 2) {
      return -1;
    }
    int nullAt = types.get(0).getType() == Schema.Type.NULL ? 0
        : types.get(1).getType() == Schema.Type.NULL ? 1 : -1;
    if (nullAt < 0) {
      return -1;
    }
    return datum == null ? nullAt : 1 - nullAt;
  }

  @SuppressWarnings("unchecked")
  private static <T> Object convert(Object datum, Schema schema, LogicalType logical,
      Conversion<T> conversion) {
    return Conversions.convertToRawType((T) datum, schema, logical, conversion);
  }

  /** An array's or map's block header (count, when not empty) and its terminating 0. */
  private static long block(int count) {
    return (count > 0 ? varLongLength(count) : 0) + 1;
  }

  /** A string: its UTF-8 length as a varint, then its UTF-8 bytes. */
  private static long text(Object s) {
    int n;
    if (s instanceof Utf8 utf8) {
      n = utf8.getByteLength();
    } else if (s instanceof GenericFixed fixed) {
      n = fixed.bytes().length;
    } else {
      n = utf8Length(s.toString());
    }
    return varLongLength(n) + n;
  }

  /** The length of {@code text} in UTF-8, without encoding it. */
  public static int utf8Length(CharSequence text) {
    int bytes = 0;
    int length = text.length();
    for (int i = 0; i < length; i++) {
      char c = text.charAt(i);
      if (c < 0x80) {
        bytes++;
      } else if (c < 0x800) {
        bytes += 2;
      } else if (Character.isHighSurrogate(c) && i + 1 < length
          && Character.isLowSurrogate(text.charAt(i + 1))) {
        bytes += 4;
        i++;
      } else {
        bytes += 3;
      }
    }
    return bytes;
  }

  /** The length of {@code n} as Avro writes an int or a long: zig-zag, 7 bits a byte. */
  static int varLongLength(long n) {
    long z = (n << 1) ^ (n >> 63);
    int bytes = 1;
    while ((z & ~0x7FL) != 0) {
      z >>>= 7;
      bytes++;
    }
    return bytes;
  }
}
