package dev.flywheel.platform.cli;

import dev.flywheel.registry.SchemaRegistryException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads topics from their first record to their end (as of the scan's start), committed records
 * only, to find the events that match; records that do not decode are skipped. Used by {@code
 * flywheel lineage}, which follows links through topics that are not keyed by what it looks for.
 *
 * <p>A record is skipped only when it is at fault: when the schema registry does not answer (or
 * refuses the client), {@link #scan} throws, since skipping every record would report events as
 * missing that are there. A schema id the registry does not know is asked for once per scanner.
 */
final class LogScanner implements AutoCloseable {

  private static final Duration POLL = Duration.ofMillis(200);

  /** An event and where it is in the log. */
  record Found<T>(T value, String topic, int partition, long offset, String key) {
    String position() {
      return topic + "-" + partition + "@" + offset;
    }
  }

  private final KafkaConsumer<byte[], byte[]> consumer;
  /** Schema ids whose schema the registry could not give: their records are skipped unasked. */
  private final Set<Integer> failedSchemaIds = new HashSet<>();

  LogScanner(Map<String, Object> consumerProps) {
    this.consumer = new KafkaConsumer<>(consumerProps, new ByteArrayDeserializer(),
        new ByteArrayDeserializer());
  }

  /**
   * Every record of {@code topic} with key {@code key} (any key when null) whose value decodes and
   * matches, in partition then offset order.
   *
   * @throws RuntimeException the deserializer's, when {@link
   *     SchemaRegistryException#isRetriableCause} says the registry, not the record, is at fault
   */
  <T> List<Found<T>> scan(String topic, String key, Deserializer<T> values, Predicate<T> matches) {
    List<TopicPartition> partitions = new ArrayList<>();
    List<PartitionInfo> infos = consumer.partitionsFor(topic);
    if (infos == null) {
      return List.of();
    }
    infos.forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
    Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
    List<Found<T>> found = new ArrayList<>();
    byte[] keyBytes = key == null ? null : key.getBytes(StandardCharsets.UTF_8);
    while (!reachedEnd(ends)) {
      for (ConsumerRecord<byte[], byte[]> record : consumer.poll(POLL)) {
        if (record.offset() >= ends.get(new TopicPartition(record.topic(), record.partition()))
            || record.value() == null
            || (keyBytes != null && !java.util.Arrays.equals(keyBytes, record.key()))) {
          continue;
        }
        int schemaId = schemaId(record.value());
        if (failedSchemaIds.contains(schemaId)) {
          continue;
        }
        T value;
        try {
          value = values.deserialize(record.topic(), record.headers(), record.value());
        } catch (RuntimeException e) {
          if (SchemaRegistryException.isRetriableCause(e)) {
            throw e; // the registry is down or refuses us: every record would be skipped
          }
          if (schemaId >= 0 && registryFailure(e)) {
            failedSchemaIds.add(schemaId); // e.g. an id the registry does not know
          }
          continue; // not an event of this topic's type; lineage only follows what decodes
        }
        if (value != null && matches.test(value)) {
          found.add(new Found<>(value, record.topic(), record.partition(), record.offset(),
              record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8)));
        }
      }
    }
    found.sort((a, b) -> a.partition() != b.partition()
        ? Integer.compare(a.partition(), b.partition()) : Long.compare(a.offset(), b.offset()));
    return found;
  }

  /** The record at exactly {@code topic}-{@code partition}@{@code offset}, if it is still there. */
  Optional<ConsumerRecord<byte[], byte[]>> readAt(String topic, int partition, long offset) {
    TopicPartition tp = new TopicPartition(topic, partition);
    if (consumer.partitionsFor(topic) == null) {
      return Optional.empty();
    }
    consumer.assign(List.of(tp));
    long end = consumer.endOffsets(List.of(tp)).get(tp);
    long start = consumer.beginningOffsets(List.of(tp)).get(tp);
    if (offset < start || offset >= end) {
      return Optional.empty();
    }
    consumer.seek(tp, offset);
    while (consumer.position(tp) < end) {
      for (ConsumerRecord<byte[], byte[]> record : consumer.poll(POLL)) {
        if (record.offset() == offset) {
          return Optional.of(record);
        }
        if (record.offset() > offset) {
          return Optional.empty(); // the offset held a transaction marker or an aborted record
        }
      }
    }
    return Optional.empty();
  }

  /** The schema id of Confluent-framed bytes, or -1. */
  private static int schemaId(byte[] bytes) {
    return bytes.length >= 5 && bytes[0] == 0 ? ByteBuffer.wrap(bytes, 1, 4).getInt() : -1;
  }

  private static boolean registryFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof SchemaRegistryException) {
        return true;
      }
    }
    return false;
  }

  private boolean reachedEnd(Map<TopicPartition, Long> ends) {
    for (Map.Entry<TopicPartition, Long> e : ends.entrySet()) {
      if (consumer.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  @Override
  public void close() {
    consumer.close(Duration.ofSeconds(5));
  }
}
