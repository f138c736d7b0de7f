package dev.flywheel.ingest.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.CommittedValues;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.events.Label;
import dev.flywheel.ingest.metrics.IngestMetrics;
import dev.flywheel.serde.AvroSerdeConfig;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.DeadLetterHeaders;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
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

/** {@code flywheel produce labels --file F}: Label events from CSV and JSON Lines files. */
@WithDevstack
class FileProducerLabelsIT {

  @TempDir Path dir;

  private Devstack devstack;
  private Topics topics;
  private Admin admin;
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

  @BeforeEach
  void createLabelTopics(Devstack devstack, UniqueNames names) {
    this.devstack = devstack;
    AvroSerdes serdes = AvroSerdes.fromConfig(Map.of(
        AvroSerdeConfig.SCHEMA_REGISTRY_URL, devstack.schemaRegistryUrl()));
    topics = Topics.builder(serdes).prefix(names.prefix()).build();
    admin = Admin.create(Map.of(
        AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, devstack.bootstrapServers()));
    new TopicBootstrap(admin).ensure(List.of(topics.labels(), topics.dlq(topics.labels())));
    awaitLeadersServing(topics.labels().name());
    awaitLeadersServing(topics.dlq(topics.labels()).name());
  }

  @AfterEach
  void closeAdmin() {
    admin.close();
  }

  @Test
  void shouldProduceValidCsvLabelsKeyedByEventIdAndDeadLetterTheInvalidOnes()
      throws IOException {
    // Given a CSV file of labels: three good rows, two bad ones
    Path file = write("labels.csv", """
        event_id,event_time,value,target,entity_id,source
        tx-1,2026-11-20T10:00:00Z,1,is_fraud,card-9,chargebacks
        tx-2,1763632800000,0,is_fraud,,
        tx-3,2026-11-20T10:00:00Z,not-a-number,is_fraud,,
        tx-4,yesterday,1,is_fraud,,
        tx-5,2026-11-21T08:30:00Z,0.5,churn,card-1,manual-review
        """);

    // When the file producer produces it as labels
    FileProducerSummary summary = labels().produce(file);

    // Then the good rows are Label events on the labels topic, keyed by event_id
    assertThat(summary.topic()).isEqualTo(topics.labels().name());
    assertThat(summary.read()).isEqualTo(5);
    assertThat(summary.produced()).isEqualTo(3);
    assertThat(summary.invalid()).isEqualTo(2);
    List<ConsumerRecord<String, Label>> records = readAll(topics.labels());
    assertThat(records).extracting(ConsumerRecord::key)
        .containsExactlyInAnyOrder("tx-1", "tx-2", "tx-5");
    Label first = value(records, "tx-1");
    assertThat(first.getEventTime()).isEqualTo(Instant.parse("2026-11-20T10:00:00Z"));
    assertThat(first.getValue()).isEqualTo(1.0);
    assertThat(first.getTarget()).isEqualTo("is_fraud");
    assertThat(first.getEntityId()).isEqualTo("card-9");
    assertThat(first.getSource()).isEqualTo("chargebacks");
    assertThat(records).filteredOn(r -> r.key().equals("tx-1")).singleElement()
        .satisfies(r -> assertThat(r.timestamp()).isEqualTo(
            Instant.parse("2026-11-20T10:00:00Z").toEpochMilli()));

    // and a label that does not say where it came from is marked as from a file
    assertThat(value(records, "tx-2").getSource()).isEqualTo(FileProducer.FILE_LABEL_SOURCE);
    assertThat(value(records, "tx-5").getTarget()).isEqualTo("churn");

    // and the bad rows are on flywheel.labels.dlq with their file, line and reason
    List<ConsumerRecord<byte[], byte[]>> letters = new ArrayList<>(
        readAll(topics.dlq(topics.labels())));
    letters.sort(Comparator.comparingLong(r -> Long.parseLong(header(r, DeadLetterHeaders.LINE))));
    assertThat(letters).extracting(r -> header(r, DeadLetterHeaders.LINE))
        .containsExactly("4", "5");
    assertThat(letters).allSatisfy(r -> {
      assertThat(header(r, DeadLetterHeaders.FILE)).isEqualTo(file.toString());
      assertThat(header(r, DeadLetterHeaders.ORIGIN))
          .isEqualTo(file + ":" + header(r, DeadLetterHeaders.LINE));
      assertThat(header(r, DeadLetterHeaders.PROCESSOR)).isEqualTo(FileProducer.PROCESSOR);
    });
    assertThat(header(letters.get(0), DeadLetterHeaders.ERROR)).startsWith("value: ");
    assertThat(header(letters.get(1), DeadLetterHeaders.ERROR)).startsWith("event_time: ");
    assertThat(new String(letters.get(0).value(), StandardCharsets.UTF_8))
        .isEqualTo("tx-3,2026-11-20T10:00:00Z,not-a-number,is_fraud,,");
    assertThat(summary.invalidLines()).extracting(InvalidLine::lineNumber)
        .containsExactly(4L, 5L);

    // and the meters count them as labels from a file
    assertThat(meters.get(IngestMetrics.ACCEPTED).tags("source", "labels", "path", "file")
        .counter().count()).isEqualTo(3);
    assertThat(meters.get(IngestMetrics.REJECTED).tags("source", "labels", "path", "file")
        .counter().count()).isEqualTo(2);
    assertThat(meters.get(IngestMetrics.DLQ_WRITES).tags("source", "labels", "path", "file")
        .counter().count()).isEqualTo(2);
  }

  @Test
  void shouldProduceJsonLinesLabels() throws IOException {
    // Given a JSON Lines file of labels, one missing its value
    Path file = write("labels.jsonl", """
        {"event_id": "tx-7", "event_time": 1763632800000, "value": 1, "target": "is_fraud"}
        {"event_id": "tx-8", "event_time": 1763632800000}
        """);

    // When the file producer produces it as labels
    FileProducerSummary summary = labels().produce(file);

    // Then the valid label is on the topic and the other on the dead-letter topic
    assertThat(summary.produced()).isEqualTo(1);
    assertThat(summary.invalidLines()).singleElement()
        .satisfies(line -> assertThat(line.lineNumber()).isEqualTo(2));
    assertThat(readAll(topics.labels())).extracting(ConsumerRecord::key).containsExactly("tx-7");
    assertThat(readAll(topics.dlq(topics.labels()))).singleElement()
        .satisfies(r -> assertThat(header(r, DeadLetterHeaders.ERROR)).contains("value"));
  }

  private FileProducer labels() {
    return FileProducer.builder()
        .bootstrapServers(devstack.bootstrapServers())
        .topics(topics)
        .labels()
        .meterRegistry(meters)
        .build();
  }

  private static Label value(List<ConsumerRecord<String, Label>> records, String key) {
    return records.stream().filter(r -> r.key().equals(key)).findFirst().orElseThrow().value();
  }

  private Path write(String name, String content) throws IOException {
    return Files.writeString(dir.resolve(name), content, StandardCharsets.UTF_8);
  }

  private static String header(ConsumerRecord<?, ?> record, String name) {
    Header header = record.headers().lastHeader(name);
    return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
  }

  private void awaitLeadersServing(String topic) {
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    for (int p = 0; p < topics.partitions(); p++) {
      latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
    }
    await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
        .until(() -> admin.listOffsets(latest).all().get().size() == latest.size());
  }

  /** Every record of {@code topic} up to its end offsets, in partition then offset order. */
  private <K, V> List<ConsumerRecord<K, V>> readAll(Topic<K, V> topic) {
    return CommittedValues.records(devstack.bootstrapServers(), topic);
  }
}
