package dev.flywheel.featurestreams;

import java.util.function.ToLongFunction;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Binary form of a {@link FeatureEvent} on a group's repartition topic (used when the group's
 * entity is not the field the source topic is keyed by).
 */
final class FeatureEventSerde implements Serde<FeatureEvent> {

  private static final byte FORMAT = 1;
  /**
   * Format 1 with a value a Long (an int or long value a double cannot hold exactly, {@link
   * FeatureEvent#number}), which a release before Longs could not read; only events holding one
   * are written so, every other event stays readable by that release (in a rolling upgrade).
   */
  private static final byte FORMAT_2 = 2;

  @Override
  public Serializer<FeatureEvent> serializer() {
    return (topic, e) -> {
      if (e == null) {
        return null;
      }
      Bytes.Writer out = new Bytes.Writer(128);
      out.writeByte(FORMAT);
      out.writeString(e.entity());
      out.writeString(e.eventId());
      out.writeLong(e.timeMs());
      out.writeInt(e.values().length);
      for (Object v : e.values()) {
        out.writeValue(v);
      }
      out.writeLong(e.filterBits());
      out.writeString(e.topic());
      out.writeInt(e.partition());
      out.writeLong(e.offset());
      out.writeBytes(e.rawKey());
      out.writeBytes(e.rawValue());
      byte[] bytes = out.toByteArray();
      if (out.wroteLong()) {
        bytes[0] = FORMAT_2;
      }
      return bytes;
    };
  }

  /**
   * The bytes {@link #serializer()} writes for {@code e}, each text counted as {@code textBytes}
   * says: its UTF-8 length for the exact size, or three bytes a character for a bound that needs
   * no pass over the text.
   */
  static long size(FeatureEvent e, ToLongFunction<String> textBytes) {
    long bytes = 1 + text(e.entity(), textBytes) + text(e.eventId(), textBytes) + Long.BYTES
        + Integer.BYTES;
    for (Object v : e.values()) {
      bytes += v == null ? 1 : v instanceof String t ? 1 + text(t, textBytes) : 1 + Double.BYTES;
    }
    bytes += Long.BYTES + text(e.topic(), textBytes) + Integer.BYTES + Long.BYTES;
    bytes += Integer.BYTES + (e.rawKey() == null ? 0 : e.rawKey().length);
    bytes += Integer.BYTES + (e.rawValue() == null ? 0 : e.rawValue().length);
    return bytes;
  }

  private static long text(String s, ToLongFunction<String> textBytes) {
    return Integer.BYTES + (s == null ? 0 : textBytes.applyAsLong(s));
  }

  @Override
  public Deserializer<FeatureEvent> deserializer() {
    return (topic, bytes) -> {
      if (bytes == null) {
        return null;
      }
      Bytes.Reader in = new Bytes.Reader(bytes);
      byte format = in.readByte();
      if (format != FORMAT && format != FORMAT_2) {
        throw new IllegalStateException("unknown feature event format " + format);
      }
      String entity = in.readString();
      String eventId = in.readString();
      long time = in.readLong();
      Object[] values = new Object[in.readInt()];
      for (int i = 0; i < values.length; i++) {
        values[i] = in.readValue();
      }
      long bits = in.readLong();
      String sourceTopic = in.readString();
      int partition = in.readInt();
      long offset = in.readLong();
      byte[] key = in.readBytes();
      byte[] value = in.readBytes();
      return new FeatureEvent(entity, eventId, time, values, bits, sourceTopic, partition, offset,
          key, value);
    };
  }
}
