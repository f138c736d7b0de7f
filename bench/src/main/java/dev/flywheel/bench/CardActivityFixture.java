package dev.flywheel.bench;

import dev.flywheel.events.Transaction;
import dev.flywheel.featurestreams.FeatureGroupPlan;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;

/**
 * What the feature benchmarks share: the demo source {@code transactions} as ingest adds it (the
 * {@link Transaction} schema, keyed by card, timed by {@code event_time}), card transactions on
 * it, and waiting for a Kafka Streams application to be RUNNING and to have committed every
 * input offset.
 */
final class CardActivityFixture {

  static final String SOURCE = "transactions";
  static final Instant T0 = Instant.parse("2026-11-16T00:00:00Z");

  private static final String[] COUNTRIES = {"FR", "DE", "ES", "IT", "NL", "BE", "PT", "US"};
  private static final String[] CATEGORIES = {"grocery", "electronics", "travel", "fuel"};
  private static final String[] CHANNELS = {"POS", "ECOMMERCE", "ATM", "MOBILE"};

  final String bootstrap;
  final AvroSerdes serdes;
  final Topics topics;
  final Topic<String, GenericRecord> data;
  final Schema schema;

  private CardActivityFixture(String bootstrap, AvroSerdes serdes, Topics topics, Schema schema) {
    this.bootstrap = bootstrap;
    this.serdes = serdes;
    this.topics = topics;
    this.data = topics.data(SOURCE);
    this.schema = schema;
  }

  /** Registers the source schema and creates its topic with the catalogue's partitions. */
  static CardActivityFixture create(String bootstrap, String registryUrl, int partitions)
      throws Exception {
    AvroSerdes serdes = AvroSerdes.fromConfig(Map.of("schema.registry.url", registryUrl));
    Topics topics = Topics.builder(serdes).partitions(partitions).build();
    Schema schema = new Schema.Parser().parse(Transaction.getClassSchema().toString());
    schema.addProp(FeatureGroupPlan.SOURCE_KEY_PROPERTY, "card_id");
    schema.addProp(FeatureGroupPlan.SOURCE_TIME_PROPERTY, "event_time");
    Topic<String, GenericRecord> data = topics.data(SOURCE);
    serdes.client().register(data.name() + "-value", schema);
    try (Admin admin = admin(bootstrap)) {
      new TopicBootstrap(admin).ensure(List.of(data, topics.dlq(data), topics.features()));
      awaitLeaders(admin, data.name());
    }
    return new CardActivityFixture(bootstrap, serdes, topics, schema);
  }

  /** Waits until every partition of {@code topic} has a leader. */
  static void awaitLeaders(Admin admin, String topic) throws Exception {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions()
        .stream().anyMatch(p -> p.leader() == null || p.leader().isEmpty())) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(topic + " has partitions without a leader after 30 s");
      }
      TimeUnit.MILLISECONDS.sleep(50);
    }
  }

  static Admin admin(String bootstrap) {
    return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
  }

  /** A transaction of {@code card} at {@code time}, with random merchant, amount and country. */
  GenericRecord tx(Random random, String eventId, String card, Instant time) {
    GenericData.Record r = new GenericData.Record(schema);
    r.put("event_id", eventId);
    r.put("card_id", card);
    r.put("merchant", "m-" + random.nextInt(5_000));
    r.put("category", CATEGORIES[random.nextInt(CATEGORIES.length)]);
    r.put("amount", Math.round(random.nextDouble() * 20_000) / 100.0);
    r.put("currency", "EUR");
    r.put("country", COUNTRIES[random.nextInt(COUNTRIES.length)]);
    r.put("channel", new GenericData.EnumSymbol(schema.getField("channel").schema(),
        CHANNELS[random.nextInt(CHANNELS.length)]));
    r.put("event_time", time.toEpochMilli());
    return r;
  }

  /**
   * Produces {@code count} transactions in event-time order, {@code stepMs} apart, the card of
   * each chosen by {@code card}; idempotent, acks=all, lz4, 20 ms linger. Returns when all are
   * acknowledged (flushing every 50,000).
   */
  void produce(int count, long stepMs, IntFunction<String> card, long seed) {
    Map<String, Object> props = new HashMap<>();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    props.put(ProducerConfig.LINGER_MS_CONFIG, 20);
    props.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
    props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    // One batch in flight per partition: a retried first batch (the topic's leader not known yet)
    // cannot leave later batches with sequence numbers the broker refuses.
    props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
    Random random = new Random(seed);
    try (KafkaProducer<String, GenericRecord> producer = new KafkaProducer<>(props,
        new StringSerializer(), serdes.generic(false).serializer())) {
      for (int i = 0; i < count; i++) {
        String c = card.apply(i);
        Instant time = T0.plusMillis(i * stepMs);
        producer.send(new ProducerRecord<>(data.name(), null, time.toEpochMilli(), c,
            tx(random, "tx-" + seed + "-" + i, c, time)));
        if (i % 50_000 == 49_999) {
          // bounded in flight: a broker shared with other work must not time batches out
          producer.flush();
        }
      }
      producer.flush();
    }
  }

  /** Waits until {@code streams} is RUNNING; returns System.nanoTime() of the first sighting. */
  static long awaitRunning(KafkaStreams streams, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (streams.state() != KafkaStreams.State.RUNNING) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("Kafka Streams not RUNNING after " + timeout + ": "
            + streams.state());
      }
      TimeUnit.MILLISECONDS.sleep(2);
    }
    return System.nanoTime();
  }

  /**
   * Waits until consumer group {@code groupId} has committed the end offset of every partition
   * of {@code topic}; returns System.nanoTime() of the first sighting (polled every 20 ms). An
   * empty partition (end offset 0) counts as done: a group commits nothing where it read nothing.
   */
  static long awaitCommittedToEnd(Admin admin, String groupId, String topic, Duration timeout)
      throws Exception {
    Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = ends(admin, topic);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(groupId)
          .partitionsToOffsetAndMetadata().get();
      boolean done = ends.entrySet().stream().allMatch(e -> e.getValue().offset() == 0
          || committed.get(e.getKey()) != null
          && committed.get(e.getKey()).offset() >= e.getValue().offset());
      if (done) {
        return System.nanoTime();
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(groupId + " did not reach the end of " + topic
            + " within " + timeout + "; committed " + committed);
      }
      TimeUnit.MILLISECONDS.sleep(20);
    }
  }

  /** The sum of the end offsets of {@code topic}. */
  static long endOffsets(Admin admin, String topic) throws Exception {
    return ends(admin, topic).values().stream()
        .mapToLong(ListOffsetsResult.ListOffsetsResultInfo::offset).sum();
  }

  /** The end offset of each partition of {@code topic}. */
  private static Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends(Admin admin,
      String topic) throws Exception {
    int partitions = admin.describeTopics(List.of(topic)).allTopicNames().get()
        .get(topic).partitions().size();
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    for (int p = 0; p < partitions; p++) {
      latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
    }
    return admin.listOffsets(latest).all().get();
  }
}
