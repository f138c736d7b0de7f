package dev.flywheel.ingest.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.CommittedValues;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.ingest.source.SourceCatalog;
import dev.flywheel.ingest.source.SourceDefinition;
import dev.flywheel.serde.AvroSerdeConfig;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.DeadLetterHeaders;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.Topics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@WithDevstack
class FileProducerIT {

  static final Schema SCHEMA = new Schema.Parser().parse("""
      {"type": "record", "name": "CardTx", "namespace": "test.file", "fields": [
        {"name": "event_id", "type": "string"},
        {"name": "card_id", "type": "string"},
        {"name": "amount", "type": "double"},
        {"name": "note", "type": ["null", "string"], "default": null},
        {"name": "event_time", "type": {"type": "long", "logicalType": "timestamp-millis"}}
      ]}""");

  /** Three good lines, three bad ones and a blank line. */
  static final String JSON_LINES = """
      {"event_id":"e1","card_id":"c1","amount":10.5,"event_time":1700000000001}
      {"event_id":"e2","card_id":"c2","amount":3,"note":"hi","event_time":1700000000002}

      {"event_id":"e3","card_id":"c1","amount":"abc","event_time":1700000000003}
      {"event_id":"e4","card_id":
      {"event_id":"e5","card_id":"c1","amount":7.25,"event_time":"2023-11-14T22:13:20.005Z"}
      {"event_id":"e6","amount":1,"event_time":1700000000006,"colour":"red"}
      """;

  @TempDir Path dir;

  private Devstack devstack;
  private Topics topics;
  private Admin admin;
  private SourceDefinition source;

  @BeforeEach
  void addSource(Devstack devstack, UniqueNames names) {
    this.devstack = devstack;
    AvroSerdes serdes = AvroSerdes.fromConfig(Map.of(
        AvroSerdeConfig.SCHEMA_REGISTRY_URL, devstack.schemaRegistryUrl(),
        AvroSerdeConfig.AUTO_REGISTER_SCHEMAS, false));
    topics = Topics.builder(serdes)
        .prefix(names.prefix())
        .partitions(3)
        .build();
    admin = Admin.create(Map.of(
        AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, devstack.bootstrapServers()));
    SourceCatalog catalog = new SourceCatalog(topics, serdes.client(), admin);
    source = catalog.add(SourceDefinition.builder("card-tx").schema(SCHEMA).keyField("card_id")
        .timeField("event_time").build()).source();
    awaitLeadersServing(topics.data("card-tx").name());
    awaitLeadersServing(topics.dlq(topics.data("card-tx")).name());
  }

  /**
   * Waits until the broker serves every partition of a just-created topic (a partition can be in
   * the metadata before its leader accepts requests; an idempotent producer writing in that moment
   * may see NOT_LEADER_OR_FOLLOWER and then stall on sequence numbers).
   */
  private void awaitLeadersServing(String topic) {
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    for (int p = 0; p < topics.partitions(); p++) {
      latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
    }
    await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
        .until(() -> admin.listOffsets(latest).all().get().size() == latest.size());
  }

  @AfterEach
  void closeAdmin() {
    admin.close();
  }

  @Test
  void shouldProduceValidLinesKeyedByTheKeyFieldWithTheEventTimeInFileOrder() throws IOException {
    Path file = write("events.jsonl", JSON_LINES);

    producer().produce(file);

    List<ConsumerRecord<String, GenericRecord>> records = readAll(topics.data("card-tx"));
    assertThat(records).extracting(r -> r.value().get("event_id").toString())
        .containsExactlyInAnyOrder("e1", "e2", "e5");
    assertThat(records).allSatisfy(r -> {
      assertThat(r.key()).isEqualTo(r.value().get("card_id").toString());
      assertThat(r.timestamp()).isEqualTo(r.value().get("event_time"));
    });
    assertThat(records).filteredOn(r -> r.key().equals("c1"))
        .extracting(r -> r.value().get("event_id").toString()).containsExactly("e1", "e5");
    GenericRecord e2 = records.stream()
        .filter(r -> r.key().equals("c2")).findFirst().orElseThrow().value();
    assertThat(e2.get("amount")).isEqualTo(3.0);
    assertThat(e2.get("note").toString()).isEqualTo("hi");
    assertThat(e2.get("event_time")).isEqualTo(1_700_000_000_002L);
  }

