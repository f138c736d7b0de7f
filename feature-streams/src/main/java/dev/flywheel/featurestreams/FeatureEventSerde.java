package dev.flywheel.featurestreams;

import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Binary form of a {@link FeatureEvent} on a group's repartition topic (used when the group's
 * entity is not the field the source topic is keyed by).
 */
final class FeatureEventSerde implements Serde<FeatureEvent> {

  private static final byte FORMAT = 1;

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
      return out.toByteArray();
    };
  }

  @Override
  public Deserializer<FeatureEvent> deserializer() {
    return (topic, bytes) -> {
      if (bytes == null) {
        return null;
      }
      Bytes.Reader in = new Bytes.Reader(bytes);
      byte format = in.readByte();
      if (format != FORMAT) {
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
