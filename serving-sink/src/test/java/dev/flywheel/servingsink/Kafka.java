package dev.flywheel.servingsink;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.CommittedValues;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.events.FeatureVector;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topic;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Producing and reading back the topics the integration tests check. */
final class Kafka {

  private Kafka() {}

  /** The catalogue on the devstack's registry, prefixed for the test, its topics created. */
  static dev.flywheel.topics.Topics topics(Devstack devstack, UniqueNames names) {
    AvroSerdes serdes = AvroSerdes.fromConfig(
        Map.of("schema.registry.url", devstack.schemaRegistryUrl()));
    dev.flywheel.topics.Topics topics = dev.flywheel.topics.Topics.builder(serdes)
        .prefix(names.prefix()).build();
    createTopics(devstack, topics);
    return topics;
  }

  /** Creates every topic of the catalogue (the broker creates none by itself). */
  static void createTopics(Devstack devstack, dev.flywheel.topics.Topics topics) {
    try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
        Map.of("bootstrap.servers", devstack.bootstrapServers()))) {
      List<Topic<?, ?>> all = new ArrayList<>(topics.all());
      all.add(topics.dlq(topics.features()));
      new dev.flywheel.topics.TopicBootstrap(admin).ensure(all);
    }
  }

  static <V> KafkaProducer<String, V> producer(Devstack devstack, Topic<String, V> topic) {
    return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
        devstack.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all",
        // one in flight: no batch overtakes a retried first one (KAFKA-15591)
        ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1,
        ProducerConfig.LINGER_MS_CONFIG, 2), topic.keySerde().serializer(),
        topic.valueSerde().serializer());
  }

  static <V> void send(Devstack devstack, Topic<String, V> topic, String key, V value) {
    try (KafkaProducer<String, V> p = producer(devstack, topic)) {
      p.send(new ProducerRecord<>(topic.name(), key, value)).get();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A feature vector of {@link TestModels#GROUP}, deterministic in {@code i}. */
  static FeatureVector vector(int i) {
    Map<String, Double> f = new LinkedHashMap<>();
    f.put("velocity", (i % 11) / 5.0 - 1);
    f.put("amount", (i % 17) / 4.0 - 2);
    f.put("mean_7d", (double) (i % 5));
    f.put("count_10m", (i % 3) == 0 ? null : (double) (i % 7));
    Instant t = Instant.ofEpochMilli(1_795_000_000_000L + i * 1000L);
    return FeatureVector.newBuilder().setEventId("e-" + i).setEventTime(t)
        .setEntityId("card-" + (i % 40)).setFeatureGroup(TestModels.GROUP).setFeatures(f)
        .setAsOf(t).build();
  }

  /** Every value a read_committed reader sees on the topic now. */
  static <V> List<V> readAll(Devstack devstack, Topic<String, V> topic) {
    return CommittedValues.of(devstack.bootstrapServers(), topic);
  }

  /** The broker's state of the transaction of {@code transactionalId}. */
  static TransactionState transactionState(Admin admin, String transactionalId)
      throws Exception {
    return admin.describeTransactions(List.of(transactionalId)).description(transactionalId)
        .get().state();
  }
}
