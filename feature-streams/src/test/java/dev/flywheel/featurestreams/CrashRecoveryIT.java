package dev.flywheel.featurestreams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.ChildProcesses;
import dev.flywheel.devstack.junit.CommittedValues;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.devstack.junit.WrittenRecords;
import dev.flywheel.events.FeatureVector;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The feature engine killed without close mid-stream ({@code FeatureStreamsMain} in a child JVM,
 * {@code destroyForcibly}), restarted on the same state folder and killed again, then run on an
 * empty one to the end: the feature log, read committed, holds exactly one vector per input
 * event, and every value, and the online store, equal the brute-force recomputation; so does the
 * online store of one more instance started on an empty folder (rebuilt from the restored state).
 */
@WithDevstack
class CrashRecoveryIT {

  private static final int EVENTS = 4000;
  private static final String GROUP = "card_activity";
  /** A member that is gone leaves the group after 6 s (the broker's minimum), not 45 s. */
  private static final Map<String, Object> FAST_GROUP =
      Map.of("session.timeout.ms", 6000, "heartbeat.interval.ms", 1500);

  @TempDir Path dir;

  @RegisterExtension final ChildProcesses children = new ChildProcesses();

  @Test
  void shouldWriteExactlyOneCorrectVectorPerEventAfterKillsAndRestarts(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given the transactions source, its topics, and 4000 transactions (a third out of order)
    AvroSerdes serdes = AvroSerdes.fromConfig(
        Map.of("schema.registry.url", devstack.schemaRegistryUrl()));
    Topics topics = Topics.builder(serdes).prefix(names.prefix()).build();
    Topic<String, GenericRecord> data = topics.data(TransactionSource.NAME);
    serdes.client().register(data.name() + "-value", TransactionSource.schema());
    // the generated events are weeks old: keep them past the catalogue's 7-day raw retention
    Topic<String, GenericRecord> keptData = new Topic<>(data.name(), data.keySerde(),
        data.valueSerde(), data.partitions(), data.replicationFactor(),
        Map.of("cleanup.policy", "delete", "retention.ms", "-1"));
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", devstack.bootstrapServers()))) {
      new TopicBootstrap(admin).ensure(List.of(keptData, topics.features(), topics.dlq(data)));
    }
    List<TransactionSource.Tx> txs = RandomizedCorrectnessTest.generate(4242L, EVENTS);
    // (sent in three parts: half now, a quarter while the processor is down after each kill, so
    // each restart has events left to process however fast the machine)
    produce(devstack, data, txs.subList(0, EVENTS / 2));
    Path config = dir.resolve("flywheel.yaml");
    Files.writeString(config, RandomizedCorrectnessTest.resource("/card_activity.yaml"));
    Path stateA = Files.createDirectories(dir.resolve("state-a"));
    String applicationId = names.applicationId("features");

