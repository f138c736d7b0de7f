package dev.flywheel.featurestreams;

import org.apache.avro.generic.GenericRecord;

/**
 * A source record read from its topic: the Avro value, its original bytes and where it was read.
 */
record Decoded(GenericRecord record, byte[] rawKey, byte[] rawValue, String topic, int partition,
    long offset, long timestamp) {}
