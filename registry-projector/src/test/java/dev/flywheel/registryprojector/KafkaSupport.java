package dev.flywheel.registryprojector;

import dev.flywheel.topics.Topic;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Producing to and reading back whole topics in integration tests. */
final class KafkaSupport {

  private KafkaSupport() {}

  /** Sends {@code value} keyed {@code key} and waits for the acknowledgement. */
  static <K, V> void send(String bootstrap, Topic<K, V> topic, K key, V value) {
    try (KafkaProducer<K, V> p = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
        ProducerConfig.ACKS_CONFIG, "all"), topic.keySerde().serializer(),
        topic.valueSerde().serializer())) {
      p.send(new ProducerRecord<>(topic.name(), key, value)).get();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Every committed record of {@code topic} now, in partition then offset order. */
  static <K, V> List<ConsumerRecord<K, V>> readAll(String bootstrap, Topic<K, V> topic) {
    try (KafkaConsumer<K, V> c = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false), topic.keySerde().deserializer(),
        topic.valueSerde().deserializer())) {
      return drain(c, topic.name());
    }
  }

  /** Every committed record of {@code topic} as bytes (for dead-letter topics). */
  static List<ConsumerRecord<byte[], byte[]>> readAllBytes(String bootstrap, String topic) {
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false), new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      return drain(c, topic);
    }
  }

  private static <K, V> List<ConsumerRecord<K, V>> drain(KafkaConsumer<K, V> c, String topic) {
    List<TopicPartition> partitions = new ArrayList<>();
    c.partitionsFor(topic, Duration.ofSeconds(10))
        .forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
    c.assign(partitions);
    c.seekToBeginning(partitions);
    Map<TopicPartition, Long> ends = c.endOffsets(partitions);
    List<ConsumerRecord<K, V>> out = new ArrayList<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (partitions.stream().anyMatch(tp -> c.position(tp) < ends.get(tp))) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("could not read " + topic + " to its end");
      }
      c.poll(Duration.ofMillis(100)).forEach(out::add);
    }
    out.sort((a, b) -> a.partition() != b.partition() ? Integer.compare(a.partition(),
        b.partition()) : Long.compare(a.offset(), b.offset()));
    return out;
  }
}
