package dev.flywheel.devstack;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedKafkaIT {

  @TempDir Path dataDir;

  @Test
  void shouldKeepTopicsAndRecordsWhenRestartedOnTheSameLogDirectory() throws Exception {
    // Given a broker on a kept log directory with a topic holding three records
    try (EmbeddedKafka kafka = EmbeddedKafka.builder().logDir(dataDir).build()) {
      kafka.start();
      createTopic(kafka.bootstrapServers(), "orders");
      produce(kafka.bootstrapServers(), "orders", List.of("a", "b", "c"));

      // When the broker stops and starts again on the same directory
      kafka.stop();
      assertThat(kafka.isRunning()).isFalse();
      kafka.start();

      // Then the topic and its records are still there
      try (Admin admin = admin(kafka.bootstrapServers())) {
        assertThat(admin.listTopics().names().get()).contains("orders");
      }
      assertThat(consumeAll(kafka.bootstrapServers(), "orders", 3)).containsExactly("a", "b", "c");
    }
    assertThat(dataDir).exists();
  }

  @Test
  void shouldDeleteItsTemporaryLogDirectoryOnClose() {
    // Given a broker on a temporary directory
    EmbeddedKafka kafka = EmbeddedKafka.builder().build();
    kafka.start();
    Path logDir = kafka.logDir();
    assertThat(Files.isDirectory(logDir)).isTrue();

    // When it is closed, twice
    kafka.close();
    kafka.close();

    // Then the directory is gone and the broker is not running
    assertThat(logDir).doesNotExist();
    assertThat(kafka.isRunning()).isFalse();
  }

  @Test
  void shouldServeTransactionalProducers() throws Exception {
    // Given a running broker with a topic
    try (EmbeddedKafka kafka = EmbeddedKafka.builder().build()) {
      kafka.start();
      createTopic(kafka.bootstrapServers(), "tx");

      // When a transactional producer commits two records and aborts one
      Map<String, Object> config = producerConfig(kafka.bootstrapServers());
      config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "it-tx");
      try (KafkaProducer<String, String> producer = new KafkaProducer<>(config)) {
        producer.initTransactions();
        producer.beginTransaction();
        producer.send(new ProducerRecord<>("tx", "k", "committed-1"));
        producer.send(new ProducerRecord<>("tx", "k", "committed-2"));
        producer.commitTransaction();
        producer.beginTransaction();
        producer.send(new ProducerRecord<>("tx", "k", "aborted"));
        producer.flush();
        producer.abortTransaction();
        producer.beginTransaction();
        producer.send(new ProducerRecord<>("tx", "k", "committed-3"));
        producer.commitTransaction();
      }

      // Then a read_committed consumer sees only the committed records
      assertThat(consumeAll(kafka.bootstrapServers(), "tx", 3))
          .containsExactly("committed-1", "committed-2", "committed-3");
    }
  }

  static Admin admin(String bootstrap) {
    return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
  }

  static void createTopic(String bootstrap, String topic) throws Exception {
    try (Admin admin = admin(bootstrap)) {
      admin.createTopics(Set.of(new NewTopic(topic, 1, (short) 1))).all().get();
    }
  }

  static Map<String, Object> producerConfig(String bootstrap) {
    Map<String, Object> config = new java.util.HashMap<>();
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    return config;
  }

  static void produce(String bootstrap, String topic, List<String> values) throws Exception {
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerConfig(bootstrap))) {
      for (String value : values) {
        producer.send(new ProducerRecord<>(topic, value, value)).get();
      }
    }
  }

  static List<String> consumeAll(String bootstrap, String topic, int expected) {
    Map<String, Object> config = Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.GROUP_ID_CONFIG, "it-" + topic + "-" + System.nanoTime(),
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    List<String> values = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config)) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (values.size() < expected && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
          values.add(record.value());
        }
      }
      // one more poll: anything beyond the expected count is a defect the assertion shows
      consumer.poll(Duration.ofMillis(300)).forEach(r -> values.add(r.value()));
    }
    return values;
  }
}
