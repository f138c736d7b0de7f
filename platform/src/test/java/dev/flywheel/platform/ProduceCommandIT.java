package dev.flywheel.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.ingest.source.SourceCatalog;
import dev.flywheel.ingest.source.SourceDefinition;
import dev.flywheel.serde.AvroSerdeConfig;
import dev.flywheel.serde.AvroSerdes;
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
    assertThat(err.toString()).contains("--allow-invalid");
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

  private Admin admin() {
    return Admin.create(Map.of(
        AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, devstack.bootstrapServers()));
  }
}