  @Test
  void shouldSendInvalidLinesToTheDeadLetterTopicWithLineNumbersAndReasons() throws IOException {
    Path file = write("events.jsonl", JSON_LINES);

    producer().produce(file);

    List<ConsumerRecord<byte[], byte[]>> letters = new ArrayList<>(
        readAll(topics.dlq(topics.data("card-tx"))));
    letters.sort(Comparator.comparingLong(r -> Long.parseLong(header(r, DeadLetterHeaders.LINE))));
    assertThat(letters).extracting(r -> header(r, DeadLetterHeaders.LINE))
        .containsExactly("4", "5", "7");
    List<String> lines = JSON_LINES.lines().toList();
    assertThat(letters).extracting(r -> new String(r.value(), StandardCharsets.UTF_8))
        .containsExactly(lines.get(3), lines.get(4), lines.get(6));
    assertThat(letters).allSatisfy(r -> {
      assertThat(header(r, DeadLetterHeaders.FILE)).isEqualTo(file.toString());
      assertThat(header(r, DeadLetterHeaders.SOURCE)).isEqualTo("card-tx");
      assertThat(header(r, DeadLetterHeaders.ORIGIN))
          .isEqualTo(file + ":" + header(r, DeadLetterHeaders.LINE));
      assertThat(header(r, DeadLetterHeaders.FAILED_AT)).isNotBlank();
    });
    assertThat(header(letters.get(0), DeadLetterHeaders.ERROR)).startsWith("amount: ");
    assertThat(header(letters.get(1), DeadLetterHeaders.ERROR)).startsWith("$: not valid JSON");
    assertThat(header(letters.get(2), DeadLetterHeaders.ERROR))
        .contains("card_id: ").contains("colour: ");
  }

  @Test
  void shouldSummarizeWhatWasReadProducedAndRejected() throws IOException {
    Path file = write("events.jsonl", JSON_LINES);

    FileProducerSummary summary = producer().produce(file);

    assertThat(summary.read()).isEqualTo(6);
    assertThat(summary.produced()).isEqualTo(3);
    assertThat(summary.invalid()).isEqualTo(3);
    assertThat(summary.deadLettered()).isEqualTo(3);
    assertThat(summary.failed()).isZero();
    assertThat(summary.stopped()).isFalse();
    assertThat(summary.complete()).isFalse();
    assertThat(summary.topic()).isEqualTo(topics.data("card-tx").name());
    assertThat(summary.lastLine()).isEqualTo(7);
    assertThat(summary.invalidLines()).extracting(InvalidLine::lineNumber)
        .containsExactly(4L, 5L, 7L);
    assertThat(summary.invalidLines().get(2).errors())
        .extracting(e -> e.field()).contains("card_id", "colour");
    assertThat(summary.elapsed()).isPositive();
  }

  @Test
  void shouldDeadLetterARecordTooLargeForTheProducerAndProduceTheRest() throws IOException {
    // Given a file whose second line becomes a 20 KB record, and a producer taking at most 10 KB
    String big = "x".repeat(20_000);
    Path file = write("big.jsonl", """
        {"event_id":"e1","card_id":"c1","amount":1,"event_time":1700000000001}
        {"event_id":"e2","card_id":"c2","amount":2,"note":"%s","event_time":1700000000002}
        {"event_id":"e3","card_id":"c3","amount":3,"event_time":1700000000003}
        """.formatted(big));

    // When it is produced
    FileProducerSummary summary = builder()
        .producerConfig(Map.of("max.request.size", 10_000)).build().produce(file);

    // Then the run goes on past it: the others are produced, and it is an invalid line whose
    // dead letter says why and what to change, cut to fit
    assertThat(summary.failed()).isZero();
    assertThat(summary.failure()).isNull();
    assertThat(summary.produced()).isEqualTo(2);
    assertThat(summary.invalidLines()).extracting(InvalidLine::lineNumber).containsExactly(2L);
    assertThat(readAll(topics.data("card-tx"))).hasSize(2);
    List<ConsumerRecord<byte[], byte[]>> letters = readAll(topics.dlq(topics.data("card-tx")));
    assertThat(letters).hasSize(1);
    assertThat(header(letters.get(0), DeadLetterHeaders.ERROR))
        .contains("over the 10000 bytes the producer accepts (max.request.size)");
    assertThat(header(letters.get(0), DeadLetterHeaders.VALUE_TRUNCATED)).isEqualTo("true");
  }

