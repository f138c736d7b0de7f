package dev.flywheel.featurestreams;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
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
      ByteArrayOutputStream buffer = new ByteArrayOutputStream(128);
      try (DataOutputStream out = Bytes.output(buffer)) {
        out.writeByte(FORMAT);
        Bytes.writeString(out, e.entity());
        Bytes.writeString(out, e.eventId());
        out.writeLong(e.timeMs());
        out.writeInt(e.values().length);
        for (Object v : e.values()) {
          Bytes.writeValue(out, v);
        }
        out.writeLong(e.filterBits());
        Bytes.writeString(out, e.topic());
        out.writeInt(e.partition());
        out.writeLong(e.offset());
        Bytes.writeBytes(out, e.rawKey());
        Bytes.writeBytes(out, e.rawValue());
      } catch (IOException ex) {
        throw Bytes.unchecked(ex);
      }
      return buffer.toByteArray();
    };
  }

  @Override
  public Deserializer<FeatureEvent> deserializer() {
    return (topic, bytes) -> {
      if (bytes == null) {
        return null;
      }
      try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
        byte format = in.readByte();
        if (format != FORMAT) {
          throw new IOException("unknown feature event format " + format);
        }
        String entity = Bytes.readString(in);
        String eventId = Bytes.readString(in);
        long time = in.readLong();
        Object[] values = new Object[in.readInt()];
        for (int i = 0; i < values.length; i++) {
          values[i] = Bytes.readValue(in);
        }
        long bits = in.readLong();
        String sourceTopic = Bytes.readString(in);
        int partition = in.readInt();
        long offset = in.readLong();
        byte[] key = Bytes.readBytes(in);
        byte[] value = Bytes.readBytes(in);
        return new FeatureEvent(entity, eventId, time, values, bits, sourceTopic, partition,
            offset, key, value);
      } catch (IOException ex) {
        throw Bytes.unchecked(ex);
      }
    };
  }
}
