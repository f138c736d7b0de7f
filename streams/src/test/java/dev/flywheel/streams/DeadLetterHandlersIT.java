package dev.flywheel.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.CommittedValues;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.devstack.registry.EmbeddedSchemaRegistry;
import dev.flywheel.events.Label;
import dev.flywheel.registry.SchemaRegistryClient;
import dev.flywheel.serde.SpecificAvroSerde;
import dev.flywheel.topics.DeadLetterHeaders;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The dead-letter handlers of {@link StreamsProps} on a real broker, under exactly-once. */
@WithDevstack
class DeadLetterHandlersIT {

  @TempDir Path state;

  @Test
  void shouldSendUnreadableAndFailingRecordsToTheDlqAndKeepProcessing(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given a processor that reads 8-byte longs and refuses negative ones
    String in = names.topic("numbers");
    String out = names.topic("doubled");
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", devstack.bootstrapServers()))) {
      admin.createTopics(List.of(new NewTopic(in, 1, (short) 1), new NewTopic(out, 1, (short) 1),
          new NewTopic(in + ".dlq", 1, (short) 1))).all().get();
    }
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(in, Consumed.with(Serdes.String(), Serdes.Long()).withName("numbers-in"))
        .mapValues(v -> {
          if (v < 0) {
            throw new IllegalArgumentException("negative: " + v);
          }
          return v * 2;
        }, Named.as("double"))
        .to(out, Produced.with(Serdes.String(), Serdes.Long()).withName("doubled-out"));
    Properties props = StreamsProps.builder(names.applicationId("dlq"))
        .bootstrapServers(devstack.bootstrapServers()).stateDir(Files.createDirectories(state))
        .overrides(Map.of(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest")).build();

    // When good longs, a 3-byte value, a value as large as a producer may send (too large to be
    // sent again with the dead letter's headers), a 3-byte value under a key as large, and a
    // negative long arrive, in that order
    byte[] large = new byte[1_048_200];
    Arrays.fill(large, (byte) 7);
    byte[] largeKey = new byte[1_048_200];
    Arrays.fill(largeKey, (byte) 'k');
    try (KafkaProducer<byte[], byte[]> producer = producer(devstack)) {
      producer.send(new ProducerRecord<>(in, bytes("a"), Serdes.Long().serializer().serialize(in, 1L)));
      producer.send(new ProducerRecord<>(in, bytes("b"), new byte[] {1, 2, 3}));
      producer.send(new ProducerRecord<>(in, bytes("large"), large));
      producer.send(new ProducerRecord<>(in, largeKey, new byte[] {4, 5, 6}));
      producer.send(new ProducerRecord<>(in, bytes("c"), Serdes.Long().serializer().serialize(in, -5L)));
      producer.send(new ProducerRecord<>(in, bytes("d"), Serdes.Long().serializer().serialize(in, 4L)));
    }
    try (KafkaStreams streams = new KafkaStreams(builder.build(), props)) {
      streams.start();

      // Then the good ones are processed past the bad ones
      List<ConsumerRecord<byte[], byte[]>> outputs = read(devstack, out, 2);
      assertThat(outputs).extracting(r -> Serdes.Long().deserializer().deserialize(out, r.value()))
          .containsExactly(2L, 8L);

      // And each bad one is on <topic>.dlq with its original bytes, its origin and the reason
      List<ConsumerRecord<byte[], byte[]>> dead = read(devstack, in + ".dlq", 4);
      assertThat(dead.get(0).key()).isEqualTo(bytes("b"));
      assertThat(dead.get(0).value()).containsExactly(1, 2, 3);
      assertThat(header(dead.get(0), DeadLetterHeaders.ORIGIN)).isEqualTo(in + "/0/1");
      assertThat(header(dead.get(0), DeadLetterHeaders.ERROR)).containsIgnoringCase("size");
      assertThat(dead.get(0).headers().lastHeader(DeadLetterHeaders.VALUE_TRUNCATED)).isNull();
      // the large one's value cut to fit, saying so and how large it was
      assertThat(header(dead.get(1), DeadLetterHeaders.ORIGIN)).isEqualTo(in + "/0/2");
      assertThat(header(dead.get(1), DeadLetterHeaders.VALUE_TRUNCATED)).isEqualTo("true");
      assertThat(header(dead.get(1), DeadLetterHeaders.VALUE_SIZE)).isEqualTo("1048200");
      assertThat(dead.get(1).value()).hasSizeBetween(1_040_000, 1_048_199)
          .containsOnly((byte) 7);
      // the one with the large key: an empty value still leaves it too large, so its key is cut
      assertThat(header(dead.get(2), DeadLetterHeaders.ORIGIN)).isEqualTo(in + "/0/3");
      assertThat(header(dead.get(2), DeadLetterHeaders.KEY_TRUNCATED)).isEqualTo("true");
      assertThat(header(dead.get(2), DeadLetterHeaders.KEY_SIZE)).isEqualTo("1048200");
      assertThat(header(dead.get(2), DeadLetterHeaders.VALUE_SIZE)).isEqualTo("3");
      assertThat(dead.get(2).value()).isEmpty();
      assertThat(dead.get(2).key()).hasSizeBetween(1_040_000, 1_048_199).containsOnly((byte) 'k');
      assertThat(header(dead.get(3), DeadLetterHeaders.ORIGIN)).isEqualTo(in + "/0/4");
      assertThat(header(dead.get(3), DeadLetterHeaders.ERROR)).contains("negative: -5");
      assertThat(header(dead.get(3), DeadLetterHeaders.PROCESSOR))
          .isEqualTo(names.applicationId("dlq"));
      awaitRunning(streams);
    }
  }

  @Test
  void shouldDeadLetterARecordWhoseOwnHeadersLeaveNoRoomAndKeepProcessing(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given a processor that reads 8-byte longs
    String in = names.topic("numbers");
    String out = names.topic("doubled");
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", devstack.bootstrapServers()))) {
      admin.createTopics(List.of(new NewTopic(in, 1, (short) 1), new NewTopic(out, 1, (short) 1),
          new NewTopic(in + ".dlq", 1, (short) 1))).all().get();
    }
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(in, Consumed.with(Serdes.String(), Serdes.Long()).withName("numbers-in"))
        .mapValues(v -> v * 2, Named.as("double"))
        .to(out, Produced.with(Serdes.String(), Serdes.Long()).withName("doubled-out"));
    Properties props = StreamsProps.builder(names.applicationId("dlq-headers"))
        .bootstrapServers(devstack.bootstrapServers()).stateDir(Files.createDirectories(state))
        .overrides(Map.of(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest")).build();

    // When a 3-byte value arrives with headers as large as a producer may send (too large to be
    // sent again with the dead letter's headers, even with no key and value), then a good long
    byte[] blob = new byte[1_048_200];
    Arrays.fill(blob, (byte) 'h');
    try (KafkaProducer<byte[], byte[]> producer = producer(devstack)) {
      ProducerRecord<byte[], byte[]> heavy =
          new ProducerRecord<>(in, bytes("b"), new byte[] {1, 2, 3});
      heavy.headers().add("traceparent", bytes("00-4bf92f3577b34da6-01"));
      heavy.headers().add("blob", blob);
      producer.send(heavy);
      producer.send(new ProducerRecord<>(in, bytes("d"),
          Serdes.Long().serializer().serialize(in, 4L)));
    }
    try (KafkaStreams streams = new KafkaStreams(builder.build(), props)) {
      streams.start();

      // Then the good one is processed past the bad one
      List<ConsumerRecord<byte[], byte[]>> outputs = read(devstack, out, 1);
      assertThat(outputs).extracting(r -> Serdes.Long().deserializer().deserialize(out, r.value()))
          .containsExactly(8L);

      // And the bad one is on <topic>.dlq with its key, value, reason and small header, without
      // the large header, saying so
      List<ConsumerRecord<byte[], byte[]>> dead = read(devstack, in + ".dlq", 1);
      assertThat(dead).hasSize(1);
      assertThat(dead.get(0).key()).isEqualTo(bytes("b"));
      assertThat(dead.get(0).value()).containsExactly(1, 2, 3);
      assertThat(header(dead.get(0), DeadLetterHeaders.ORIGIN)).isEqualTo(in + "/0/0");
      assertThat(header(dead.get(0), DeadLetterHeaders.ERROR)).containsIgnoringCase("size");
      assertThat(header(dead.get(0), DeadLetterHeaders.HEADERS_TRUNCATED)).isEqualTo("true");
      assertThat(header(dead.get(0), DeadLetterHeaders.HEADERS_DROPPED)).isEqualTo("1");
      assertThat(header(dead.get(0), "traceparent")).isEqualTo("00-4bf92f3577b34da6-01");
      assertThat(dead.get(0).headers().lastHeader("blob")).isNull();
      awaitRunning(streams);
    }
  }

  @Test
  void shouldCreateTheDlqOfARepartitionTopicAndKeepProcessingPastAFailureAfterIt(
      Devstack devstack, UniqueNames names) throws Exception {
    // Given a processor that re-keys longs through a named repartition and then refuses negatives
    String in = names.topic("amounts");
    String out = names.topic("checked");
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", devstack.bootstrapServers()))) {
      admin.createTopics(List.of(new NewTopic(in, 1, (short) 1), new NewTopic(out, 1, (short) 1)))
          .all().get();
    }
    String app = names.applicationId("dlq-repartition");
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(in, Consumed.with(Serdes.String(), Serdes.Long()).withName("amounts-in"))
        .selectKey((k, v) -> "all", Named.as("key-all"))
        .repartition(Repartitioned.with(Serdes.String(), Serdes.Long()).withName("by-all"))
        .mapValues(v -> {
          if (v < 0) {
            throw new IllegalArgumentException("negative: " + v);
          }
          return v;
        }, Named.as("check"))
        .to(out, Produced.with(Serdes.String(), Serdes.Long()).withName("checked-out"));
    Properties props = StreamsProps.builder(app)
        .bootstrapServers(devstack.bootstrapServers()).stateDir(Files.createDirectories(state))
        .overrides(Map.of(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest")).build();

    // When a good long, a negative one and another good one arrive
    try (KafkaProducer<byte[], byte[]> producer = producer(devstack)) {
      producer.send(new ProducerRecord<>(in, bytes("a"), Serdes.Long().serializer().serialize(in, 3L)));
      producer.send(new ProducerRecord<>(in, bytes("b"), Serdes.Long().serializer().serialize(in, -1L)));
      producer.send(new ProducerRecord<>(in, bytes("c"), Serdes.Long().serializer().serialize(in, 7L)));
    }
    try (KafkaStreams streams = new KafkaStreams(builder.build(), props)) {
      streams.start();

      // Then the good ones are processed past the bad one
      assertThat(read(devstack, out, 2))
          .extracting(r -> Serdes.Long().deserializer().deserialize(out, r.value()))
          .containsExactly(3L, 7L);

      // And the bad one is on the repartition topic's dead-letter topic, created for it
      String repartition = app + "-by-all-repartition";
      List<ConsumerRecord<byte[], byte[]>> dead = read(devstack, repartition + ".dlq", 1);
      assertThat(header(dead.get(0), DeadLetterHeaders.TOPIC)).isEqualTo(repartition);
      assertThat(header(dead.get(0), DeadLetterHeaders.ERROR)).contains("negative: -1");
      awaitRunning(streams);
    }
  }

  @Test
  void shouldReadAgainNotDeadLetterTheRecordsItReadWhileTheSchemaRegistryWasAway(
      Devstack devstack, UniqueNames names) throws Exception {
    // Given labels registered and produced through the devstack's registry
    String in = names.topic("labels");
    String out = names.topic("label-values");
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", devstack.bootstrapServers()))) {
      admin.createTopics(List.of(new NewTopic(in, 1, (short) 1), new NewTopic(out, 1, (short) 1),
          new NewTopic(in + ".dlq", 1, (short) 1))).all().get();
    }
    List<Label> labels = IntStream.range(0, 5).mapToObj(i -> Label.newBuilder()
        .setEventId("ev-" + i).setEventTime(Instant.ofEpochMilli(1_700_000_000_000L + i))
        .setTarget("is_fraud").setValue(i).build()).toList();
    SchemaRegistryClient devstackRegistry = SchemaRegistryClient.builder()
        .url(devstack.schemaRegistryUrl()).build();
    try (SpecificAvroSerde<Label> serde = new SpecificAvroSerde<>(devstackRegistry, Label.class);
        KafkaProducer<byte[], byte[]> producer = producer(devstack)) {
      for (Label label : labels) {
        producer.send(new ProducerRecord<>(in, bytes(label.getEventId()),
            serde.serializer().serialize(in, label)));
      }
    }
    // And a processor whose own registry, on the same schema topic, is not answering: it starts
    // with no schema cached, as after a restart
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }
    SchemaRegistryClient away = SchemaRegistryClient.builder().url("http://127.0.0.1:" + port)
        .maxRetries(1).initialBackoff(Duration.ofMillis(50)).build();
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(in, Consumed.with(Serdes.String(), new SpecificAvroSerde<>(away, Label.class))
            .withName("labels-in"))
        .mapValues(Label::getValue, Named.as("value"))
        .to(out, Produced.with(Serdes.String(), Serdes.Double()).withName("values-out"));
    // A replaced thread's consumer does not leave the group: the new one is assigned the
    // partitions once the old one's session times out (45 s by default)
    Properties props = StreamsProps.builder(names.applicationId("registry-away"))
        .bootstrapServers(devstack.bootstrapServers()).stateDir(Files.createDirectories(state))
        .overrides(Map.of(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
            ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 6000,
            ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 1000)).build();

    try (KafkaStreams streams = new KafkaStreams(builder.build(), props)) {
      streams.setUncaughtExceptionHandler(
          new ReplaceFailedThreads("registry-away").untilRegistryAnswers(away, streams));
      streams.start();

      // When it reads them while its registry is away
      await().atMost(Duration.ofSeconds(60))
          .until(() -> metric(streams, "failed-stream-threads") >= 1);

      // Then the failed thread is not replaced while the registry stays away, so it does not
      // fail again (each replacement would restore its tasks' stores in full)
      await().during(Duration.ofSeconds(8)).atMost(Duration.ofSeconds(10))
          .until(() -> metric(streams, "failed-stream-threads") == 1);
      // and no label went to the dead-letter topic, and none was skipped
      assertThat(CommittedValues.bytes(devstack.bootstrapServers(), in + ".dlq")).isEmpty();
      assertThat(CommittedValues.bytes(devstack.bootstrapServers(), out)).isEmpty();

      // And once its registry answers, every label is processed, once
      try (EmbeddedSchemaRegistry registry = EmbeddedSchemaRegistry.builder()
          .bootstrapServers(devstack.bootstrapServers()).port(port).build().start()) {
        assertThat(read(devstack, out, labels.size()))
            .extracting(r -> Serdes.Double().deserializer().deserialize(out, r.value()))
            .containsExactly(0.0, 1.0, 2.0, 3.0, 4.0);
        assertThat(CommittedValues.bytes(devstack.bootstrapServers(), in + ".dlq")).isEmpty();
        awaitRunning(streams);
      }
    }
  }

  @Test
  void shouldNeitherDeadLetterTheNextRecordNorCommitAnythingWhileAnOutputIsTooLargeToSend(
      Devstack devstack, UniqueNames names) throws Exception {
    // Given a processor that counts per key and writes, for key "big", an output of 2 MiB, over
    // its producer's max.request.size (1 MiB, Kafka's default) though within the topic's limit
    String in = names.topic("keys");
    String out = names.topic("counted");
    String app = names.applicationId("too-large");
    String changelog = app + "-counts-changelog";
    int fourMiB = 4 * 1024 * 1024;
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", devstack.bootstrapServers()))) {
      admin.createTopics(List.of(new NewTopic(in, 1, (short) 1),
          new NewTopic(out, 1, (short) 1).configs(Map.of(
              TopicConfig.MAX_MESSAGE_BYTES_CONFIG, String.valueOf(fourMiB))),
          new NewTopic(in + ".dlq", 1, (short) 1))).all().get();
    }
    String twoMiB = "x".repeat(2 * 1024 * 1024);
    Set<String> processed = ConcurrentHashMap.newKeySet();
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(in, Consumed.with(Serdes.String(), Serdes.String()).withName("keys-in"))
        .peek((k, v) -> processed.add(k), Named.as("note"))
        .groupByKey(Grouped.as("by-key"))
        .count(Named.as("count"), Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as(
            "counts").withKeySerde(Serdes.String()).withValueSerde(Serdes.Long()))
        .toStream(Named.as("counts-stream"))
        .mapValues((k, n) -> k.equals("big") ? twoMiB : k + "=" + n, Named.as("describe"))
        .to(out, Produced.with(Serdes.String(), Serdes.String()).withName("counted-out"));
    Map<String, Object> overrides = Map.of(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    Properties props = StreamsProps.builder(app).bootstrapServers(devstack.bootstrapServers())
        .stateDir(Files.createDirectories(state.resolve("first"))).overrides(overrides).build();
    try (KafkaProducer<byte[], byte[]> producer = producer(devstack)) {
      for (String key : List.of("big", "b", "c")) {
        producer.send(new ProducerRecord<>(in, bytes(key), bytes("v")));
      }
    }

    // When it processes "big" and then "b", whose sends find big's output refused
    try (KafkaStreams streams = new KafkaStreams(builder.build(), props)) {
      streams.setUncaughtExceptionHandler(new ReplaceFailedThreads(app));
      streams.start();
      // (the failed threads' exceptions are expected: not the await's to catch)
      await().dontCatchUncaughtExceptions().atMost(Duration.ofSeconds(90)).until(
          () -> processed.contains("b") && (metric(streams, "failed-stream-threads") >= 2
              || !CommittedValues.bytes(devstack.bootstrapServers(), in + ".dlq").isEmpty()));

      // Then its stream thread fails, again on every start, and "b" is not dead-lettered in
      // big's place, nor is anything of the transaction committed: no output, no count
      assertThat(CommittedValues.bytes(devstack.bootstrapServers(), in + ".dlq")).isEmpty();
      assertThat(CommittedValues.bytes(devstack.bootstrapServers(), out)).isEmpty();
      assertThat(CommittedValues.bytes(devstack.bootstrapServers(), changelog)).isEmpty();
    }

    // And once the processor runs with a max.request.size the output fits, each key is counted
    // and written once, and nothing is dead-lettered
    Map<String, Object> raised = new HashMap<>(overrides);
    raised.put(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG), fourMiB);
    Properties fixed = StreamsProps.builder(app).bootstrapServers(devstack.bootstrapServers())
        .stateDir(Files.createDirectories(state.resolve("second"))).overrides(raised).build();
    try (KafkaStreams streams = new KafkaStreams(builder.build(), fixed)) {
      streams.setUncaughtExceptionHandler(new ReplaceFailedThreads(app));
      streams.start();
      List<ConsumerRecord<byte[], byte[]>> outputs = read(devstack, out, 3);
      assertThat(outputs).extracting(r -> new String(r.key(), StandardCharsets.UTF_8))
          .containsExactly("big", "b", "c");
      assertThat(outputs).extracting(r -> new String(r.value(), StandardCharsets.UTF_8))
          .containsExactly(twoMiB, "b=1", "c=1");
      assertThat(CommittedValues.bytes(devstack.bootstrapServers(), changelog))
          .extracting(r -> new String(r.key(), StandardCharsets.UTF_8))
          .containsExactly("big", "b", "c");
      assertThat(CommittedValues.bytes(devstack.bootstrapServers(), in + ".dlq")).isEmpty();
      awaitRunning(streams);
    }
  }

