package dev.flywheel.devstack.junit;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Counts the records written to a topic since its beginning, committed or not ({@code
 * read_uncommitted}), to see how far a processor under test has come: kill tests wait on it so
 * that the kill lands mid-stream. Records of aborted transactions count too, so the count can
 * exceed what a {@code read_committed} reader sees ({@link CommittedValues}).
 *
 * <pre>{@code
 * try (WrittenRecords written = new WrittenRecords(bootstrap, "flywheel.features")) {
 *   await().until(() -> written.count() >= 1000);
 * }
 * }</pre>
 */
public final class WrittenRecords implements AutoCloseable {

  private final KafkaConsumer<byte[], byte[]> consumer;
  private long seen;

  /** Starts counting {@code topic}, which must exist, from its beginning. */
  public WrittenRecords(String bootstrapServers, String topic) {
    consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted",
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
        new ByteArrayDeserializer(), new ByteArrayDeserializer());
    List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
        .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
  }

  /** The records counted so far, after polling up to 50 ms for more. */
  public synchronized long count() {
    seen += consumer.poll(Duration.ofMillis(50)).count();
    return seen;
  }

  @Override
  public synchronized void close() {
    consumer.close();
  }
}