  @Test
  void shouldDeadLetterAnEventTimeTooFarAheadForTheBrokerAndProduceTheRest() throws IOException {
    // Given a file whose second line has an event time 30 days ahead, past the broker's
    // message.timestamp.after.max.ms (1 hour by default), among lines of the same card
    long future = Instant.now().plus(Duration.ofDays(30)).toEpochMilli();
    Path file = write("future.jsonl", """
        {"event_id":"e1","card_id":"c1","amount":1,"event_time":1700000000001}
        {"event_id":"e2","card_id":"c1","amount":2,"event_time":%d}
        {"event_id":"e3","card_id":"c1","amount":3,"event_time":1700000000003}
        """.formatted(future));

    // When it is produced
    FileProducerSummary summary = producer().produce(file);

    // Then the run goes on past it: the others are produced, and it is an invalid line whose
    // dead letter names its event time and the topic setting
    assertThat(summary.failure()).isNull();
    assertThat(summary.failed()).isZero();
    assertThat(summary.produced()).isEqualTo(2);
    assertThat(summary.invalid()).isEqualTo(1);
    assertThat(summary.invalidLines()).extracting(InvalidLine::lineNumber).containsExactly(2L);
    assertThat(readAll(topics.data("card-tx"))).extracting(r -> r.value().get("event_id")
        .toString()).containsExactlyInAnyOrder("e1", "e3");
    List<ConsumerRecord<byte[], byte[]>> letters = readAll(topics.dlq(topics.data("card-tx")));
    assertThat(letters).singleElement().satisfies(letter -> {
      assertThat(header(letter, DeadLetterHeaders.LINE)).isEqualTo("2");
      assertThat(header(letter, DeadLetterHeaders.ERROR))
          .contains("event_time: Kafka refused the event time "
              + Instant.ofEpochMilli(future))
          .contains("message.timestamp.after.max.ms");
    });
  }

  @Test
  void shouldKeepFileOrderPerKeyAroundAnEventTimeTheBrokerRefuses() throws IOException {
    // Given a file of 6,000 events of one card, more than one batch, whose second line has an
    // event time 30 days ahead: the broker refuses that line's batch while the lines after it
    // wait in the batches behind
    long future = Instant.now().plus(Duration.ofDays(30)).toEpochMilli();
    int lines = 6_000;
    Path file = write("one-card.jsonl", IntStream.rangeClosed(1, lines)
        .mapToObj(i -> "{\"event_id\":\"e" + i + "\",\"card_id\":\"c1\",\"amount\":" + i
            + ",\"event_time\":" + (i == 2 ? future : 1_700_000_000_000L + i) + "}")
        .collect(Collectors.joining("\n")));

    // When it is produced
    FileProducerSummary summary = producer().produce(file);

    // Then that line is dead-lettered and every other one is on the topic once, in file order
    assertThat(summary.failure()).isNull();
    assertThat(summary.invalidLines()).extracting(InvalidLine::lineNumber).containsExactly(2L);
    assertThat(summary.produced()).isEqualTo(lines - 1);
    assertThat(readAll(topics.data("card-tx")))
        .extracting(r -> r.value().get("event_id").toString())
        .containsExactlyElementsOf(IntStream.rangeClosed(1, lines).filter(i -> i != 2)
            .mapToObj(i -> "e" + i).toList());
  }

