package dev.flywheel.devstack.registry;

import static dev.flywheel.devstack.registry.Schemas.ID_INT;
import static dev.flywheel.devstack.registry.Schemas.record;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.EmbeddedKafka;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The {@code _schemas} topic: how it is created and what the registry writes into it. */
class SchemasTopicIT {

  private static EmbeddedKafka kafka;

  @BeforeAll
  static void startBroker() {
    kafka = EmbeddedKafka.builder().build().start();
  }

  @AfterAll
  static void stopBroker() {
    kafka.close();
  }

  @Test
  void shouldCreateTheSchemasTopicCompactedWithOnePartition() throws Exception {
    // Given a broker that does not create topics by itself, and no _schemas topic
    // When a registry starts
    try (EmbeddedSchemaRegistry registry = EmbeddedSchemaRegistry.builder()
        .bootstrapServers(kafka.bootstrapServers()).build().start();
        Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
            kafka.bootstrapServers()))) {

      // Then _schemas exists with one partition and cleanup.policy=compact
      assertThat(registry.topic()).isEqualTo("_schemas");
      TopicDescription description = admin.describeTopics(Set.of("_schemas")).allTopicNames()
          .get().get("_schemas");
      ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, "_schemas");
      Config config = admin.describeConfigs(Set.of(resource)).all().get().get(resource);
      assertThat(description.partitions()).hasSize(1);
      assertThat(config.get("cleanup.policy").value()).isEqualTo("compact");
    }
  }

  @Test
  void shouldWriteChangesAsConfluentRecords() {
    // Given a registry on its own topic
    String topic = "_schemas-format";
    String schema = new Schema.Parser().parse(record("Fmt", ID_INT)).toString();
    try (EmbeddedSchemaRegistry registry = EmbeddedSchemaRegistry.builder()
        .bootstrapServers(kafka.bootstrapServers()).topic(topic).build().start()) {
      RegistryHttp http = new RegistryHttp(registry.url());

      // When a schema is registered, soft-deleted and permanently deleted, and levels are set
      // and removed
      http.registerOk("fmt-value", schema);
      http.setLevel(null, "FULL");
      http.setLevel("fmt-value", "NONE");
      http.delete("/subjects/fmt-value/versions/1");
      http.delete("/subjects/fmt-value/versions/1?permanent=true");
      http.delete("/config/fmt-value");
    }

    // Then the topic holds Confluent's keys and values, in order, with a tombstone for the
    // permanent delete and a null value for the removed level
    String schemaKey = "{\"keytype\":\"SCHEMA\",\"subject\":\"fmt-value\",\"version\":1,\"magic\":1}";
    String value = "{\"subject\":\"fmt-value\",\"version\":1,\"id\":1,\"schema\":"
        + RegistryHttp.JSON.getNodeFactory().textNode(schema) + ",\"deleted\":%s}";
    List<String[]> expected = List.of(
        new String[] {schemaKey, String.format(value, "false")},
        new String[] {"{\"keytype\":\"CONFIG\",\"subject\":null,\"magic\":0}",
            "{\"compatibilityLevel\":\"FULL\"}"},
        new String[] {"{\"keytype\":\"CONFIG\",\"subject\":\"fmt-value\",\"magic\":0}",
            "{\"compatibilityLevel\":\"NONE\"}"},
        new String[] {schemaKey, String.format(value, "true")},
        new String[] {schemaKey, null},
        new String[] {"{\"keytype\":\"CONFIG\",\"subject\":\"fmt-value\",\"magic\":0}", null});
    List<String[]> records = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class))) {
      TopicPartition partition = new TopicPartition(topic, 0);
      consumer.assign(List.of(partition));
      consumer.seekToBeginning(List.of(partition));
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
        for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(100))) {
          records.add(new String[] {record.key(), record.value()});
        }
        assertThat(records).hasSameSizeAs(expected);
      });
    }
    assertThat(records.stream().map(r -> r[0] + " => " + r[1]))
        .containsExactlyElementsOf(expected.stream().map(r -> r[0] + " => " + r[1]).toList());
  }
}
