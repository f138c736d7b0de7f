package dev.flywheel.topics;

import org.apache.avro.generic.GenericRecord;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;

/**
 * Makes configured Avro serdes (Confluent wire format) for the topic catalogue, so that {@link
 * Topics} never needs to know how the schema registry is reached.
 */
public interface AvroSerdeFactory {

  /** A serde for the generated class {@code type}, configured as a key or a value serde. */
  <T extends SpecificRecord> Serde<T> specific(Class<T> type, boolean isKey);

  /** A serde for generic records, configured as a key or a value serde. */
  Serde<GenericRecord> generic(boolean isKey);
}
