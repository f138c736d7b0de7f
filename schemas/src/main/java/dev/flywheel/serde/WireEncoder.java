package dev.flywheel.serde;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.avro.io.BinaryData;
import org.apache.avro.io.BinaryEncoder;

/**
 * An Avro binary encoder that writes the Confluent wire-format header and then the datum straight
 * into one growing byte array: no intermediate stream, no buffer flush, one copy at the end to the
 * exact-size result. Encodes numbers with Avro's own {@link BinaryData} routines, so its bytes are
 * those of {@link org.apache.avro.io.EncoderFactory#binaryEncoder}.
 *
 * <p>Not thread-safe: one per thread (see {@link #acquire()}), reused across records.
 */
final class WireEncoder extends BinaryEncoder {

  /** Magic byte of the Confluent wire format. */
  static final byte MAGIC_BYTE = 0;
  /** Magic byte and 4-byte schema id. */
  static final int HEADER_SIZE = 5;

  private static final int INITIAL_CAPACITY = 512;
  /** Buffers grown past this by a large record are dropped after it, not kept per thread. */
  private static final int RETAINED_CAPACITY = 1 << 20;

  private static final ThreadLocal<WireEncoder> PER_THREAD = ThreadLocal.withInitial(WireEncoder::new);

  private byte[] buf = new byte[INITIAL_CAPACITY];
  private int pos;
  private boolean inUse;

  /**
   * This thread's encoder, or a fresh one when this thread's is already in use further up the
   * stack; call {@link #release()} when done.
   */
  static WireEncoder acquire() {
    WireEncoder encoder = PER_THREAD.get();
    if (encoder.inUse) {
      encoder = new WireEncoder();
    }
    encoder.inUse = true;
    return encoder;
  }

  /** Makes this encoder available to the next {@link #acquire()} of its thread. */
  void release() {
    inUse = false;
    if (buf.length > RETAINED_CAPACITY) {
      buf = new byte[INITIAL_CAPACITY];
    }
  }

  /** Starts a record: the magic byte and {@code schemaId}, big-endian. */
  void start(int schemaId) {
    byte[] b = buf;
    b[0] = MAGIC_BYTE;
    b[1] = (byte) (schemaId >>> 24);
    b[2] = (byte) (schemaId >>> 16);
    b[3] = (byte) (schemaId >>> 8);
    b[4] = (byte) schemaId;
    pos = HEADER_SIZE;
  }

  /** The bytes written since {@link #start}, header included, as an exact-size copy. */
  byte[] toByteArray() {
    return Arrays.copyOf(buf, pos);
  }

  private void ensure(int more) {
    if (more > buf.length - pos) {
      grow(more);
    }
  }

  private void grow(int more) {
    long needed = (long) pos + more;
    if (needed > Integer.MAX_VALUE - 8) {
      throw new OutOfMemoryError("serialized record exceeds 2 GiB");
    }
    buf = Arrays.copyOf(buf, (int) Math.max(needed, Math.min((long) buf.length * 2,
        Integer.MAX_VALUE - 8)));
  }

  @Override
  public void writeBoolean(boolean b) {
    ensure(1);
    buf[pos++] = (byte) (b ? 1 : 0);
  }

  @Override
  public void writeInt(int n) {
    ensure(5);
    pos += BinaryData.encodeInt(n, buf, pos);
  }

  @Override
  public void writeLong(long n) {
    ensure(10);
    pos += BinaryData.encodeLong(n, buf, pos);
  }

  @Override
  public void writeFloat(float f) {
    ensure(4);
    pos += BinaryData.encodeFloat(f, buf, pos);
  }

  @Override
  public void writeDouble(double d) {
    ensure(8);
    pos += BinaryData.encodeDouble(d, buf, pos);
  }

  @Override
  public void writeFixed(byte[] bytes, int start, int len) {
    ensure(len);
    System.arraycopy(bytes, start, buf, pos, len);
    pos += len;
  }

  /** ASCII strings go straight into the buffer; others through UTF-8 bytes, as Avro does. */
  @Override
  public void writeString(String s) {
    int len = s.length();
    if (len == 0) {
      writeZero();
      return;
    }
    ensure(5 + len);
    byte[] b = buf;
    int p = pos + BinaryData.encodeInt(len, b, pos);
    for (int i = 0; i < len; i++) {
      char c = s.charAt(i);
      if (c >= 0x80) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        writeInt(utf8.length);
        writeFixed(utf8, 0, utf8.length);
        return;
      }
      b[p++] = (byte) c;
    }
    pos = p;
  }

  @Override
  protected void writeZero() {
    ensure(1);
    buf[pos++] = 0;
  }

  /** Nothing is held back: the array is the output. */
  @Override
  public int bytesBuffered() {
    return 0;
  }

  @Override
  public void flush() {
    // the array is the output; nothing to flush
  }
}
