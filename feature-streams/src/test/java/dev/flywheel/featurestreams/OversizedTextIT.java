package dev.flywheel.featurestreams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.CommittedValues;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.events.FeatureVector;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.DeadLetterHeaders;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * On a real broker, whose producers refuse a record over {@code max.request.size}: an entity whose
 * long text values would make its state too large for one changelog record, or an event whose
 * long text would make its record on a repartition topic too large, no longer fails its task on
 * every retry (stalling every partition of the stream thread); its events that cannot fit go to
 * the dead-letter topic and every other event is processed.
 */
@WithDevstack
class OversizedTextIT {

  @TempDir Path dir;

  @Test
  void shouldDeadLetterEventsWhoseStateCannotFitARecordAndGoOn(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given a group keeping the last and the distinct merchants of 10 minutes, and card-1 paying
    // 8 merchants with 300,000-letter names 10 s apart, then card-2 paying an ordinary one
    String bootstrap = devstack.bootstrapServers();
    AvroSerdes serdes = AvroSerdes.fromConfig(
        Map.of("schema.registry.url", devstack.schemaRegistryUrl()));
    Topics topics = Topics.builder(serdes).prefix(names.prefix()).build();
    Topic<String, GenericRecord> data = topics.data(TransactionSource.NAME);
    serdes.client().register(data.name() + "-value", TransactionSource.schema());
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      new TopicBootstrap(admin).ensure(List.of(data, topics.dlq(data)));
    }
    long t0 = 1_790_000_040_000L - 1_790_000_040_000L % 60_000;
    try (KafkaProducer<String, GenericRecord> producer = new KafkaProducer<>(
        Map.of("bootstrap.servers", bootstrap), data.keySerde().serializer(),
        data.valueSerde().serializer())) {
      for (int i = 0; i < 8; i++) {
        TransactionSource.Tx tx = new TransactionSource.Tx("e-" + i, "card-1",
            "m" + i + "-" + "x".repeat(300_000), "grocery", 10, "FR", "POS", t0 + i * 10_000L);
        producer.send(new ProducerRecord<>(data.name(), "card-1",
            tx.toRecord(TransactionSource.schema())));
      }
      producer.send(new ProducerRecord<>(data.name(), "card-2", new TransactionSource.Tx("e-8",
          "card-2", "m-8", "grocery", 10, "FR", "POS", t0 + 80_000L)
          .toRecord(TransactionSource.schema()))).get();
    }
    FeatureStreamsConfig config = FeatureStreamsConfig.parse("""
        featureGroups:
          - name: g
            source: transactions
            entityKey: card_id
            features:
              - {name: last_merchant_10m, agg: last, field: merchant, window: 10m}
              - {name: merchants_10m, agg: distinct_count, field: merchant, window: 10m}
              - {name: tx_10m, agg: count, window: 10m}
        """);

