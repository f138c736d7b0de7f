package dev.flywheel.devstack.junit;

import dev.flywheel.topics.Topic;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * What a read_committed reader of a topic sees now, for tests to compare with the truth.
 *
 * <p>Every read assigns all partitions of the topic without a consumer group, seeks to the
 * beginning and reads up to the end offsets the broker reports at the time of the call (for
 * read_committed, the last stable offsets), so records written after the call are not waited for.
 * Records come back in partition then offset order. A read that cannot reach those end offsets
 * within {@link #AT_MOST} throws {@link IllegalStateException} rather than hanging the test.
 */
public final class CommittedValues {

  /** How long one read may take to reach the end offsets before it gives up. */
  public static final Duration AT_MOST = Duration.ofSeconds(30);

  private static final Comparator<ConsumerRecord<?, ?>> PARTITION_THEN_OFFSET =
      Comparator.<ConsumerRecord<?, ?>>comparingInt(ConsumerRecord::partition)
          .thenComparingLong(ConsumerRecord::offset);

  private CommittedValues() {}

  /**
   * Every value on {@code topic} up to its end offsets at the time of the call, read_committed,
   * in partition order, without a consumer group.
   */
  public static <V> List<V> of(String bootstrapServers, Topic<String, V> topic) {
    List<V> values = new ArrayList<>();
    records(bootstrapServers, topic).forEach(r -> values.add(r.value()));
    return values;
  }

  /**
   * Every record on {@code topic} (key, value, headers, partition, offset) up to its end offsets
   * at the time of the call, read_committed, deserialized with the topic's serdes.
   */
  public static <K, V> List<ConsumerRecord<K, V>> records(String bootstrapServers,
      Topic<K, V> topic) {
    return records(bootstrapServers, topic.name(), topic.keySerde().deserializer(),
        topic.valueSerde().deserializer());
  }

  /**
   * Every record on the topic named {@code topic} up to its end offsets at the time of the call,
   * read_committed, deserialized with {@code keys} and {@code values} (for topics outside the
   * catalogue, such as changelogs, or to read a topic with other types than its own).
   */
  public static <K, V> List<ConsumerRecord<K, V>> records(String bootstrapServers, String topic,
      Deserializer<K> keys, Deserializer<V> values) {
    return read(bootstrapServers, "read_committed", topic, keys, values);
  }

  /**
   * Every record on the topic named {@code topic} up to its end offsets at the time of the call,
   * read_committed, as raw bytes (for dead-letter topics, whose records need not deserialize).
   */
  public static List<ConsumerRecord<byte[], byte[]>> bytes(String bootstrapServers,
      String topic) {
    return records(bootstrapServers, topic, new ByteArrayDeserializer(),
        new ByteArrayDeserializer());
  }

  /**
   * Every record on the topic named {@code topic} up to its high watermarks, read_uncommitted: it
   * includes records of aborted and still open transactions, for tests that show such records
   * reached the log although a read_committed reader never sees them.
   */
  public static <K, V> List<ConsumerRecord<K, V>> includingUncommitted(String bootstrapServers,
      String topic, Deserializer<K> keys, Deserializer<V> values) {
    return read(bootstrapServers, "read_uncommitted", topic, keys, values);
  }

  private static <K, V> List<ConsumerRecord<K, V>> read(String bootstrapServers,
      String isolationLevel, String topic, Deserializer<K> keys, Deserializer<V> values) {
    Map<String, Object> props = Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolationLevel,
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    List<ConsumerRecord<K, V>> records = new ArrayList<>();
    try (KafkaConsumer<K, V> consumer = new KafkaConsumer<>(props, keys, values)) {
      List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
          .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      long deadline = System.nanoTime() + AT_MOST.toNanos();
      while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("could not read " + topic + " " + isolationLevel
              + " to its end offsets " + end + " within " + AT_MOST);
        }
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
      }
    }
    records.sort(PARTITION_THEN_OFFSET);
    return records;
  }
}