  @Test
  void shouldProduceCsvRowsTypedByTheSchema() throws IOException {
    Path file = write("events.csv", """
        event_id,card_id,amount,note,event_time
        e1,c1,10.5,"with, comma",1700000000001
        e2,c2,twelve,,1700000000002
        e3,c3,4,,2023-11-14T22:13:20.003Z
        e4,c4
        """);

    FileProducerSummary summary = producer().produce(file);

    assertThat(summary.produced()).isEqualTo(2);
    assertThat(summary.invalidLines()).extracting(InvalidLine::lineNumber)
        .containsExactly(3L, 5L);
    assertThat(summary.invalidLines().get(0).errors()).extracting(e -> e.field())
        .containsExactly("amount");
    List<ConsumerRecord<String, GenericRecord>> records = readAll(topics.data("card-tx"));
    GenericRecord e1 = records.stream()
        .filter(r -> r.key().equals("c1")).findFirst().orElseThrow().value();
    assertThat(e1.get("note").toString()).isEqualTo("with, comma");
    assertThat(e1.get("amount")).isEqualTo(10.5);
    GenericRecord e3 = records.stream()
        .filter(r -> r.key().equals("c3")).findFirst().orElseThrow().value();
    assertThat(e3.get("note")).isNull();
    assertThat(e3.get("event_time")).isEqualTo(1_700_000_000_003L);
  }

  @Test
  void shouldStopReadingAndFlushWhatItSentWhenStopped() throws IOException {
    int lines = 3 * FileProducer.PROGRESS_INTERVAL_RECORDS;
    Path file = write("many.jsonl", IntStream.range(0, lines)
        .mapToObj(i -> "{\"event_id\":\"e" + i + "\",\"card_id\":\"c" + (i % 10)
            + "\",\"amount\":1,\"event_time\":" + (1_700_000_000_000L + i) + "}")
        .collect(Collectors.joining("\n")));
    List<ProgressListener.Progress> seen = new ArrayList<>();
    FileProducer[] producer = new FileProducer[1];
    producer[0] = builder().progress(p -> {
      seen.add(p);
      producer[0].stop();
    }).build();

    FileProducerSummary summary = producer[0].produce(file);

    assertThat(summary.stopped()).isTrue();
    assertThat(summary.read()).isEqualTo(FileProducer.PROGRESS_INTERVAL_RECORDS);
    assertThat(summary.lastLine()).isEqualTo(FileProducer.PROGRESS_INTERVAL_RECORDS);
    assertThat(summary.describe()).contains("stopped after the record on line "
        + FileProducer.PROGRESS_INTERVAL_RECORDS);
    assertThat(summary.produced()).isEqualTo(summary.read());
    assertThat(readAll(topics.data("card-tx"))).hasSize(FileProducer.PROGRESS_INTERVAL_RECORDS);
    assertThat(seen.get(0).fileBytes()).isEqualTo(Files.size(file));
    assertThat(seen.get(0).bytesRead()).isPositive();
  }

  @Test
  void shouldRefuseACsvFileWithoutHeaderAndProduceNothing() throws IOException {
    Path file = write("empty.csv", "\n\n");

    assertThatThrownBy(() -> producer().produce(file))
        .isInstanceOf(MalformedFileException.class)
        .hasMessageContaining("header naming the columns");
    assertThat(readAll(topics.data("card-tx"))).isEmpty();
  }

  private FileProducer producer() {
    return builder().build();
  }

  private FileProducer.Builder builder() {
    return FileProducer.builder()
        .bootstrapServers(devstack.bootstrapServers())
        .topics(topics)
        .source(source);
  }

  private Path write(String name, String content) throws IOException {
    return Files.writeString(dir.resolve(name), content, StandardCharsets.UTF_8);
  }

  private static String header(ConsumerRecord<?, ?> record, String name) {
    Header header = record.headers().lastHeader(name);
    return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
  }

  /** Every record of {@code topic} up to its end offsets, in partition then offset order. */
  private <K, V> List<ConsumerRecord<K, V>> readAll(Topic<K, V> topic) {
    return CommittedValues.records(devstack.bootstrapServers(), topic);
  }
}
