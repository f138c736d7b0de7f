package dev.flywheel.ingest.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.CommittedValues;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.events.Label;
import dev.flywheel.ingest.IngestConfig;
import dev.flywheel.ingest.source.SourceCatalog;
import dev.flywheel.registry.SchemaRegistryClient;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.DeadLetterHeaders;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.Topics;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@WithDevstack
class IngestHttpIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final int MAX_BODY = 16 * 1024;

  static final String TX_SCHEMA = """
      {"type": "record", "name": "CardTx", "namespace": "it", "fields": [
        {"name": "card_id", "type": "string"},
        {"name": "event_time", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "amount", "type": "double"},
        {"name": "channel", "type": {"type": "enum", "name": "Channel", "symbols": ["WEB", "POS"]}},
        {"name": "note", "type": ["null", "string"], "default": null}]}""";

  private Devstack devstack;
  private Topics topics;
  private AvroSerdes serdes;
  private IngestService ingest;

  @BeforeEach
  void startIngest(Devstack devstack, UniqueNames names) {
    this.devstack = devstack;
    serdes = AvroSerdes.fromConfig(Map.of("schema.registry.url", devstack.schemaRegistryUrl()));
    topics = Topics.builder(serdes).prefix(names.prefix()).build();
    IngestConfig config = IngestConfig.parse("""
        sources:
          - name: tx
            schema: '%s'
            key: card_id
            time: event_time
          - name: secure
            schema: '%s'
            key: card_id
            time: event_time
            token: s3cret
        ingest:
          port: 0
          maxBodyBytes: %d
          producers: 2
        """.formatted(oneLine(TX_SCHEMA), oneLine(TX_SCHEMA), MAX_BODY));
    ingest = IngestService.builder()
        .config(config)
        .configDir(Path.of("."))
        .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers()))
        .serdes(serdes)
        .topics(topics)
        .host("127.0.0.1")
        .build()
        .start();
  }

  @AfterEach
  void stopIngest() {
    if (ingest != null) {
      ingest.close();
    }
  }

  private static String oneLine(String json) {
    return json.replace("\n", " ");
  }

  private HttpResponse<String> post(String path, String contentType, String body,
      String... headers) throws IOException, InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(ingest.url() + path))
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (contentType != null) {
      request.header("Content-Type", contentType);
    }
    for (int i = 0; i < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode json(HttpResponse<String> response) throws IOException {
    return JSON.readTree(response.body());
  }

  private static String tx(String card, String time, double amount, String channel) {
    return "{\"card_id\": \"" + card + "\", \"event_time\": \"" + time + "\", \"amount\": "
        + amount + ", \"channel\": \"" + channel + "\"}";
  }

  /**
   * Waits until a read_committed reader sees at least {@code expected} records on {@code topic},
   * then returns every record it sees up to the end (so that any beyond the expected show too).
   */
  private <V> List<ConsumerRecord<String, V>> readAll(String topic, Deserializer<V> values,
      int expected) {
    return await().atMost(Duration.ofSeconds(30)).until(() -> CommittedValues.records(
        devstack.bootstrapServers(), topic, new StringDeserializer(), values),
        records -> records.size() >= expected);
  }

  /** The sum of the topic's end offsets: how many records were ever written to it. */
  private long endOffsets(String topic) {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", devstack.bootstrapServers()))) {
      // A topic created a moment ago may not have reached every broker's metadata yet.
      return await().atMost(Duration.ofSeconds(15)).ignoreExceptions()
          .until(() -> {
            Map<TopicPartition, OffsetSpec> partitions = admin.describeTopics(List.of(topic))
                .allTopicNames().get().get(topic).partitions().stream()
                .collect(Collectors.toMap(p -> new TopicPartition(topic, p.partition()),
                    p -> OffsetSpec.latest()));
            return admin.listOffsets(partitions).all().get().values().stream()
                .mapToLong(ListOffsetsResultInfo::offset).sum();
          }, offsets -> offsets >= 0);
    }
  }

  @Test
  void shouldWriteAJsonArrayKeyedAndTimestampedAndAnswer202WithOffsets() throws Exception {
    // Given three events of two cards
    String body = "[" + tx("c-1", "2024-05-01T10:00:00Z", 12.5, "WEB") + ","
        + tx("c-2", "2024-05-01T10:00:01.250Z", 3, "POS") + ","
        + "{\"card_id\": \"c-1\", \"event_time\": 1714557602000, \"amount\": 1.0,"
        + " \"channel\": \"POS\", \"note\": {\"string\": \"refund\"}}]";

    // When they are posted as one JSON array
    HttpResponse<String> response = post("/ingest/tx", "application/json", body);

    // Then ingest answers 202 with the count and the offsets
    assertThat(response.statusCode()).isEqualTo(202);
    JsonNode answer = json(response);
    assertThat(answer.get("count").asInt()).isEqualTo(3);
    long written = 0;
    for (JsonNode p : answer.get("partitions")) {
      written += p.get("lastOffset").asLong() - p.get("firstOffset").asLong() + 1;
    }
    assertThat(written).isEqualTo(3);

    // And the records are on the topic, keyed by card, stamped with event time, as Avro
    Topic<String, GenericRecord> topic = topics.data("tx");
    List<ConsumerRecord<String, GenericRecord>> records =
        readAll(topic.name(), topic.valueSerde().deserializer(), 3);
    assertThat(records).hasSize(3);
    Map<String, List<ConsumerRecord<String, GenericRecord>>> byKey = records.stream()
        .collect(Collectors.groupingBy(ConsumerRecord::key));
    assertThat(byKey.keySet()).containsExactlyInAnyOrder("c-1", "c-2");
    ConsumerRecord<String, GenericRecord> second = byKey.get("c-2").get(0);
    assertThat(second.timestamp())
        .isEqualTo(Instant.parse("2024-05-01T10:00:01.250Z").toEpochMilli());
    assertThat(second.value().get("amount")).isEqualTo(3.0);
    assertThat(second.value().get("channel")).hasToString("POS");
    assertThat(second.value().get("note")).isNull();
    List<ConsumerRecord<String, GenericRecord>> card1 = byKey.get("c-1");
    assertThat(card1).extracting(ConsumerRecord::timestamp)
        .containsExactly(Instant.parse("2024-05-01T10:00:00Z").toEpochMilli(), 1714557602000L);
    assertThat(card1.get(1).value().get("note")).hasToString("refund");
    assertThat(card1.get(0).partition()).isEqualTo(card1.get(1).partition());
  }

  @Test
  void shouldAcceptNdjson() throws Exception {
    // Given two events, one per line, with a blank line between them
    String body = tx("c-1", "2024-05-01T10:00:00Z", 1, "WEB") + "\n\n"
        + tx("c-3", "2024-05-01T10:00:02Z", 2, "POS") + "\n";

    // When they are posted as NDJSON
    HttpResponse<String> response = post("/ingest/tx", "application/x-ndjson", body);

    // Then both are written
    assertThat(response.statusCode()).isEqualTo(202);
    assertThat(json(response).get("count").asInt()).isEqualTo(2);
    Topic<String, GenericRecord> topic = topics.data("tx");
    assertThat(readAll(topic.name(), topic.valueSerde().deserializer(), 2))
        .extracting(ConsumerRecord::key).containsExactlyInAnyOrder("c-1", "c-3");
  }

  @Test
  void shouldAnswer404ForAnUnknownSource() throws Exception {
    HttpResponse<String> response = post("/ingest/nope", "application/json",
        tx("c-1", "2024-05-01T10:00:00Z", 1, "WEB"));

    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(json(response).get("error").asText()).contains("unknown source 'nope'");
  }

  @Test
  void shouldAnswer413ForABodyOverTheLimitAndWriteNothing() throws Exception {
    // Given a batch larger than maxBodyBytes
    StringBuilder body = new StringBuilder("[");
    while (body.length() <= MAX_BODY) {
      body.append(tx("c-1", "2024-05-01T10:00:00Z", 1, "WEB")).append(',');
    }
    body.append(tx("c-1", "2024-05-01T10:00:00Z", 1, "WEB")).append(']');

    // When it is posted
    HttpResponse<String> response = post("/ingest/tx", "application/json", body.toString());

    // Then 413 says the limit and nothing is on the topic
    assertThat(response.statusCode()).isEqualTo(413);
    assertThat(json(response).get("error").asText()).contains("the limit is " + MAX_BODY);
    assertThat(endOffsets(topics.data("tx").name())).isZero();
  }

  @Test
  void shouldAnswer415ForAnotherContentType() throws Exception {
    HttpResponse<String> response = post("/ingest/tx", "text/csv", "card_id,amount\nc-1,1\n");

    assertThat(response.statusCode()).isEqualTo(415);
    assertThat(json(response).get("error").asText())
        .contains("'text/csv'").contains("application/json").contains("application/x-ndjson");
  }

  @Test
  void shouldAnswer400WithLineAndColumnForMalformedJson() throws Exception {
    HttpResponse<String> response = post("/ingest/tx", "application/json",
        "[\n  {\"card_id\": \"c-1\",\n   \"amount\": 1,,}\n]");

    assertThat(response.statusCode()).isEqualTo(400);
    JsonNode answer = json(response);
    assertThat(answer.get("line").asInt()).isEqualTo(3);
    assertThat(answer.get("column").asInt()).isGreaterThan(1);
    assertThat(answer.get("error").asText()).startsWith("malformed JSON");
  }

  @Test
  void shouldAnswer400WithTheLineOfMalformedNdjson() throws Exception {
    HttpResponse<String> response = post("/ingest/tx", "application/x-ndjson",
        tx("c-1", "2024-05-01T10:00:00Z", 1, "WEB") + "\n{\"card_id\": \n");

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(json(response).get("line").asInt()).isEqualTo(2);
    ConsumerRecord<String, String> kept = readAll(topics.dlq(topics.data("tx")).name(),
        new StringDeserializer(), 1).get(0);
    assertThat(kept.value()).endsWith("{\"card_id\": \n");
    assertThat(header(kept, DeadLetterHeaders.LINE)).isEqualTo("2");
    assertThat(header(kept, DeadLetterHeaders.ORIGIN)).isEqualTo("http:/ingest/tx");
    assertThat(endOffsets(topics.data("tx").name())).isZero();
  }

  @Test
  void shouldAnswer422ListingEveryBadRecordAndWriteNothing() throws Exception {
    // Given a batch of four where the second and fourth are invalid
    String body = "[" + tx("c-1", "2024-05-01T10:00:00Z", 1, "WEB") + ","
        + "{\"card_id\": \"c-2\", \"event_time\": \"yesterday\", \"amount\": \"12,5\","
        + " \"channel\": \"WEB\"},"
        + tx("c-3", "2024-05-01T10:00:00Z", 1, "POS") + ","
        + "{\"event_time\": 1, \"amount\": 1, \"channel\": \"ATM\"}]";

    // When it is posted
    HttpResponse<String> response = post("/ingest/tx", "application/json", body);

    // Then 422 lists each bad record's index, field and reason
    assertThat(response.statusCode()).isEqualTo(422);
    JsonNode answer = json(response);
    assertThat(answer.get("invalid").asInt()).isEqualTo(2);
    assertThat(answer.get("error").asText()).contains("nothing was written");
    List<String> errors = new ArrayList<>();
    answer.get("errors").forEach(e -> errors.add(e.get("index").asInt() + " "
        + e.get("field").asText()));
    assertThat(errors).containsExactly("1 event_time", "1 amount", "3 card_id", "3 channel");
    assertThat(answer.get("errors").get(3).get("reason").asText()).contains("[WEB, POS]");

    // And not even the valid records were written
    assertThat(endOffsets(topics.data("tx").name())).isZero();

    // And the two invalid ones are kept on the dead-letter topic with what was wrong
    String dlq = topics.dlq(topics.data("tx")).name();
    assertThat(answer.get("deadLetterTopic").asText()).isEqualTo(dlq);
    assertThat(answer.get("deadLettered").asInt()).isEqualTo(2);
    List<ConsumerRecord<String, String>> kept = readAll(dlq, new StringDeserializer(), 2);
    assertThat(kept).hasSize(2);
    assertThat(kept).extracting(r -> header(r, DeadLetterHeaders.ORIGIN))
        .containsExactlyInAnyOrder("http:/ingest/tx#1", "http:/ingest/tx#3");
    ConsumerRecord<String, String> second = kept.stream()
        .filter(r -> header(r, DeadLetterHeaders.ORIGIN).endsWith("#1")).findFirst().orElseThrow();
    assertThat(JSON.readTree(second.value()).get("amount").asText()).isEqualTo("12,5");
    assertThat(header(second, DeadLetterHeaders.SOURCE)).isEqualTo("tx");
    assertThat(header(second, DeadLetterHeaders.ERROR)).contains("event_time: expected")
        .contains("amount: expected a number");
  }

  @Test
  void shouldAnswer422ForARecordTooLargeForTheProducerAndKeepItTruncated(UniqueNames names)
      throws Exception {
    // Given an ingest whose producers take records of at most 4096 bytes (max.request.size),
    // under a body limit of 64 KiB
    Topics small = Topics.builder(serdes).prefix(names.prefix() + "-small").build();
    try (IngestService second = IngestService.builder()
        .config(IngestConfig.parse("""
            sources:
              - name: tx
                schema: '%s'
                key: card_id
                time: event_time
            ingest: {port: 0, producers: 1, maxBodyBytes: 65536}
            """.formatted(oneLine(TX_SCHEMA))))
        .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers(),
            "max.request.size", 4096))
        .serdes(serdes)
        .topics(small)
        .host("127.0.0.1")
        .build()
        .start()) {
      String large = "{\"card_id\": \"c-2\", \"event_time\": 1, \"amount\": 1,"
          + " \"channel\": \"WEB\", \"note\": \"" + "x".repeat(10_000) + "\"}";
      String body = "[" + tx("c-1", "2024-05-01T10:00:00Z", 1, "WEB") + "," + large + "]";

      // When a batch with a valid record of about 10 KB is posted
      HttpResponse<String> response = postTo(second, "/ingest/tx", body);

      // Then it is a 422 naming the record, its size, the limit and what to change, not a 503
      // that a retry cannot fix
      assertThat(response.statusCode()).isEqualTo(422);
      JsonNode error = json(response).get("errors").get(0);
      assertThat(error.get("index").asInt()).isEqualTo(1);
      assertThat(error.get("field").asText()).isEqualTo("$");
      assertThat(error.get("reason").asText()).containsPattern("is 1\\d{4} bytes")
          .contains("4096").contains("max.request.size").contains("max.message.bytes");
      assertThat(endOffsets(small.data("tx").name())).isZero();

      // And the record is kept on the dead-letter topic, cut to fit, saying its size
      assertThat(json(response).get("deadLettered").asInt()).isEqualTo(1);
      List<ConsumerRecord<String, String>> kept = readAll(small.dlq(small.data("tx")).name(),
          new StringDeserializer(), 1);
      String asKept = JSON.writeValueAsString(JSON.readTree(large)); // elements are re-serialized
      assertThat(kept).singleElement().satisfies(r -> {
        assertThat(asKept).startsWith(r.value()).isNotEqualTo(r.value());
        assertThat(header(r, "flywheel.value.truncated")).isEqualTo("true");
        assertThat(header(r, "flywheel.value.size"))
            .isEqualTo(Integer.toString(asKept.getBytes(StandardCharsets.UTF_8).length));
      });
    }
  }

  @Test
  void shouldAnswer422ForAnEventTimeTooFarAheadForTheBrokerAndKeepIt() throws Exception {
    // Given a batch whose second event time is 30 days ahead, past the broker's
    // message.timestamp.after.max.ms (1 hour by default)
    String future = Instant.ofEpochMilli(Instant.now().plus(Duration.ofDays(30)).toEpochMilli())
        .toString();
    String body = "[" + tx("c-1", "2024-05-01T10:00:00Z", 1, "WEB") + ","
        + tx("c-2", future, 2, "POS") + "]";

    // When it is posted
    HttpResponse<String> response = post("/ingest/tx", "application/json", body);

    // Then it is a 422 naming the record, its event time and the limit, not a 503 to retry
    assertThat(response.statusCode()).isEqualTo(422);
    JsonNode answer = json(response);
    assertThat(answer.get("error").asText()).contains("event time")
        .contains("nothing was written");
    assertThat(answer.get("errors")).singleElement().satisfies(error -> {
      assertThat(error.get("index").asInt()).isEqualTo(1);
      assertThat(error.get("field").asText()).isEqualTo("event_time");
      assertThat(error.get("reason").asText()).contains("event time " + future)
          .contains("accepted event times up to").contains("message.timestamp.after.max.ms")
          .contains(topics.data("tx").name());
    });
    // (the transaction was aborted: its records take offsets, but no reader sees them)
    Topic<String, GenericRecord> data = topics.data("tx");
    assertThat(CommittedValues.records(devstack.bootstrapServers(), data.name(),
        new StringDeserializer(), data.valueSerde().deserializer())).isEmpty();

    // And the record is kept on the dead-letter topic with the reason
    assertThat(answer.get("deadLettered").asInt()).isEqualTo(1);
    List<ConsumerRecord<String, String>> kept = readAll(topics.dlq(topics.data("tx")).name(),
        new StringDeserializer(), 1);
    assertThat(kept).singleElement().satisfies(r -> {
      assertThat(JSON.readTree(r.value()).get("card_id").asText()).isEqualTo("c-2");
      assertThat(header(r, DeadLetterHeaders.ERROR)).contains("message.timestamp.after.max.ms");
    });
  }

  private static String header(ConsumerRecord<?, ?> record, String name) {
    var header = record.headers().lastHeader(name);
    return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
  }

  @Test
  void shouldAnswer401WithoutOrWithAWrongTokenAnd202WithTheRightOne() throws Exception {
    String event = tx("c-1", "2024-05-01T10:00:00Z", 1, "WEB");

    HttpResponse<String> none = post("/ingest/secure", "application/json", event);
    HttpResponse<String> wrong = post("/ingest/secure", "application/json", event,
        "Authorization", "Bearer nope");
    HttpResponse<String> right = post("/ingest/secure", "application/json", event,
        "Authorization", "Bearer s3cret");

    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(
        v -> assertThat(v).startsWith("Bearer"));
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(right.statusCode()).isEqualTo(202);
    Topic<String, GenericRecord> topic = topics.data("secure");
    assertThat(readAll(topic.name(), topic.valueSerde().deserializer(), 1)).hasSize(1);
  }

  @Test
  void shouldAddASourceOverHttpAndIngestIntoIt() throws Exception {
    // Given a new source's definition
    String definition = "{\"name\": \"clicks\", \"key\": \"user\", \"time\": \"at\", \"schema\":"
        + " {\"type\": \"record\", \"name\": \"Click\", \"fields\": ["
        + "{\"name\": \"user\", \"type\": \"string\"},"
        + "{\"name\": \"at\", \"type\": {\"type\": \"long\", \"logicalType\": \"timestamp-millis\"}}"
        + "]}}";

    // When it is posted to /sources
    HttpResponse<String> added = post("/sources", "application/json", definition);

    // Then it is registered under <topic>-value and the topic exists
    assertThat(added.statusCode()).isEqualTo(201);
    JsonNode answer = json(added);
    String topicName = topics.data("clicks").name();
    assertThat(answer.get("topic").asText()).isEqualTo(topicName);
    assertThat(answer.get("subject").asText()).isEqualTo(topicName + "-value");
    SchemaRegistryClient registry = serdes.client();
    assertThat(registry.getLatest(topicName + "-value").schema().getField("user")).isNotNull();
    assertThat(endOffsets(topicName)).isZero();

    // And events can be ingested into it
    HttpResponse<String> ingested = post("/ingest/clicks", "application/json",
        "{\"user\": \"u-1\", \"at\": \"2024-05-01T10:00:00Z\"}");
    assertThat(ingested.statusCode()).isEqualTo(202);

    // And another process finds the source, key and time from the registry alone
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", devstack.bootstrapServers()))) {
      SourceCatalog elsewhere = new SourceCatalog(topics, registry, admin);
      assertThat(elsewhere.find("clicks")).hasValueSatisfying(s -> {
        assertThat(s.keyField()).isEqualTo("user");
        assertThat(s.timeField()).isEqualTo("at");
      });
    }
  }

  @Test
  void shouldAnswer409NamingTheFieldThatBreaksCompatibility() throws Exception {
    // Given source tx is registered; a new version adds a required field without a default
    Schema v2 = new Schema.Parser().parse(TX_SCHEMA.replace(
        "{\"name\": \"note\"", "{\"name\": \"country\", \"type\": \"string\"},\n{\"name\": \"note\""));
    String definition = "{\"name\": \"tx\", \"key\": \"card_id\", \"time\": \"event_time\","
        + " \"schema\": " + v2 + "}";

    // When it is posted
    HttpResponse<String> response = post("/sources", "application/json", definition);

    // Then 409 names the field, and the registry still holds one version
    assertThat(response.statusCode()).isEqualTo(409);
    JsonNode answer = json(response);
    assertThat(answer.get("fields").get(0).asText()).isEqualTo("country");
    assertThat(answer.get("error").asText()).contains("field 'country' broke compatibility");
    assertThat(serdes.client().listVersions(topics.data("tx").name() + "-value")).hasSize(1);
  }

  @Test
  void shouldAcceptACompatibleSchemaChange() throws Exception {
    // Given a new version of tx with an optional field
    Schema v2 = new Schema.Parser().parse(TX_SCHEMA.replace("{\"name\": \"note\"",
        "{\"name\": \"country\", \"type\": \"string\", \"default\": \"US\"},\n{\"name\": \"note\""));
    String definition = "{\"name\": \"tx\", \"key\": \"card_id\", \"time\": \"event_time\","
        + " \"schema\": " + v2 + "}";

    // When it is posted
    HttpResponse<String> response = post("/sources", "application/json", definition);

    // Then it becomes version 2 and new events take the default
    assertThat(response.statusCode()).isEqualTo(201);
    assertThat(json(response).get("version").asInt()).isEqualTo(2);
    assertThat(post("/ingest/tx", "application/json",
        tx("c-9", "2024-05-01T10:00:00Z", 1, "WEB")).statusCode()).isEqualTo(202);
    Topic<String, GenericRecord> topic = topics.data("tx");
    assertThat(readAll(topic.name(), topic.valueSerde().deserializer(), 1).get(0).value()
        .get("country")).hasToString("US");
  }

  @Test
  void shouldAnswer422ForASourceWhoseKeyFieldIsMissing() throws Exception {
    String definition = "{\"name\": \"bad\", \"key\": \"id\", \"time\": \"event_time\","
        + " \"schema\": " + oneLine(TX_SCHEMA) + "}";

    HttpResponse<String> response = post("/sources", "application/json", definition);

    assertThat(response.statusCode()).isEqualTo(422);
    assertThat(json(response).get("problems").get(0).asText())
        .contains("key field 'id' is not a field of schema it.CardTx");
    assertThat(serdes.client().listSubjects())
        .doesNotContain(topics.data("bad").name() + "-value");
  }

  @Test
  void shouldRequireTheTokenToChangeAGuardedSource() throws Exception {
    String definition = "{\"name\": \"secure\", \"key\": \"card_id\", \"time\": \"event_time\","
        + " \"schema\": " + oneLine(TX_SCHEMA) + "}";

    assertThat(post("/sources", "application/json", definition).statusCode()).isEqualTo(401);
    assertThat(post("/sources", "application/json", definition,
        "Authorization", "Bearer s3cret").statusCode()).isEqualTo(201);
  }

  @Test
  void shouldWriteLabelsKeyedByTheLabelledEventId() throws Exception {
    // Given two labels, one naming its own source
    String body = "[{\"event_id\": \"e-1\", \"event_time\": \"2024-05-02T00:00:00Z\","
        + " \"target\": \"is_fraud\", \"value\": 1},"
        + "{\"event_id\": \"e-2\", \"event_time\": 1714608000000, \"value\": 0,"
        + " \"source\": \"chargebacks\"}]";

    // When they are posted
    HttpResponse<String> response = post("/labels", "application/json", body);

    // Then they are Label events on flywheel.labels keyed by event id
    assertThat(response.statusCode()).isEqualTo(202);
    Topic<String, Label> labels = topics.labels();
    List<ConsumerRecord<String, Label>> records =
        readAll(labels.name(), labels.valueSerde().deserializer(), 2);
    Map<String, ConsumerRecord<String, Label>> byKey = records.stream()
        .collect(Collectors.toMap(ConsumerRecord::key, r -> r));
    assertThat(byKey).containsOnlyKeys("e-1", "e-2");
    Label first = byKey.get("e-1").value();
    assertThat(first.getTarget()).isEqualTo("is_fraud");
    assertThat(first.getValue()).isEqualTo(1.0);
    assertThat(first.getSource()).isEqualTo("http");
    assertThat(byKey.get("e-1").timestamp())
        .isEqualTo(Instant.parse("2024-05-02T00:00:00Z").toEpochMilli());
    Label second = byKey.get("e-2").value();
    assertThat(second.getTarget()).isEqualTo("label");
    assertThat(second.getSource()).isEqualTo("chargebacks");
  }

  @Test
  void shouldAnswer422ForInvalidLabelsAndWriteNothing() throws Exception {
    String body = "{\"event_id\": \"e-1\", \"event_time\": 1}\n{\"event_time\": 1, \"value\": 1}\n";

    HttpResponse<String> response = post("/labels", "application/x-ndjson", body);

    assertThat(response.statusCode()).isEqualTo(422);
    List<String> errors = new ArrayList<>();
    json(response).get("errors").forEach(e -> errors.add(e.get("index").asInt() + ":"
        + e.get("line").asInt() + " " + e.get("field").asText()));
    assertThat(errors).containsExactly("0:1 value", "1:2 event_id");
    assertThat(endOffsets(topics.labels().name())).isZero();
    List<ConsumerRecord<String, String>> kept = readAll(topics.dlq(topics.labels()).name(),
        new StringDeserializer(), 2);
    assertThat(kept).extracting(r -> header(r, DeadLetterHeaders.LINE))
        .containsExactlyInAnyOrder("1", "2");
    assertThat(kept).extracting(ConsumerRecord::value).containsExactlyInAnyOrder(
        "{\"event_id\": \"e-1\", \"event_time\": 1}", "{\"event_time\": 1, \"value\": 1}");
  }

  @Test
  void shouldAnswer422NamingTheTargetWhenALabelNamesATargetNoModelLearns(UniqueNames names)
      throws Exception {
    // Given an ingest whose flywheel.yaml declares models learning is_fraud and (trained by
    // Flywheel without a target) label
    Topics declared = Topics.builder(serdes).prefix(names.prefix() + "-models").build();
    try (IngestService second = ingestDeclaring(declared, """
        - {name: fraud-detector, target: is_fraud, featureGroup: card_activity}
        - {name: churn, featureGroup: card_activity, training: {trainer: xgboost}}
        """)) {

      // When a batch holds a label of a known target and one whose target is misspelt
      String body = "[{\"event_id\": \"e-1\", \"event_time\": 1, \"target\": \"is_fraud\","
          + " \"value\": 1}, {\"event_id\": \"e-2\", \"event_time\": 1, \"target\":"
          + " \"is_frad\", \"value\": 1}]";
      HttpResponse<String> response = postTo(second, "/labels", body);

      // Then the batch is refused, naming the unknown target and the known ones
      assertThat(response.statusCode()).as(response.body()).isEqualTo(422);
      JsonNode answer = json(response);
      assertThat(answer.get("error").asText()).contains("'is_frad'")
          .contains("'is_fraud', 'label'");
      assertThat(answer.get("errors")).singleElement().satisfies(error -> {
        assertThat(error.get("index").asInt()).isEqualTo(1);
        assertThat(error.get("field").asText()).isEqualTo("target");
        assertThat(error.get("reason").asText()).contains("'is_frad'")
            .contains("'is_fraud', 'label'");
      });
      // and nothing is written, the refused label is kept on the dead-letter topic
      assertThat(endOffsets(declared.labels().name())).isZero();
      List<ConsumerRecord<String, String>> kept = readAll(declared.dlq(declared.labels()).name(),
          new StringDeserializer(), 1);
      assertThat(kept).singleElement().satisfies(letter -> assertThat(
          header(letter, DeadLetterHeaders.ERROR)).contains("'is_frad'"));
    }
  }

  @Test
  void shouldAnswer422SayingNoTargetWasGivenWhenALabelLacksOneAndNoModelLearnsTheDefault(
      UniqueNames names) throws Exception {
    // Given an ingest whose flywheel.yaml declares only a model learning is_fraud
    Topics declared = Topics.builder(serdes).prefix(names.prefix() + "-untargeted").build();
    try (IngestService second = ingestDeclaring(declared, """
        - {name: fraud-detector, target: is_fraud, featureGroup: card_activity}
        """)) {

      // When a label without a target field is posted
      HttpResponse<String> response = postTo(second, "/labels",
          "[{\"event_id\": \"e-1\", \"event_time\": 1, \"value\": 1}]");

      // Then the batch is refused saying no target was given, its default, and the known targets
      assertThat(response.statusCode()).as(response.body()).isEqualTo(422);
      JsonNode answer = json(response);
      assertThat(answer.get("error").asText()).contains("give no target")
          .contains("defaults to 'label'").contains("learn 'is_fraud'")
          .doesNotContain("unknown target");
      assertThat(answer.get("errors")).singleElement().satisfies(error -> {
        assertThat(error.get("field").asText()).isEqualTo("target");
        assertThat(error.get("reason").asText()).contains("gives no target")
            .contains("defaults to 'label'").contains("learn 'is_fraud'")
            .contains("add \"target\"");
      });
      // and nothing is written
      assertThat(endOffsets(declared.labels().name())).isZero();
    }
  }

  @Test
  void shouldAcceptEveryTargetWhenAModelIsDeclaredWithoutTargetOrTraining(UniqueNames names)
      throws Exception {
    // Given an ingest whose flywheel.yaml declares a model learning is_fraud and one trained and
    // registered outside Flywheel (policy only), whose target ingest cannot know
    Topics declared = Topics.builder(serdes).prefix(names.prefix() + "-external").build();
    try (IngestService second = ingestDeclaring(declared, """
        - {name: fraud-detector, target: is_fraud, featureGroup: card_activity}
        - {name: vendor-score, policy: {metric: auc}}
        """)) {

      // When a label of a target no flywheel.yaml entry names is posted
      HttpResponse<String> response = postTo(second, "/labels",
          "[{\"event_id\": \"e-1\", \"event_time\": 1, \"target\": \"chargeback\","
              + " \"value\": 1}]");

      // Then it is accepted and written: the external model may learn it
      assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
      assertThat(json(response).get("count").asInt()).isEqualTo(1);
      assertThat(endOffsets(declared.labels().name())).isPositive();
    }
  }

  @Test
  void shouldRequireTheEndpointTokensWhenConfigured(UniqueNames names) throws Exception {
    // Given a second ingest whose /sources and /labels need tokens
    Topics guarded = Topics.builder(serdes).prefix(names.prefix() + "-guarded").build();
    try (IngestService second = IngestService.builder()
        .config(IngestConfig.parse("ingest: {port: 0, producers: 1, sourcesToken: adm1n,"
            + " labelsToken: l4b}\n"))
        .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers()))
        .serdes(serdes)
        .topics(guarded)
        .host("127.0.0.1")
        .build()
        .start()) {
      String definition = "{\"name\": \"tx\", \"key\": \"card_id\", \"time\": \"event_time\","
          + " \"schema\": " + oneLine(TX_SCHEMA) + "}";
      String label = "{\"event_id\": \"e-1\", \"event_time\": 1, \"value\": 1}";

      // When sources and labels are posted without, with wrong and with the right tokens
      // Then only the right token is let through
      assertThat(postTo(second, "/sources", definition).statusCode()).isEqualTo(401);
      assertThat(postTo(second, "/sources", definition, "Authorization", "Bearer l4b")
          .statusCode()).isEqualTo(401);
      assertThat(postTo(second, "/sources", definition, "Authorization", "Bearer adm1n")
          .statusCode()).isEqualTo(201);
      assertThat(postTo(second, "/labels", label).statusCode()).isEqualTo(401);
      assertThat(postTo(second, "/labels", label, "Authorization", "Bearer l4b").statusCode())
          .isEqualTo(202);
      // (one label; the end offset also counts its transaction's commit marker)
      assertThat(readAll(guarded.labels().name(), guarded.labels().valueSerde().deserializer(),
          1)).hasSize(1);
    }
  }

  private static HttpResponse<String> postTo(IngestService service, String path, String body,
      String... headers) throws IOException, InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(service.url() + path))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void shouldReportHealthy() throws Exception {
    HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(
        URI.create(ingest.url() + "/health")).GET().build(), HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(json(response).get("status").asText()).isEqualTo("UP");
  }

  /**
   * A second ingest on {@code topics} whose flywheel.yaml declares {@code models} (the entries of
   * its {@code models:} list, one per line), started.
   */
  private IngestService ingestDeclaring(Topics topics, String models) throws Exception {
    return IngestService.builder()
        .config(IngestConfig.parse("ingest: {port: 0, producers: 1}\nmodels:\n"
            + models.indent(2)))
        .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers()))
        .serdes(serdes)
        .topics(topics)
        .host("127.0.0.1")
        .build()
        .start();
  }
}
