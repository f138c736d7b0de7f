package dev.flywheel.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.events.Label;
import dev.flywheel.ingest.file.FileProducer;
import dev.flywheel.ingest.source.SourceCatalog;
import dev.flywheel.ingest.source.SourceDefinition;
import dev.flywheel.serde.AvroSerdeConfig;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

@WithDevstack
class ProduceCommandIT {

  private static final Schema SCHEMA = new Schema.Parser().parse("""
      {"type": "record", "name": "Click", "namespace": "test.cli", "fields": [
        {"name": "user", "type": "string"},
        {"name": "count", "type": "int"},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}}
      ]}""");

  private static final String LINES = """
      {"user":"u1","count":1,"at":1700000000000}
      {"user":"u2","count":"many","at":1700000000001}
      {"user":"u3","count":3,"at":1700000000002}
      """;

  @TempDir Path dir;

  private Devstack devstack;
  private UniqueNames names;
  private Topics topics;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeEach
  void addSource(Devstack devstack, UniqueNames names) {
    this.devstack = devstack;
    this.names = names;
    AvroSerdes serdes = AvroSerdes.fromConfig(
        Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, devstack.schemaRegistryUrl()));
    topics = Topics.builder(serdes).prefix(names.prefix()).build();
    try (Admin admin = admin()) {
      new SourceCatalog(topics, serdes.client(), admin).add(SourceDefinition.builder("clicks")
          .schema(SCHEMA).keyField("user").timeField("at").build());
      awaitLeadersServing(admin, topics.data("clicks").name());
      awaitLeadersServing(admin, topics.dlq(topics.data("clicks")).name());
    }
  }

  /**
   * Waits until the broker serves every partition of a just-created topic (a partition can be in
   * the metadata before its leader accepts requests; an idempotent producer writing in that moment
   * may see NOT_LEADER_OR_FOLLOWER and then stall on sequence numbers).
   */
  private void awaitLeadersServing(Admin admin, String topic) {
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    for (int p = 0; p < topics.partitions(); p++) {
      latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
    }
    await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
        .until(() -> admin.listOffsets(latest).all().get().size() == latest.size());
  }

  @Test
  void shouldExitWithThreeAndListTheInvalidLinesWhenAnyLineIsInvalid() throws Exception {
    Path file = Files.writeString(dir.resolve("clicks.jsonl"), LINES);

    int exit = produce(file);

    assertThat(exit).isEqualTo(ProduceCommand.EXIT_INVALID);
    assertThat(out.toString())
        .contains("1 invalid line, sent to " + names.prefix() + ".flywheel.data.clicks.dlq")
        .contains("line 2: count: ")
        .contains("read 3, produced 2 to " + names.prefix() + ".flywheel.data.clicks, invalid 1");
    assertThat(err.toString()).contains("--allow-invalid")
        .contains("flywheel watch " + names.prefix() + ".flywheel.data.clicks.dlq")
        .contains("produce just those lines again").doesNotContain("produce them again from");
    assertThat(recordsOn(topics.data("clicks").name())).isEqualTo(2);
    assertThat(recordsOn(topics.dlq(topics.data("clicks")).name())).isEqualTo(1);
  }

  @Test
  void shouldExitWithZeroWhenInvalidLinesAreAllowed() throws Exception {
    Path file = Files.writeString(dir.resolve("clicks.jsonl"), LINES);

    int exit = produce(file, "--allow-invalid");

    assertThat(exit).isZero();
    assertThat(out.toString()).contains("line 2: count: ").contains("produced 2");
    assertThat(recordsOn(topics.dlq(topics.data("clicks")).name())).isEqualTo(1);
  }

  @Test
  void shouldExitWithZeroWhenEveryLineIsValid() throws Exception {
    Path file = Files.writeString(dir.resolve("clicks.csv"), """
        user,count,at
        u1,1,1700000000000
        u2,2,2023-11-14T22:13:20Z
        """);

    int exit = produce(file);

    assertThat(exit).isZero();
    assertThat(out.toString()).contains("read 2, produced 2").doesNotContain("invalid line");
    assertThat(recordsOn(topics.data("clicks").name())).isEqualTo(2);
  }

  @Test
  void shouldExitWithOneNamingTheSubjectForAnUnknownSource() throws IOException {
    Path file = Files.writeString(dir.resolve("clicks.jsonl"), LINES);

    int exit = new CommandLine(new FlywheelCli())
        .setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
        .execute("produce", "views", "--file", file.toString(), "--no-progress",
            "--bootstrap-servers", devstack.bootstrapServers(),
            "--schema-registry-url", devstack.schemaRegistryUrl(), "--prefix", names.prefix());

    assertThat(exit).isEqualTo(1);
    assertThat(err.toString()).contains("unknown source 'views'")
        .contains(names.prefix() + ".flywheel.data.views-value")
        .contains("flywheel sources add views");
  }

  @Test
  void shouldProduceLabelsToTheLabelsTopicWithTheLabelSchema() throws Exception {
    // Given the labels topic and its dead-letter topic, as 'flywheel up' and ingest create them,
    // and a CSV file of labels with one bad line
    try (Admin admin = admin()) {
      new TopicBootstrap(admin).ensure(List.of(topics.labels(), topics.dlq(topics.labels())));
      awaitLeadersServing(admin, topics.labels().name());
      awaitLeadersServing(admin, topics.dlq(topics.labels()).name());
    }
    Path file = Files.writeString(dir.resolve("labels.csv"), """
        event_id,event_time,value,target,entity_id
        tx-1,2026-11-20T10:00:00Z,1,is_fraud,card-9
        tx-2,2026-11-20T10:01:00Z,not-a-number,is_fraud,card-9
        tx-3,1763632800000,0,is_fraud,
        """);

    // When 'flywheel produce labels' produces it, as ingest/README.md documents
    int exit = new CommandLine(new FlywheelCli())
        .setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
        .execute("produce", "labels", "--file", file.toString(), "--no-progress",
            "--bootstrap-servers", devstack.bootstrapServers(),
            "--schema-registry-url", devstack.schemaRegistryUrl(), "--prefix", names.prefix());

    // Then the good lines are Label events on the labels topic, keyed by event_id, and the bad
    // one is on the labels' dead-letter topic, listed with its reason
    assertThat(err.toString()).doesNotContain("unknown source");
    assertThat(exit).as(err.toString()).isEqualTo(ProduceCommand.EXIT_INVALID);
    assertThat(out.toString())
        .contains("1 invalid line, sent to " + topics.dlq(topics.labels()).name())
        .contains("line 3: value: ")
        .contains("read 3, produced 2 to " + topics.labels().name());
    assertThat(recordsOn(topics.dlq(topics.labels()).name())).isEqualTo(1);
    Map<String, Label> labels = readLabels(2);
    assertThat(labels).containsOnlyKeys("tx-1", "tx-3");
    assertThat(labels.get("tx-1").getValue()).isEqualTo(1.0);
    assertThat(labels.get("tx-1").getEntityId()).isEqualTo("card-9");
    assertThat(labels.get("tx-3").getSource()).isEqualTo(FileProducer.FILE_LABEL_SOURCE);
  }

  @Test
  void shouldExitWithOneSayingWhatCreatesTheLabelsTopicWhenItIsMissing() throws IOException {
    // Given a cluster without the labels topic of this prefix
    Path file = Files.writeString(dir.resolve("labels.jsonl"),
        "{\"event_id\":\"tx-1\",\"event_time\":1763632800000,\"value\":1}\n");

    // When 'flywheel produce labels' runs against it
    int exit = new CommandLine(new FlywheelCli())
        .setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
        .execute("produce", "labels", "--file", file.toString(), "--no-progress",
            "--bootstrap-servers", devstack.bootstrapServers(),
            "--schema-registry-url", devstack.schemaRegistryUrl(),
            "--prefix", names.prefix() + "-empty");

    // Then it exits with 1 naming the topic and what creates it
    assertThat(exit).isEqualTo(1);
    assertThat(err.toString()).contains(names.prefix() + "-empty.flywheel.labels")
        .contains("flywheel up").contains("--prefix");
  }

  @Test
  void shouldExitWithOneNamingTheFormatsForAnUnknownExtension() throws IOException {
    Path file = Files.writeString(dir.resolve("clicks.json"), LINES);

    int exit = produce(file);

    assertThat(exit).isEqualTo(1);
    assertThat(err.toString()).contains(".jsonl or .ndjson").contains(".csv");
  }

  private int produce(Path file, String... more) {
    String[] base = {"produce", "clicks", "--file", file.toString(), "--no-progress",
        "--bootstrap-servers", devstack.bootstrapServers(),
        "--schema-registry-url", devstack.schemaRegistryUrl(), "--prefix", names.prefix()};
    String[] args = new String[base.length + more.length];
    System.arraycopy(base, 0, args, 0, base.length);
    System.arraycopy(more, 0, args, base.length, more.length);
    return new CommandLine(new FlywheelCli())
        .setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
        .execute(args);
  }

  private long recordsOn(String topic) throws Exception {
    try (Admin admin = admin()) {
      int partitions = admin.describeTopics(List.of(topic)).allTopicNames().get()
          .get(topic).partitions().size();
      Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
      for (int p = 0; p < partitions; p++) {
        latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
      }
      return admin.listOffsets(latest).all().get().values().stream()
          .mapToLong(info -> info.offset()).sum();
    }
  }

  private Map<String, Label> readLabels(int expected) {
    Map<String, Object> props = Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, devstack.bootstrapServers(),
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    Map<String, Label> labels = new HashMap<>();
    try (KafkaConsumer<String, Label> consumer = new KafkaConsumer<>(props,
        topics.labels().keySerde().deserializer(), topics.labels().valueSerde().deserializer())) {
      List<TopicPartition> partitions = consumer.partitionsFor(topics.labels().name()).stream()
          .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      await().atMost(Duration.ofSeconds(30)).until(() -> {
        consumer.poll(Duration.ofMillis(200)).forEach(r -> labels.put(r.key(), r.value()));
        return labels.size() >= expected;
      });
    }
    return labels;
  }

  private Admin admin() {
    return Admin.create(Map.of(
        AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, devstack.bootstrapServers()));
  }
}
