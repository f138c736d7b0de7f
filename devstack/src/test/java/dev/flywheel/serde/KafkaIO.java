package dev.flywheel.serde;

import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.registry.SchemaRegistryClient;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Producing to and reading back from the shared devstack broker, for the serde ITs. */
final class KafkaIO {

  private KafkaIO() {}

  /** A new registry client for the devstack registry: no cache shared with any other test code. */
  static SchemaRegistryClient freshClient(Devstack devstack) {
    return SchemaRegistryClient.builder().url(devstack.schemaRegistryUrl()).build();
  }

  /**
   * The topic catalogue under {@code prefix}, one partition per topic (so records keep their
   * order), with every catalogued topic plus {@code flywheel.data.transactions} created.
   */
  static Topics bootstrap(Devstack devstack, String prefix) {
    Topics topics = catalogue(devstack, prefix);
    List<Topic<?, ?>> wanted = new ArrayList<>(topics.all());
    wanted.add(topics.data("transactions"));
    create(devstack, wanted.toArray(Topic<?, ?>[]::new));
    return topics;
  }

  /** A one-partition catalogue under {@code prefix}, with no topic created yet. */
  static Topics catalogue(Devstack devstack, String prefix) {
    return Topics.builder(new AvroSerdes(freshClient(devstack), Map.of()))
        .prefix(prefix).partitions(1).build();
  }

  /** Creates {@code wanted} on the devstack broker. */
  static void create(Devstack devstack, Topic<?, ?>... wanted) {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
        devstack.bootstrapServers()))) {
      TopicBootstrap.Result result = new TopicBootstrap(admin).ensure(List.of(wanted));
      if (!result.consistent()) {
        throw new IllegalStateException("topic bootstrap: " + result.describe());
      }
    }
  }

  /** Sends {@code values} in order, keyed by their index, and waits until each is acknowledged. */
  static <V> void produce(Devstack devstack, String topic, Serializer<V> valueSerializer,
      List<? extends V> values) {
    try (KafkaProducer<String, V> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, devstack.bootstrapServers(),
        ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), valueSerializer)) {
      for (int i = 0; i < values.size(); i++) {
        producer.send(new ProducerRecord<>(topic, "k" + i, values.get(i))).get(30, TimeUnit.SECONDS);
      }
    } catch (Exception e) {
      throw new IllegalStateException("producing to " + topic + " failed", e);
    }
  }

  /** Reads {@code topic} from the beginning until {@code count} records arrived, in order. */
  static <V> List<ConsumerRecord<String, V>> consume(Devstack devstack, String topic,
      Deserializer<V> valueDeserializer, int count) {
    List<ConsumerRecord<String, V>> out = new ArrayList<>();
    try (KafkaConsumer<String, V> consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, devstack.bootstrapServers(),
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"),
        new StringDeserializer(), valueDeserializer)) {
      List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30))
          .stream().map(p -> new TopicPartition(topic, p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      await().atMost(Duration.ofSeconds(30)).until(() -> {
        consumer.poll(Duration.ofMillis(200)).forEach(out::add);
        return out.size() >= count;
      });
    }
    return out;
  }
}
