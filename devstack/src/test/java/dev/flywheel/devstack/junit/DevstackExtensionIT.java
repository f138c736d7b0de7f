package dev.flywheel.devstack.junit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.EmbeddedKafka;
import dev.flywheel.devstack.EmbeddedPostgres;
import dev.flywheel.devstack.registry.EmbeddedSchemaRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@WithDevstack
class DevstackExtensionIT {

  private UniqueNames namesBeforeEach;

  @BeforeEach
  void rememberNames(UniqueNames names) {
    namesBeforeEach = names;
  }

  @Test
  void shouldShareOneDevstackWithEveryTestClassOfTheRun(Devstack devstack) {
    // Given the stack this class was given
    // When it is compared with those every other class of this JVM was given
    Set<Devstack> seen = SharedDevstackProbe.observe(devstack);

    // Then there was only ever one
    assertThat(seen).containsExactly(devstack);
    assertThat(devstack.isRunning()).isTrue();
  }

  @Test
  void shouldInjectTheRunningBrokerAndRegistryOfTheSharedStack(Devstack devstack,
      EmbeddedKafka kafka, EmbeddedSchemaRegistry registry) throws Exception {
    // Given the injected components
    // When they are compared with the stack's and asked to answer
    // Then they are the stack's, and both answer
    assertThat(kafka).isSameAs(devstack.kafka());
    assertThat(registry).isSameAs(devstack.registry());
    try (Admin admin = admin(kafka.bootstrapServers())) {
      assertThat(admin.describeCluster().nodes().get()).hasSize(1);
    }
    HttpResponse<String> subjects = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(registry.url() + "/subjects")).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(subjects.statusCode()).isEqualTo(200);
  }

  @Test
  void shouldStartPostgresForTheTestThatAsksForIt(Devstack devstack, EmbeddedPostgres postgres)
      throws Exception {
    // Given a test asking for PostgreSQL
    // When it uses the injected server
    // Then it is running, logical, and the shared stack owns it
    assertThat(devstack.postgres()).containsSame(postgres);
    try (Connection connection = postgres.dataSource().getConnection();
        var sql = connection.createStatement();
        var walLevel = sql.executeQuery("SHOW wal_level")) {
      assertThat(walLevel.next()).isTrue();
      assertThat(walLevel.getString(1)).isEqualTo("logical");
    }
  }

  @Test
  void shouldGiveEachTestItsOwnTopicThatRoundTripsRecords(Devstack devstack, UniqueNames names)
      throws Exception {
    // Given a topic named for this test
    String topic = names.topic("events");
    try (Admin admin = admin(devstack.bootstrapServers())) {
      admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
    }

    // When a record is produced to it
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, devstack.bootstrapServers()),
        new StringSerializer(), new StringSerializer())) {
      producer.send(new ProducerRecord<>(topic, "k", "v")).get();
    }

    // Then a consumer in this test's own group reads it back
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, devstack.bootstrapServers(),
        ConsumerConfig.GROUP_ID_CONFIG, names.groupId("reader"),
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"),
        new StringDeserializer(), new StringDeserializer())) {
      consumer.subscribe(List.of(topic));
      ConsumerRecords<String, String> records = ConsumerRecords.empty();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (records.isEmpty() && System.nanoTime() < deadline) {
        records = consumer.poll(Duration.ofMillis(200));
      }
      assertThat(records.records(topic)).singleElement()
          .satisfies(r -> assertThat(r.value()).isEqualTo("v"));
    }
    assertThat(topic).startsWith(names.prefix() + ".").contains("shouldGiveEachTestItsOwnTopic");
  }

  @Test
  void shouldGiveTheSameNamesToATestAndItsBeforeEach(UniqueNames names) {
    assertThat(names).isSameAs(namesBeforeEach);
  }

  private static Admin admin(String bootstrapServers) {
    return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers));
  }
}
