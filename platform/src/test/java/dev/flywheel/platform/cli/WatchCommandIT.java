package dev.flywheel.platform.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.events.Label;
import dev.flywheel.platform.FlywheelCli;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.DeadLetterHeaders;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code flywheel watch} on the labels topic of a fresh catalogue, with good and bad records. */
@WithDevstack
class WatchCommandIT {

  private static final ObjectMapper JSON = new ObjectMapper();

  private Devstack devstack;
  private UniqueNames names;
  private Topics topics;
  private Topic<String, Label> labels;

  @BeforeEach
  void setUp(Devstack devstack, UniqueNames names) throws Exception {
    this.devstack = devstack;
    this.names = names;
    topics = Topics.builder(AvroSerdes.fromConfig(Map.of("schema.registry.url",
        devstack.schemaRegistryUrl()))).prefix(names.prefix()).build();
    labels = topics.labels();
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", devstack.bootstrapServers()))) {
      new TopicBootstrap(admin).ensure(List.of(labels));
    }
  }

  @Test
  void shouldPrintTombstonesAndBytesThatAreNotAvroWithoutStopping() throws Exception {
    // Given a label, a tombstone, plain text, bytes framed with an unknown schema id, binary that
    // is neither Avro nor UTF-8, and a label
    byte[] unknownId = ByteBuffer.allocate(7).put((byte) 0).putInt(987_654).put((byte) 2)
        .put((byte) 4).array();
    byte[] text = "not avro".getBytes(StandardCharsets.UTF_8);
    byte[] binary = {1, 2, 3, (byte) 0xfe, (byte) 0xff, 4};
    produce(List.of(
        record("e-1", label("e-1", 1.0)),
        record("e-2", null),
        record("e-3", text),
        record("e-4", unknownId),
        record("e-6", binary),
        record("e-5", label("e-5", 0.0))));

    // When
    Result result = watch("labels", "--from-beginning", "--no-follow");

    // Then every record is a line, in order, and the command ends normally
    assertThat(result.exit()).as(result.err()).isZero();
    List<JsonNode> lines = new ArrayList<>();
    for (String line : result.out().lines().toList()) {
      lines.add(JSON.readTree(line));
    }
    assertThat(lines).hasSize(6);
    assertThat(lines.get(0).get("value").get("event_id").asText()).isEqualTo("e-1");
    assertThat(lines.get(0).get("value").get("value").asDouble()).isEqualTo(1.0);
    assertThat(lines.get(1).get("value").isNull()).isTrue();
    assertThat(lines.get(1).get("tombstone").asBoolean()).isTrue();
    assertThat(lines.get(2).get("value").isNull()).isTrue();
    assertThat(lines.get(2).get("value_text").asText()).isEqualTo("not avro");
    assertThat(lines.get(2).has("value_base64")).isFalse();
    assertThat(lines.get(3).get("value_base64").asText())
        .isEqualTo(Base64.getEncoder().encodeToString(unknownId));
    assertThat(lines.get(3).get("value_note").asText())
        .startsWith("schema id 987654 could not be fetched from the registry");
    assertThat(lines.get(4).get("value").isNull()).isTrue();
    assertThat(lines.get(4).get("value_base64").asText())
        .isEqualTo(Base64.getEncoder().encodeToString(binary));
    assertThat(lines.get(4).get("value_note").asText())
        .isEqualTo("not Confluent-framed Avro: magic byte is 1, not 0");
    assertThat(lines.get(4).has("value_text")).isFalse();
    assertThat(lines.get(5).get("value").get("event_id").asText()).isEqualTo("e-5");
  }

  @Test
  void shouldFollowNewRecordsOfOneKeyUntilMax() throws Exception {
    // Given a watch of key e-7 that follows the topic from its end, stopping after two records
    produce(List.of(record("e-7", label("e-7", 0.0))));
    CompletableFuture<Result> watching = CompletableFuture.supplyAsync(
        () -> watch(labels.name(), "--key", "e-7", "--max", "2"));

    // When records of several keys arrive after it started
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      produce(List.of(record("e-8", label("e-8", 1.0)), record("e-7", label("e-7", 1.0))));
      return watching.isDone();
    });

    // Then it printed only e-7's new records, and stopped after two
    Result result = watching.get();
    assertThat(result.exit()).as(result.err()).isZero();
    List<String> lines = result.out().lines().toList();
    assertThat(lines).hasSize(2);
    for (String line : lines) {
      JsonNode json = JSON.readTree(line);
      assertThat(json.get("key").asText()).isEqualTo("e-7");
      assertThat(json.get("value").get("value").asDouble()).isEqualTo(1.0);
    }
  }

  @Test
  void shouldShowTheDeadLetterHeadersOfTheRecordsThatCarryThem() throws Exception {
    // Given on the labels' dead-letter topic a rejected label with its headers, and a record
    // without any
    String dlq = topics.dlq(labels).name();
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", devstack.bootstrapServers()))) {
      new TopicBootstrap(admin).ensure(List.of(topics.dlq(labels)));
    }
    Headers headers = DeadLetterHeaders.ofRecord("field value: missing", null, "flywheel-ingest",
        "labels", labels.name(), 0, 42L, 1_000L);
    headers.add(DeadLetterHeaders.LINE, "7".getBytes(StandardCharsets.UTF_8));
    byte[] text = "{\"event_id\": \"e-1\"}".getBytes(StandardCharsets.UTF_8);
    produce(List.of(
        new ProducerRecord<>(dlq, 0, null, "e-1".getBytes(StandardCharsets.UTF_8), text, headers),
        new ProducerRecord<>(dlq, 0, "e-2".getBytes(StandardCharsets.UTF_8), text)));

    // When the dead-letter topic is watched
    Result result = watch("labels.dlq", "--from-beginning", "--no-follow");

    // Then the first line shows the dead-letter headers, the second none, and both show the
    // rejected JSON as text
    assertThat(result.exit()).as(result.err()).isZero();
    List<JsonNode> lines = new ArrayList<>();
    for (String line : result.out().lines().toList()) {
      lines.add(JSON.readTree(line));
    }
    assertThat(lines).hasSize(2);
    assertThat(lines).allSatisfy(line -> {
      assertThat(line.get("value_text").asText()).isEqualTo("{\"event_id\": \"e-1\"}");
      assertThat(line.has("value_base64")).as(line.toString()).isFalse();
    });
    JsonNode deadLetter = lines.get(0).get("dead_letter");
    assertThat(deadLetter).as(lines.get(0).toString()).isNotNull();
    assertThat(deadLetter.get(DeadLetterHeaders.ERROR).asText()).isEqualTo("field value: missing");
    assertThat(deadLetter.get(DeadLetterHeaders.ORIGIN).asText())
        .isEqualTo(labels.name() + "/0/42");
    assertThat(deadLetter.get(DeadLetterHeaders.TOPIC).asText()).isEqualTo(labels.name());
    assertThat(deadLetter.get(DeadLetterHeaders.PARTITION).asText()).isEqualTo("0");
    assertThat(deadLetter.get(DeadLetterHeaders.OFFSET).asText()).isEqualTo("42");
    assertThat(deadLetter.get(DeadLetterHeaders.SOURCE).asText()).isEqualTo("labels");
    assertThat(deadLetter.get(DeadLetterHeaders.LINE).asText()).isEqualTo("7");
    assertThat(deadLetter.has(DeadLetterHeaders.ERROR_CLASS)).isFalse();
    assertThat(lines.get(1).has("dead_letter")).isFalse();
  }

  @Test
  void shouldNameTheFlywheelTopicsWhenTheTopicDoesNotExist() {
    Result result = watch("labelz", "--no-follow");

    assertThat(result.exit()).isEqualTo(WatchCommand.EXIT_NO_TOPIC);
    assertThat(result.err()).contains("no topic 'labelz'").contains(labels.name());
  }

  record Result(int exit, String out, String err) {}

  private Result watch(String... args) {
    List<String> all = new ArrayList<>(List.of("watch"));
    all.addAll(List.of(args));
    all.addAll(List.of("--prefix", names.prefix(), "--bootstrap-servers",
        devstack.bootstrapServers(), "--schema-registry-url", devstack.schemaRegistryUrl()));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = new CommandLine(new FlywheelCli()).setOut(new PrintWriter(out, true))
        .setErr(new PrintWriter(err, true)).execute(all.toArray(String[]::new));
    return new Result(exit, out.toString(), err.toString());
  }

  private byte[] label(String eventId, double value) {
    return labels.valueSerde().serializer().serialize(labels.name(), Label.newBuilder()
        .setEventId(eventId).setEventTime(Instant.parse("2026-11-23T10:00:00Z")).setValue(value)
        .build());
  }

  private ProducerRecord<byte[], byte[]> record(String key, byte[] value) {
    return new ProducerRecord<>(labels.name(), 0, key.getBytes(StandardCharsets.UTF_8), value);
  }

  private void produce(List<ProducerRecord<byte[], byte[]>> records) throws Exception {
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
        "bootstrap.servers", devstack.bootstrapServers(), "acks", "all"),
        new ByteArraySerializer(), new ByteArraySerializer())) {
      for (ProducerRecord<byte[], byte[]> r : records) {
        producer.send(r).get();
      }
    }
  }
}
