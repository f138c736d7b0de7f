package dev.flywheel.trainingtrigger.coordination;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/** JSON serde for the coordinator's internal state. */
public final class JsonSerde {

  private static final ObjectMapper JSON = new ObjectMapper()
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private JsonSerde() {}

  /** A serde of {@code type} as JSON. */
  public static <T> Serde<T> of(Class<T> type) {
    Serializer<T> ser = (topic, value) -> {
      if (value == null) {
        return null;
      }
      try {
        return JSON.writeValueAsBytes(value);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    };
    Deserializer<T> de = (topic, bytes) -> {
      if (bytes == null) {
        return null;
      }
      try {
        return JSON.readValue(bytes, type);
      } catch (IOException e) {
        throw new SerializationException("cannot read " + type.getSimpleName() + " from " + topic
            + ": " + e.getMessage(), e);
      }
    };
    return Serdes.serdeFrom(ser, de);
  }
}
