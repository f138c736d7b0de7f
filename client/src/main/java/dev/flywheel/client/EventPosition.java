package dev.flywheel.client;

/**
 * Where an event was read from.
 *
 * @param topic full topic name, prefix included
 * @param partition partition number
 * @param offset offset in that partition
 * @param key the record key (entity id, event id or model name, as the topic says); may be null
 */
public record EventPosition(String topic, int partition, long offset, String key) {}
