package dev.flywheel.registryprojector;

import dev.flywheel.devstack.junit.CommittedValues;
import dev.flywheel.topics.Topic;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;

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
    return CommittedValues.records(bootstrap, topic);
  }

  /** Every committed record of {@code topic} as bytes (for dead-letter topics). */
  static List<ConsumerRecord<byte[], byte[]>> readAllBytes(String bootstrap, String topic) {
    return CommittedValues.bytes(bootstrap, topic);
  }
}
