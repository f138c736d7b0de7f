package dev.flywheel.featurestreams;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The engine's binary encodings: a growable big-endian writer and a reader over a byte array,
 * with tagged values and length-prefixed text. Plain array and {@link ByteBuffer} access, no
 * streams: the state of an entity is encoded and decoded on every event.
 */
final class Bytes {

  private static final byte NULL = 0;
  private static final byte DOUBLE = 1;
  private static final byte STRING = 2;
  /** A Long: an int or long value a double cannot hold exactly ({@link FeatureEvent#number}). */
  private static final byte LONG = 3;

  private Bytes() {}

  /** Appends to a growing array. */
  static final class Writer {
    private byte[] buf;
    private ByteBuffer bb;
    private boolean wroteLong;

    Writer(int capacity) {
      buf = new byte[Math.max(16, capacity)];
      bb = ByteBuffer.wrap(buf);
    }

    private void ensure(int more) {
      if (bb.remaining() < more) {
        int pos = bb.position();
        buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + more));
        bb = ByteBuffer.wrap(buf);
        bb.position(pos);
      }
    }

    void writeByte(int b) {
      ensure(1);
      bb.put((byte) b);
    }

    void writeInt(int v) {
      ensure(4);
      bb.putInt(v);
    }

    void writeLong(long v) {
      ensure(8);
      bb.putLong(v);
    }

    void writeDouble(double v) {
      ensure(8);
      bb.putDouble(v);
    }

    void writeBytes(byte[] b) {
      if (b == null) {
        writeInt(-1);
        return;
      }
      writeInt(b.length);
      ensure(b.length);
      bb.put(b);
    }

    void writeString(String s) {
      writeBytes(s == null ? null : s.getBytes(StandardCharsets.UTF_8));
    }

    /** A field value: null, a Double, a Long or a String. */
    void writeValue(Object v) {
      if (v == null) {
        writeByte(NULL);
      } else if (v instanceof Double d) {
        writeByte(DOUBLE);
        writeDouble(d);
      } else if (v instanceof Long l) {
        writeByte(LONG);
        writeLong(l);
        wroteLong = true;
      } else {
        writeByte(STRING);
        writeString(v.toString());
      }
    }

    /** An unsigned LEB128 varint: 1 byte below 128, at most 10. */
    void writeVarLong(long v) {
      ensure(10);
      while ((v & ~0x7FL) != 0) {
        bb.put((byte) ((v & 0x7F) | 0x80));
        v >>>= 7;
      }
      bb.put((byte) v);
    }

    /** A zig-zag varint: small negative numbers stay small. */
    void writeZigZag(long v) {
      writeVarLong((v << 1) ^ (v >> 63));
    }

    /**
     * Whether a Long value was written: a reader of a release before Longs cannot read it, so
     * formats that may hold one say so (their readers then treat the bytes as foreign).
     */
    boolean wroteLong() {
      return wroteLong;
    }

    byte[] toByteArray() {
      return Arrays.copyOf(buf, bb.position());
    }
  }

  /** Reads what a {@link Writer} wrote. */
  static final class Reader {
    private final ByteBuffer bb;

    Reader(byte[] bytes) {
      bb = ByteBuffer.wrap(bytes);
    }

    byte readByte() {
      return bb.get();
    }

    int readInt() {
      return bb.getInt();
    }

    long readLong() {
      return bb.getLong();
    }

    double readDouble() {
      return bb.getDouble();
    }

    long readVarLong() {
      long v = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        byte b = bb.get();
        v |= (long) (b & 0x7F) << shift;
        if ((b & 0x80) == 0) {
          return v;
        }
      }
      throw new IllegalStateException("malformed varint");
    }

    long readZigZag() {
      long v = readVarLong();
      return (v >>> 1) ^ -(v & 1);
    }

    byte[] readBytes() {
      int n = bb.getInt();
      if (n < 0) {
        return null;
      }
      if (n > bb.remaining()) {
        throw new BufferUnderflowException();
      }
      byte[] b = new byte[n];
      bb.get(b);
      return b;
    }

    String readString() {
      int n = bb.getInt();
      if (n < 0) {
        return null;
      }
      if (n > bb.remaining()) {
        throw new BufferUnderflowException();
      }
      String s = new String(bb.array(), bb.position(), n, StandardCharsets.UTF_8);
      bb.position(bb.position() + n);
      return s;
    }

    Object readValue() {
      byte tag = bb.get();
      return switch (tag) {
        case NULL -> null;
        case DOUBLE -> bb.getDouble();
        case STRING -> readString();
        case LONG -> bb.getLong();
        default -> throw new IllegalStateException("unknown value tag " + tag);
      };
    }
  }
}