    try (WrittenRecords progress = new WrittenRecords(devstack.bootstrapServers(),
        topics.features().name())) {
      // When the processor is killed without close an eighth of the way in
      Process first = child(devstack, names, applicationId, config, stateA, "first");
      await().atMost(Duration.ofMinutes(2)).until(() -> progress.count() >= EVENTS / 8);
      first.destroyForcibly().waitFor();
      long atFirstKill = progress.count();
      System.out.println("first run killed after " + atFirstKill + " vectors (uncommitted)");
      // and restarted on the same state folder after the next quarter arrived, and killed again
      // further on
      produce(devstack, data, txs.subList(EVENTS / 2, 3 * EVENTS / 4));
      Process second = child(devstack, names, applicationId, config, stateA, "second");
      await().atMost(Duration.ofMinutes(2))
          .until(() -> progress.count() >= atFirstKill + EVENTS / 8);
      second.destroyForcibly().waitFor();
      System.out.println("second run killed after " + progress.count() + " vectors");
      assertThat(committedVectors(devstack, topics.features()))
          .as("killed before the last quarter was sent")
          .hasSizeLessThanOrEqualTo(3 * EVENTS / 4);

      // and then, after the last quarter arrived, run on an empty state folder until it has
      // caught up
      produce(devstack, data, txs.subList(3 * EVENTS / 4, EVENTS));
      try (FeatureStreamsService third = FeatureStreamsService.builder()
          .config(FeatureStreamsConfig.load(config))
          .bootstrapServers(devstack.bootstrapServers())
          .schemaRegistryUrl(devstack.schemaRegistryUrl())
          .topicPrefix(names.prefix())
          .applicationId(applicationId)
          .stateDir(Files.createDirectories(dir.resolve("state-b")))
          .kafka(FAST_GROUP)
          .build()
          .start()) {
        await().atMost(Duration.ofMinutes(2))
            .until(() -> committedVectors(devstack, topics.features()).size() >= EVENTS);

        System.out.println("third run caught up");
        // Then the log holds exactly one vector per event, each equal to brute force
        List<FeatureVector> vectors = committedVectors(devstack, topics.features());
        assertThat(vectors).hasSize(EVENTS);
        Map<String, FeatureVector> byEvent = new HashMap<>();
        vectors.forEach(v -> byEvent.put(v.getEventId(), v));
        assertThat(byEvent).hasSize(EVENTS);
        FeatureGroupConfig group = FeatureStreamsConfig.load(config).group(GROUP);
        Map<String, List<TransactionSource.Tx>> history = new HashMap<>();
        List<String> mismatches = new ArrayList<>();
        for (TransactionSource.Tx tx : txs) {
          List<TransactionSource.Tx> h = history.computeIfAbsent(tx.card(), c -> new ArrayList<>());
          h.add(tx);
          FeatureVector v = byEvent.get(tx.eventId());
          assertThat(v).as(tx.eventId()).isNotNull();
          assertThat(v.getAsOf()).isEqualTo(Instant.ofEpochMilli(tx.timeMs()));
          RandomizedCorrectnessTest.compare(group, BruteForce.features(group, h, tx, tx.timeMs()),
              v, mismatches);
        }
        // and so does the online store, queried through Kafka Streams
        compareOnlineStore(third, group, history, mismatches);
        assertThat(mismatches).isEmpty();
      }

      // When yet another instance starts on an empty folder with no new events to process
      try (FeatureStreamsService fourth = FeatureStreamsService.builder()
          .config(FeatureStreamsConfig.load(config))
          .bootstrapServers(devstack.bootstrapServers())
          .schemaRegistryUrl(devstack.schemaRegistryUrl())
          .topicPrefix(names.prefix())
          .applicationId(applicationId)
          .stateDir(Files.createDirectories(dir.resolve("state-c")))
          .kafka(FAST_GROUP)
          .build()
          .start()) {
        assertThat(fourth.awaitRunning(Duration.ofMinutes(1))).isTrue();
        // Then its online store, rebuilt from the restored state, equals brute force too
        FeatureGroupConfig group = FeatureStreamsConfig.load(config).group(GROUP);
        Map<String, List<TransactionSource.Tx>> history = new HashMap<>();
        txs.forEach(tx -> history.computeIfAbsent(tx.card(), c -> new ArrayList<>()).add(tx));
        List<String> mismatches = new ArrayList<>();
        compareOnlineStore(fourth, group, history, mismatches);
        assertThat(mismatches).isEmpty();
      }
    }
  }

  private static void compareOnlineStore(FeatureStreamsService service, FeatureGroupConfig group,
      Map<String, List<TransactionSource.Tx>> history, List<String> mismatches) {
    KafkaStreams streams = service.kafkaStreams();
    ReadOnlyKeyValueStore<String, FeatureVector> online = await().atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> streams.store(StoreQueryParameters.fromNameAndType(
            FeatureTopology.onlineStoreName(GROUP), QueryableStoreTypes.keyValueStore())),
            store -> store != null);
    for (Map.Entry<String, List<TransactionSource.Tx>> e : history.entrySet()) {
      TransactionSource.Tx latest = e.getValue().get(0);
      for (TransactionSource.Tx tx : e.getValue()) {
        latest = tx.timeMs() >= latest.timeMs() ? tx : latest;
      }
      FeatureVector stored = online.get(e.getKey());
      assertThat(stored).as("online vector of %s", e.getKey()).isNotNull();
      assertThat(stored.getEventId()).isEqualTo(latest.eventId());
      RandomizedCorrectnessTest.compare(group,
          BruteForce.features(group, e.getValue(), latest, latest.timeMs()), stored, mismatches);
    }
  }

  private static void produce(Devstack devstack, Topic<String, GenericRecord> data,
      List<TransactionSource.Tx> txs) throws Exception {
    Map<String, Object> config = Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, devstack.bootstrapServers(),
        ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
        ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
    org.apache.avro.Schema schema = TransactionSource.schema();
    try (KafkaProducer<String, GenericRecord> producer = new KafkaProducer<>(config,
        data.keySerde().serializer(), data.valueSerde().serializer())) {
      // the topic was just created: send once every partition has a leader
      await().atMost(Duration.ofSeconds(30)).until(() -> producer.partitionsFor(data.name())
          .stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty()));
      List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
      for (TransactionSource.Tx tx : txs) {
        sent.add(producer.send(new ProducerRecord<>(data.name(), null, tx.timeMs(), tx.card(),
            tx.toRecord(schema))));
      }
      producer.flush();
      for (java.util.concurrent.Future<?> f : sent) {
        f.get();
      }
    }
  }

  /**
   * {@code FeatureStreamsMain} in a child JVM, polling small batches so a kill lands mid-way.
   */
  private Process child(Devstack devstack, UniqueNames names, String applicationId, Path config,
      Path stateDir, String label) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m",
        "-D" + FeatureStreamsMain.KAFKA_PROPERTY_PREFIX + "max.poll.records=50",
        // a killed member leaves the group after 6 s (the broker's minimum), not 45 s
        "-D" + FeatureStreamsMain.KAFKA_PROPERTY_PREFIX + "session.timeout.ms=6000",
        "-D" + FeatureStreamsMain.KAFKA_PROPERTY_PREFIX + "heartbeat.interval.ms=1500",
        "-cp", System.getProperty("java.class.path"),
        FeatureStreamsMain.class.getName(), config.toString());
    pb.environment().put("FLYWHEEL_BOOTSTRAP_SERVERS", devstack.bootstrapServers());
    pb.environment().put("FLYWHEEL_SCHEMA_REGISTRY_URL", devstack.schemaRegistryUrl());
    pb.environment().put("FLYWHEEL_TOPIC_PREFIX", names.prefix());
    pb.environment().put("FLYWHEEL_FEATURES_APPLICATION_ID", applicationId);
    pb.environment().put("FLYWHEEL_STATE_DIR", stateDir.toString());
    File log = Path.of(System.getProperty("java.io.tmpdir"), applicationId + "-"
        + ProcessHandle.current().pid() + "-" + label + ".log").toFile();
    pb.redirectErrorStream(true).redirectOutput(log);
    Process process = pb.start();
    children.add(process);
    System.out.println("feature-streams child " + label + " (pid " + process.pid() + ") logs to "
        + log);
    return process;
  }

  /** Every vector on the feature log that a read_committed consumer sees. */
  private static List<FeatureVector> committedVectors(Devstack devstack,
      Topic<String, FeatureVector> features) {
    return CommittedValues.of(devstack.bootstrapServers(), features);
  }
}