  @Test
  void shouldNotCommitAStateChangeWhoseOutputCannotBeSerialized(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given a processor that counts per key and writes each count with a key serializer that
    // refuses key "poison", as a registry refuses an incompatible schema
    String in = names.topic("keys");
    String out = names.topic("counted");
    String app = names.applicationId("unserializable");
    String changelog = app + "-counts-changelog";
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", devstack.bootstrapServers()))) {
      admin.createTopics(List.of(new NewTopic(in, 1, (short) 1), new NewTopic(out, 1, (short) 1),
          new NewTopic(in + ".dlq", 1, (short) 1))).all().get();
    }
    Serializer<String> refusing = (topic, key) -> {
      if (key.equals("poison")) {
        throw new SerializationException("the registry refused the key schema of " + topic);
      }
      return bytes(key);
    };
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(in, Consumed.with(Serdes.String(), Serdes.String()).withName("keys-in"))
        .groupByKey(Grouped.as("by-key"))
        .count(Named.as("count"), Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as(
            "counts").withKeySerde(Serdes.String()).withValueSerde(Serdes.Long()))
        .toStream(Named.as("counts-stream"))
        .to(out, Produced.with(Serdes.serdeFrom(refusing, Serdes.String().deserializer()),
            Serdes.Long()).withName("counted-out"));
    Properties props = StreamsProps.builder(app).bootstrapServers(devstack.bootstrapServers())
        .stateDir(Files.createDirectories(state))
        .overrides(Map.of(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest")).build();
    try (KafkaProducer<byte[], byte[]> producer = producer(devstack)) {
      for (String key : List.of("a", "poison", "b")) {
        producer.send(new ProducerRecord<>(in, bytes(key), bytes("v")));
      }
    }

    // When it counts "poison", whose output then cannot be serialized
    try (KafkaStreams streams = new KafkaStreams(builder.build(), props)) {
      streams.setUncaughtExceptionHandler(new ReplaceFailedThreads(app));
      streams.start();
      // (poison's count reached the changelog, uncommitted: "poison" was processed)
      // (the failed threads' exceptions are expected: not the await's to catch)
      await().dontCatchUncaughtExceptions().atMost(Duration.ofSeconds(90)).until(
          () -> uncommittedKeys(devstack, changelog).contains("poison")
              && (metric(streams, "failed-stream-threads") >= 2
              || keys(devstack, changelog).contains("poison")));

      // Then poison's count is not committed without its output, nor is anything after it, and
      // the record is not dead-lettered: its stream thread fails, again on every start
      assertThat(keys(devstack, changelog)).doesNotContain("poison", "b");
      assertThat(keys(devstack, out)).doesNotContain("poison", "b");
      assertThat(CommittedValues.bytes(devstack.bootstrapServers(), in + ".dlq")).isEmpty();
    }
  }

  private static List<String> keys(Devstack devstack, String topic) {
    return CommittedValues.bytes(devstack.bootstrapServers(), topic).stream()
        .map(r -> new String(r.key(), StandardCharsets.UTF_8)).toList();
  }

  /** Keys on the topic, of aborted and open transactions too; none while it does not exist. */
  private static List<String> uncommittedKeys(Devstack devstack, String topic) {
    return CommittedValues.includingUncommitted(devstack.bootstrapServers(), topic,
            new ByteArrayDeserializer(), new ByteArrayDeserializer()).stream()
        .map(r -> new String(r.key(), StandardCharsets.UTF_8)).toList();
  }

  private static double metric(KafkaStreams streams, String name) {
    return streams.metrics().entrySet().stream()
        .filter(e -> e.getKey().name().equals(name))
        .mapToDouble(e -> ((Number) e.getValue().metricValue()).doubleValue())
        .sum();
  }

  private static KafkaProducer<byte[], byte[]> producer(Devstack devstack) {
    return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
        devstack.bootstrapServers()), new ByteArraySerializer(), new ByteArraySerializer());
  }

  private static List<ConsumerRecord<byte[], byte[]>> read(Devstack devstack, String topic,
      int count) {
    return await().atMost(Duration.ofSeconds(60)).until(
        () -> CommittedValues.bytes(devstack.bootstrapServers(), topic),
        records -> records.size() >= count);
  }

  @Test
  void shouldAskTheBrokerForTheProcessorsReplicationFactorWhenItCreatesADlq(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given a processor whose properties ask for 2 replicas, on the single embedded broker (whose
    // default replication factor, 1, it could meet)
    Properties props = StreamsProps.builder(names.applicationId("dlq-replication"))
        .bootstrapServers(devstack.bootstrapServers()).replicationFactor(2).build();
    Map<String, Object> configs = new HashMap<>();
    props.forEach((k, v) -> configs.put(k.toString(), v));
    String topic = names.topic("replicated");

    // When it dead-letters a record of a topic whose dead-letter topic does not exist yet
    // Then the dead-letter topic is asked for with 2 replicas, which one broker cannot hold: the
    // dead letter is refused rather than written to a topic less replicated than asked
    assertThatThrownBy(() -> DeadLetters.from(configs).send(
            topic, 0, 0, 0, bytes("k"), bytes("v"), null, new IllegalArgumentException("bad")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("cannot write a dead letter to " + topic + ".dlq")
        .hasRootCauseInstanceOf(InvalidReplicationFactorException.class);
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", devstack.bootstrapServers()))) {
      assertThat(admin.listTopics().names().get()).doesNotContain(topic + ".dlq");
    }
  }

  private static String header(ConsumerRecord<?, ?> record, String name) {
    return new String(record.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Waits for RUNNING, failing at once on an error: Kafka Streams 4.x processes restored tasks
   * while the client still reports REBALANCING, so output may be read before RUNNING.
   */
  private static void awaitRunning(KafkaStreams streams) {
    await().atMost(Duration.ofSeconds(60))
        .failFast("the application stopped", () -> EnumSet.of(KafkaStreams.State.ERROR,
            KafkaStreams.State.PENDING_ERROR, KafkaStreams.State.PENDING_SHUTDOWN,
            KafkaStreams.State.NOT_RUNNING).contains(streams.state()))
        .until(() -> streams.state() == KafkaStreams.State.RUNNING);
  }
}