    // When feature-streams processes them
    try (FeatureStreamsService features = FeatureStreamsService.builder()
        .config(config)
        .bootstrapServers(bootstrap)
        .schemaRegistryUrl(devstack.schemaRegistryUrl())
        .applicationId(names.applicationId("flywheel-feature-streams"))
        .topicPrefix(names.prefix())
        .stateDir(dir.resolve("state"))
        .build()
        .start()) {

      // Then every event is either on the feature log or on the dead-letter topic: card-1's 8th
      // (its state would hold two tiles of 600 KB) is refused, and card-2's, after it, is applied
      await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
        List<FeatureVector> vectors = CommittedValues.of(bootstrap, topics.features());
        List<ConsumerRecord<byte[], byte[]>> dead =
            CommittedValues.bytes(bootstrap, topics.dlq(data).name());
        assertThat(vectors).extracting(FeatureVector::getEventId)
            .containsExactlyInAnyOrder("e-0", "e-1", "e-2", "e-3", "e-4", "e-5", "e-6", "e-8");
        assertThat(dead).hasSize(1);
        assertThat(new String(dead.get(0).headers().lastHeader(DeadLetterHeaders.ERROR).value(),
            StandardCharsets.UTF_8))
            .contains("state of entity 'card-1'", "max.request.size");
      });
    }
  }

  @Test
  void shouldDeadLetterAnEventWhoseRepartitionRecordCannotFitARecordAndGoOn(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given a group keyed by merchant, not the source's key: its events go through a repartition
    // topic, each in a record carrying the merchant twice and the source record whole; and a
    // merchant with a 400,000-letter name paying (a source record of 400 KB, its repartition
    // record 1.2 MB), then an ordinary one
    String bootstrap = devstack.bootstrapServers();
    AvroSerdes serdes = AvroSerdes.fromConfig(
        Map.of("schema.registry.url", devstack.schemaRegistryUrl()));
    Topics topics = Topics.builder(serdes).prefix(names.prefix()).build();
    Topic<String, GenericRecord> data = topics.data(TransactionSource.NAME);
    serdes.client().register(data.name() + "-value", TransactionSource.schema());
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      new TopicBootstrap(admin).ensure(List.of(data, topics.dlq(data)));
    }
    long t0 = 1_790_000_040_000L - 1_790_000_040_000L % 60_000;
    try (KafkaProducer<String, GenericRecord> producer = new KafkaProducer<>(
        Map.of("bootstrap.servers", bootstrap), data.keySerde().serializer(),
        data.valueSerde().serializer())) {
      producer.send(new ProducerRecord<>(data.name(), "card-1", new TransactionSource.Tx("e-0",
          "card-1", "m0-" + "x".repeat(400_000), "grocery", 10, "FR", "POS", t0)
          .toRecord(TransactionSource.schema())));
      producer.send(new ProducerRecord<>(data.name(), "card-1", new TransactionSource.Tx("e-1",
          "card-1", "m-1", "grocery", 10, "FR", "POS", t0 + 1_000L)
          .toRecord(TransactionSource.schema()))).get();
    }
    FeatureStreamsConfig config = FeatureStreamsConfig.parse("""
        featureGroups:
          - name: by_merchant
            source: transactions
            entityKey: merchant
            features:
              - {name: tx_10m, agg: count, window: 10m}
        """);

    // When feature-streams processes them
    try (FeatureStreamsService features = FeatureStreamsService.builder()
        .config(config)
        .bootstrapServers(bootstrap)
        .schemaRegistryUrl(devstack.schemaRegistryUrl())
        .applicationId(names.applicationId("flywheel-feature-streams"))
        .topicPrefix(names.prefix())
        .stateDir(dir.resolve("state"))
        .build()
        .start()) {

      // Then the large one is on the dead-letter topic, saying why, and the ordinary one, after
      // it, is applied (the producer refused such a repartition record before, failing the
      // stream thread on it again and again)
      await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
        List<FeatureVector> vectors = CommittedValues.of(bootstrap, topics.features());
        List<ConsumerRecord<byte[], byte[]>> dead =
            CommittedValues.bytes(bootstrap, topics.dlq(data).name());
        assertThat(vectors).extracting(FeatureVector::getEventId).containsExactly("e-1");
        assertThat(dead).hasSize(1);
        assertThat(new String(dead.get(0).headers().lastHeader(DeadLetterHeaders.ERROR).value(),
            StandardCharsets.UTF_8))
            .contains("event 'e-0'", "repartition topic of feature group 'by_merchant'",
                "max.request.size");
      });
    }
  }

  @Test
  void shouldDeadLetterAnEventWhoseVectorTheFeatureLogWouldRefuseAndGoOn(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given a feature log created with max.message.bytes 64 KiB, a producer allowed 4 MiB
    // requests (max.request.size), a group keeping the last merchant, and card-1 paying a
    // merchant whose name is 100,000 random letters (a vector of 100 KB, which lz4 cannot shrink),
    // then card-2 paying an ordinary one
    String bootstrap = devstack.bootstrapServers();
    AvroSerdes serdes = AvroSerdes.fromConfig(
        Map.of("schema.registry.url", devstack.schemaRegistryUrl()));
    Topics topics = Topics.builder(serdes).prefix(names.prefix()).build();
    Topic<String, GenericRecord> data = topics.data(TransactionSource.NAME);
    serdes.client().register(data.name() + "-value", TransactionSource.schema());
    int featureLogMaxMessageBytes = 64 * 1024;
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      new TopicBootstrap(admin).ensure(List.of(data, topics.dlq(data)));
      NewTopic featureLog = topics.features().toNewTopic();
      Map<String, String> configs = new HashMap<>(
          featureLog.configs() == null ? Map.of() : featureLog.configs());
      configs.put(TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
          String.valueOf(featureLogMaxMessageBytes));
      admin.createTopics(List.of(featureLog.configs(configs))).all().get();
    }
    long t0 = 1_790_000_040_000L - 1_790_000_040_000L % 60_000;
    Random random = new Random(7);
    StringBuilder merchant = new StringBuilder("m0-");
    for (int i = 0; i < 100_000; i++) {
      merchant.append((char) ('a' + random.nextInt(26)));
    }
    try (KafkaProducer<String, GenericRecord> producer = new KafkaProducer<>(
        Map.of("bootstrap.servers", bootstrap), data.keySerde().serializer(),
        data.valueSerde().serializer())) {
      producer.send(new ProducerRecord<>(data.name(), "card-1", new TransactionSource.Tx("e-0",
          "card-1", merchant.toString(), "grocery", 10, "FR", "POS", t0)
          .toRecord(TransactionSource.schema())));
      producer.send(new ProducerRecord<>(data.name(), "card-1", new TransactionSource.Tx("e-1",
          "card-1", "m-1", "grocery", 10, "FR", "POS", t0 + 1_000L)
          .toRecord(TransactionSource.schema())));
      producer.send(new ProducerRecord<>(data.name(), "card-2", new TransactionSource.Tx("e-2",
          "card-2", "m-2", "grocery", 10, "FR", "POS", t0 + 2_000L)
          .toRecord(TransactionSource.schema()))).get();
    }
    FeatureStreamsConfig config = FeatureStreamsConfig.parse("""
        featureGroups:
          - name: g
            source: transactions
            entityKey: card_id
            features:
              - {name: last_merchant_10m, agg: last, field: merchant, window: 10m}
              - {name: tx_10m, agg: count, window: 10m}
        """);

    // When feature-streams processes them
    try (FeatureStreamsService features = FeatureStreamsService.builder()
        .config(config)
        .bootstrapServers(bootstrap)
        .schemaRegistryUrl(devstack.schemaRegistryUrl())
        .applicationId(names.applicationId("flywheel-feature-streams"))
        .topicPrefix(names.prefix())
        .stateDir(dir.resolve("state"))
        .kafka(Map.of(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 4 * 1024 * 1024))
        .build()
        .start()) {

      // Then the large one is on the dead-letter topic, naming the feature log's limit, and the
      // ordinary ones after it are applied (the broker refused its vector before, failing the
      // stream thread on it after every restart)
      await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
        List<FeatureVector> vectors = CommittedValues.of(bootstrap, topics.features());
        List<ConsumerRecord<byte[], byte[]>> dead =
            CommittedValues.bytes(bootstrap, topics.dlq(data).name());
        assertThat(vectors).extracting(FeatureVector::getEventId)
            .containsExactlyInAnyOrder("e-1", "e-2");
        assertThat(dead).hasSize(1);
        assertThat(new String(dead.get(0).headers().lastHeader(DeadLetterHeaders.ERROR).value(),
            StandardCharsets.UTF_8))
            .contains("feature vector of event 'e-0'", "max.message.bytes "
                + featureLogMaxMessageBytes + " of topic '" + topics.features().name() + "'");
      });
      assertThat(features.healthProblem()).isEmpty();
    }
  }
}
