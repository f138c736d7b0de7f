package dev.flywheel.ingest.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.CommittedValues;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.ingest.IngestConfig;
import dev.flywheel.ingest.metrics.IngestMetrics;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.DeadLetterHeaders;
import dev.flywheel.topics.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A batch of {@code POST /ingest/{source}} is written all or nothing; a record too large for its
 * topic is refused before the batch is sent when ingest knows the topic's limit, and by the
 * broker, aborting the batch, when the limit was lowered since ingest read it.
 */
@WithDevstack
class IngestAtomicBatchIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_MESSAGE_BYTES = 2048;
  /** The key of the batch written before a limit is lowered. */
  private static final String FIRST = "first";
  private static final String SCHEMA = """
      {"type": "record", "name": "Blob", "namespace": "it", "fields": [
        {"name": "id", "type": "string"},
        {"name": "event_time", "type": "long"},
        {"name": "payload", "type": "string"}]}""".replace("\n", " ");

  private Devstack devstack;
  private Topics topics;
  private IngestService ingest;
  private AvroSerdes serdes;
  private UniqueNames names;
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

  @BeforeEach
  void startIngest(Devstack devstack, UniqueNames names) {
    this.devstack = devstack;
    this.names = names;
    serdes = AvroSerdes.fromConfig(
        Map.of("schema.registry.url", devstack.schemaRegistryUrl()));
    topics = Topics.builder(serdes).prefix(names.prefix()).build();
    ingest = IngestService.builder()
        .config(IngestConfig.parse("""
            sources: [{name: blobs, schema: '%s', key: id, time: event_time}]
            ingest: {port: 0, producers: 2}
            """.formatted(SCHEMA)))
        .configDir(Path.of("."))
        .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers()))
        .serdes(serdes)
        .topics(topics)
        .host("127.0.0.1")
        .produceTimeout(Duration.ofSeconds(10))
        .meterRegistry(meters)
        .build()
        .start();
  }

  @AfterEach
  void stopIngest() {
    if (ingest != null) {
      ingest.close();
    }
  }

  @Test
  void shouldLeaveNothingVisibleWhenABatchFailsPartWay() throws Exception {
    // Given a source topic whose broker refuses records over 2 KiB, a limit lowered after ingest
    // read it (the broker's default) for a first batch, so ingest sends a record over it
    String topic = topics.data("blobs").name();
    learnTheDefaultLimitThenLowerIt(topic);

    // When a batch of small records holds one record the broker refuses
    List<String> records = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      records.add(blob("k-" + i, i == 13 ? incompressible(8 * MAX_MESSAGE_BYTES) : "small"));
    }
    HttpResponse<String> response = post("[" + String.join(",", records) + "]");

    // Then the answer is a 422 (a retry of the batch could never succeed) that says none of the
    // batch was written
    assertThat(response.statusCode()).as(response.body()).isEqualTo(422);
    assertThat(JSON.readTree(response.body()).get("error").asText())
        .contains("nothing was written");
    // naming only the record too large, not those the producer failed with it
    assertThat(JSON.readTree(response.body()).get("errors"))
        .extracting(error -> error.get("index").asInt()).containsExactly(13);

    // and records of the batch did reach the log, so the batch failed part way
    assertThat(readUncommitted(topic)).extracting(ConsumerRecord::key)
        .anyMatch(key -> key.startsWith("k-"));

    // but a read_committed consumer sees none of them
    assertThat(readCommitted(topic)).extracting(ConsumerRecord::key).containsExactly(FIRST);

    // When a valid batch follows
    HttpResponse<String> next = post("[" + blob("ok-1", "small") + "," + blob("ok-2", "small")
        + "]");

    // Then it is written and is all a read_committed consumer sees
    // (within moments: the broker acknowledges a commit before its markers are written)
    assertThat(next.statusCode()).as(next.body()).isEqualTo(202);
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(readCommitted(topic))
        .extracting(ConsumerRecord::key).containsExactlyInAnyOrder(FIRST, "ok-1", "ok-2"));
  }

  @Test
  void shouldAnswer422NamingARecordTheBrokerRefusesAsTooLargeAndKeepIt() throws Exception {
    // Given a source topic whose max.message.bytes was lowered to 2 KiB after ingest read it (the
    // broker's default) for a first batch, so a larger record passes ingest's own size checks
    String topic = topics.data("blobs").name();
    learnTheDefaultLimitThenLowerIt(topic);

    // When a batch holds one record of about 8 KiB between two small ones
    String large = blob("big", incompressible(4 * MAX_MESSAGE_BYTES));
    HttpResponse<String> response = post("[" + blob("a", "small") + "," + large + ","
        + blob("b", "small") + "]");

    // Then it is a 422, not a 503 that the caller would retry for ever, naming the record, its
    // size, the topic and the topic's limit to raise
    assertThat(response.statusCode()).as(response.body()).isEqualTo(422);
    JsonNode answer = JSON.readTree(response.body());
    assertThat(answer.get("error").asText()).contains("1 of 3").contains(topic)
        .contains("nothing was written");
    assertThat(answer.get("errors")).hasSize(1);
    JsonNode error = answer.get("errors").get(0);
    assertThat(error.get("index").asInt()).isEqualTo(1);
    assertThat(error.get("field").asText()).isEqualTo("$");
    assertThat(error.get("reason").asText()).contains("Kafka refused the record")
        .containsPattern("record of 8\\d{3} bytes")
        .contains("max.message.bytes of topic " + topic + " (now " + MAX_MESSAGE_BYTES + " bytes)");

    // and the refused record is kept on the dead-letter topic with that reason, and nothing of
    // the batch is visible
    assertThat(answer.get("deadLettered").asInt()).isEqualTo(1);
    String dlq = topics.dlq(topics.data("blobs")).name();
    assertThat(answer.get("deadLetterTopic").asText()).isEqualTo(dlq);
    List<ConsumerRecord<String, byte[]>> kept = readCommitted(dlq);
    assertThat(kept).singleElement().satisfies(r -> {
      assertThat(JSON.readTree(r.value()).get("id").asText()).isEqualTo("big");
      assertThat(header(r, DeadLetterHeaders.ORIGIN)).endsWith("#1");
      assertThat(header(r, DeadLetterHeaders.ERROR)).contains("max.message.bytes");
    });
    assertThat(readCommitted(topic)).extracting(ConsumerRecord::key).containsExactly(FIRST);
  }

  @Test
  void shouldRefuseARecordOverTheTopicsLimitBeforeSendingAnyOfTheBatchAndTakeItOnceRaised()
      throws Exception {
    // Given a source topic whose max.message.bytes is 2 KiB
    String topic = topics.data("blobs").name();
    setMaxMessageBytes(topic, MAX_MESSAGE_BYTES);

    // When a batch holds a record of about 8 KiB that does not compress between two small ones
    String batch = "[" + blob("a", "small") + ","
        + blob("big", incompressible(4 * MAX_MESSAGE_BYTES)) + "," + blob("b", "small") + "]";
    HttpResponse<String> response = post(batch);

    // Then it is a 422 naming the record, its size as the record batch the broker would check,
    // the topic and the topic's limit to raise
    assertThat(response.statusCode()).as(response.body()).isEqualTo(422);
    JsonNode answer = JSON.readTree(response.body());
    assertThat(answer.get("error").asText()).contains("1 of 3").contains(topic)
        .contains("nothing was written");
    assertThat(answer.get("errors")).hasSize(1);
    JsonNode error = answer.get("errors").get(0);
    assertThat(error.get("index").asInt()).isEqualTo(1);
    assertThat(error.get("field").asText()).isEqualTo("$");
    assertThat(error.get("reason").asText()).containsPattern("record of 8\\d{3} bytes")
        .contains("max.message.bytes of topic " + topic + " (now " + MAX_MESSAGE_BYTES + " bytes)");

    // and the record is kept on the dead-letter topic as one the broker refused is
    assertThat(answer.get("deadLettered").asInt()).isEqualTo(1);
    String dlq = topics.dlq(topics.data("blobs")).name();
    assertThat(readCommitted(dlq)).singleElement().satisfies(r -> {
      assertThat(JSON.readTree(r.value()).get("id").asText()).isEqualTo("big");
      assertThat(header(r, DeadLetterHeaders.ORIGIN)).endsWith("#1");
      assertThat(header(r, DeadLetterHeaders.ERROR)).contains("max.message.bytes");
      assertThat(header(r, DeadLetterHeaders.ERROR_CLASS))
          .isEqualTo(RecordTooLargeException.class.getName());
    });

    // and the broker was not asked to write any of the batch: the topic's log holds neither a
    // record nor the marker an aborted transaction leaves on each partition it wrote to
    assertThat(endOffsets(topic)).isNotEmpty().allSatisfy((partition, end) -> assertThat(end)
        .as("end offset of partition %d", partition).isZero());

    // When the topic's limit is raised to the size the answer named and the batch is sent again
    setMaxMessageBytes(topic, namedSize(error));
    HttpResponse<String> again = post(batch);

    // Then it is written whole: the raised limit was read at once, not the cached 2 KiB, and the
    // size named is enough for the broker
    assertThat(again.statusCode()).as(again.body()).isEqualTo(202);
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(readCommitted(topic))
        .extracting(ConsumerRecord::key).containsExactlyInAnyOrder("a", "big", "b"));
  }

  @Test
  void shouldRefuseBeforeSendingExactlyWhatTheBrokerRefusesAndLearnALimitLoweredMeanwhile()
      throws Exception {
    // Given ingest has read a topic limit of exactly the size of a record's batch: the size a 422
    // named, the limit raised to it, and the record written. The record, of about 68 KiB that
    // does not compress, takes two lz4 blocks, so its batch as sent is a few bytes larger than
    // its size before compression
    String topic = topics.data("blobs").name();
    setMaxMessageBytes(topic, MAX_MESSAGE_BYTES);
    String batch = "[" + blob("big", incompressible(34 * MAX_MESSAGE_BYTES)) + "]";
    HttpResponse<String> refused = post(batch);
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(422);
    int size = namedSize(JSON.readTree(refused.body()).get("errors").get(0));
    setMaxMessageBytes(topic, size);
    HttpResponse<String> written = post(batch);
    assertThat(written.statusCode()).as(written.body()).isEqualTo(202);

    // When the limit is lowered by one byte, which ingest does not know yet, and the record sent
    // again
    setMaxMessageBytes(topic, size - 1);
    Map<Integer, Long> before = endOffsets(topic);
    HttpResponse<String> byBroker = post(batch);

    // Then the broker refuses it: what ingest measures is what the broker checks, to the byte;
    // and the answer names the size to raise the limit to as the broker counts it
    assertThat(byBroker.statusCode()).as(byBroker.body()).isEqualTo(422);
    assertThat(JSON.readTree(byBroker.body()).get("errors").get(0).get("reason").asText())
        .contains("Kafka refused the record of " + size + " bytes")
        .contains("(now " + (size - 1) + " bytes) to at least " + size);
    Map<Integer, Long> afterBroker = endOffsets(topic);
    assertThat(afterBroker).isNotEqualTo(before);

    // When it is sent once more
    HttpResponse<String> byIngest = post(batch);

    // Then ingest refuses it without asking the broker: the broker's refusal made it read the
    // lowered limit again
    assertThat(byIngest.statusCode()).as(byIngest.body()).isEqualTo(422);
    assertThat(JSON.readTree(byIngest.body()).get("errors").get(0).get("reason").asText())
        .doesNotContain("Kafka refused").contains("record of " + size + " bytes")
        .contains("(now " + (size - 1) + " bytes)");
    assertThat(endOffsets(topic)).isEqualTo(afterBroker);
  }

  @Test
  void shouldWriteARecordLargerThanTheTopicsLimitThatCompressesBelowIt() throws Exception {
    // Given a source topic whose max.message.bytes is 2 KiB
    String topic = topics.data("blobs").name();
    setMaxMessageBytes(topic, MAX_MESSAGE_BYTES);

    // When a record of 8 KiB that compresses well is sent (ingest's producers use lz4, and the
    // broker checks the compressed batch)
    HttpResponse<String> response = post("[" + blob("repetitive",
        "x".repeat(4 * MAX_MESSAGE_BYTES)) + "]");

    // Then it is written
    assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(readCommitted(topic))
        .extracting(ConsumerRecord::key).containsExactly("repetitive"));
  }

  @Test
  void shouldAbortTheOpenBatchOfAKilledInstanceWhenItRestarts() throws Exception {
    // Given an instance killed while writing a batch: its producer (transactional.id
    // <prefix>-0) sent records in a transaction and was never closed, committed or aborted
    ingest.close();
    String prefix = "crash-" + names.prefix();
    String topic = topics.data("blobs").name();
    KafkaProducer<byte[], byte[]> killed = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, devstack.bootstrapServers(),
        ProducerConfig.TRANSACTIONAL_ID_CONFIG, prefix + "-0"),
        new ByteArraySerializer(), new ByteArraySerializer());
    try {
      killed.initTransactions();
      killed.beginTransaction();
      for (int p = 0; p < topics.partitions(); p++) {
        killed.send(new ProducerRecord<>(topic, p, "half".getBytes(), "written".getBytes()));
      }
      killed.flush();
      assertThat(readUncommitted(topic)).hasSize(topics.partitions());

      // When ingest restarts with the same transactional ids and takes a batch
      ingest = IngestService.builder()
          .config(IngestConfig.parse("""
              sources: [{name: blobs, schema: '%s', key: id, time: event_time}]
              ingest: {port: 0, producers: 1, transactionalIdPrefix: %s}
              """.formatted(SCHEMA, prefix)))
          .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers()))
          .serdes(serdes)
          .topics(topics)
          .host("127.0.0.1")
          .build()
          .start();
      HttpResponse<String> response = post("[" + blob("after-1", "x") + "]");

      // Then the new batch is visible to read_committed consumers at once (the killed
      // instance's open transaction, which its 60 s timeout would end, no longer holds them
      // back; "at once" allows the moments the broker takes to write the commit's markers) and
      // the half batch never is
      assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(readCommitted(topic))
          .extracting(ConsumerRecord::key).containsExactly("after-1"));
    } finally {
      killed.close(Duration.ZERO);
    }
  }

  @Test
  void shouldCountAcceptedRejectedAndDeadLetteredRecordsAndTimeRequests() throws Exception {
    // Given a running service with its own meter registry
    // When a valid batch of two and a batch with one invalid record of three are posted
    assertThat(post("[" + blob("a", "x") + "," + blob("b", "y") + "]").statusCode())
        .isEqualTo(202);
    assertThat(post("[" + blob("c", "x") + ", {\"id\": \"d\"}, " + blob("e", "x") + "]")
        .statusCode()).isEqualTo(422);

    // Then the counters say what happened, tagged by source and path
    assertThat(meters.get(IngestMetrics.ACCEPTED).tags("source", "blobs", "path", "http")
        .counter().count()).isEqualTo(2);
    assertThat(meters.get(IngestMetrics.REJECTED).tags("source", "blobs", "path", "http")
        .counter().count()).isEqualTo(1);
    assertThat(meters.get(IngestMetrics.DLQ_WRITES).tags("source", "blobs", "path", "http")
        .counter().count()).isEqualTo(1);

    // and each request is timed by route, method and status
    assertThat(meters.get(IngestMetrics.HTTP_REQUESTS)
        .tags("route", "/ingest/{source}", "method", "POST", "status", "202").timer().count())
        .isEqualTo(1);
    assertThat(meters.get(IngestMetrics.HTTP_REQUESTS)
        .tags("route", "/ingest/{source}", "method", "POST", "status", "422").timer().count())
        .isEqualTo(1);
    // and the producers' own Kafka client metrics are on the same registry
    assertThat(meters.find("kafka.producer.record.send.total").tag("service", "ingest").meters())
        .isNotEmpty();
  }

  /**
   * Writes a first batch ({@link #FIRST}), for which ingest reads the topic's limit (the broker's
   * default), then lowers the limit to {@link #MAX_MESSAGE_BYTES}: ingest does not know it yet.
   */
  private void learnTheDefaultLimitThenLowerIt(String topic) throws Exception {
    HttpResponse<String> first = post("[" + blob(FIRST, "small") + "]");
    assertThat(first.statusCode()).as(first.body()).isEqualTo(202);
    setMaxMessageBytes(topic, MAX_MESSAGE_BYTES);
  }

  private void setMaxMessageBytes(String topic, int bytes) throws Exception {
    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", devstack.bootstrapServers()))) {
      admin.incrementalAlterConfigs(Map.of(resource, List.of(new AlterConfigOp(
          new ConfigEntry(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(bytes)),
          AlterConfigOp.OpType.SET)))).all().get();
      await().atMost(Duration.ofSeconds(15)).until(() -> admin.describeConfigs(List.of(resource))
          .all().get().get(resource).get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG).value()
          .equals(Integer.toString(bytes)));
    }
  }

  /**
   * Each partition's log end offset: records, committed or not, and transaction markers all
   * move it.
   */
  private Map<Integer, Long> endOffsets(String topic) throws Exception {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", devstack.bootstrapServers()))) {
      Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
      admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions()
          .forEach(p -> latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
      Map<Integer, Long> ends = new TreeMap<>();
      admin.listOffsets(latest).all().get()
          .forEach((partition, info) -> ends.put(partition.partition(), info.offset()));
      return ends;
    }
  }

  /** The size in bytes a 422's error names for a record too large ("record of N bytes"). */
  private static int namedSize(JsonNode error) {
    Matcher size = Pattern.compile("record of (\\d+) bytes").matcher(error.get("reason").asText());
    assertThat(size.find()).as(error.toString()).isTrue();
    return Integer.parseInt(size.group(1));
  }

  private static String header(ConsumerRecord<?, ?> record, String name) {
    var header = record.headers().lastHeader(name);
    return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
  }

  private HttpResponse<String> post(String body) throws Exception {
    return HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(ingest.url() + "/ingest/blobs"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static String blob(String id, String payload) {
    return "{\"id\": \"" + id + "\", \"event_time\": 1700000000000, \"payload\": \"" + payload
        + "\"}";
  }

  /** Random base64 text, which lz4 cannot shrink below its length. */
  private static String incompressible(int length) {
    byte[] bytes = new byte[length];
    new Random(42).nextBytes(bytes);
    return Base64.getEncoder().encodeToString(bytes).substring(0, length);
  }

  /** Every record of {@code topic} a read_committed consumer sees, up to the end. */
  private List<ConsumerRecord<String, byte[]>> readCommitted(String topic) {
    return CommittedValues.records(devstack.bootstrapServers(), topic, new StringDeserializer(),
        new ByteArrayDeserializer());
  }

  /** Every record of {@code topic} a read_uncommitted consumer sees, up to the end. */
  private List<ConsumerRecord<String, byte[]>> readUncommitted(String topic) {
    return CommittedValues.includingUncommitted(devstack.bootstrapServers(), topic,
        new StringDeserializer(), new ByteArrayDeserializer());
  }
}
