package dev.flywheel.topics;

import java.util.Objects;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A serde factory for catalogue tests: its serdes remember what they were made for (a generated
 * class or generic records, key or value) and refuse to serialize anything.
 */
final class FakeAvroSerdeFactory implements AvroSerdeFactory {

  @Override
  public <T extends SpecificRecord> Serde<T> specific(Class<T> type, boolean isKey) {
    return new FakeSerde<>(Objects.requireNonNull(type, "type"), isKey);
  }

  @Override
  public Serde<GenericRecord> generic(boolean isKey) {
    return new FakeSerde<>(GenericRecord.class, isKey);
  }

  /** What a fake serde was made for. */
  record FakeSerde<T>(Class<?> type, boolean isKey) implements Serde<T> {

    @Override
    public Serializer<T> serializer() {
      return (topic, data) -> {
        throw new UnsupportedOperationException("a fake serde for " + type + " cannot serialize");
      };
    }

    @Override
    public Deserializer<T> deserializer() {
      return (topic, data) -> {
        throw new UnsupportedOperationException(
            "a fake serde for " + type + " cannot deserialize");
      };
    }
  }
}
