package dev.flywheel.featurestreams.lookup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.events.FeatureVector;
import dev.flywheel.serde.AvroSerdes;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One instance: answers, defaults, unknown groups, batches, and 503 before it runs. */
@WithDevstack
class FeatureLookupIT {

  private static final String GROUP = "card_activity";
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final Instant T0 = Instant.parse("2026-11-23T10:00:00Z");

  @TempDir Path stateDir;

  private Devstack devstack;
  private String topic;
  private Serde<FeatureVector> serde;
  private LookupGroup group;
  private LookupInstance instance;

  @BeforeEach
  void startInstance(Devstack devstack, UniqueNames names) throws Exception {
    this.devstack = devstack;
    topic = names.topic("vectors");
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
        devstack.bootstrapServers()))) {
      admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get();
    }
    serde = AvroSerdes.fromConfig(Map.of("schema.registry.url", devstack.schemaRegistryUrl()))
        .specific(FeatureVector.class, false);
    Map<String, Double> defaults = new LinkedHashMap<>();
    defaults.put("count", 0.0);
    group = new LookupGroup(GROUP, names.prefix() + "-online", List.of("count", "mean"),
        defaults, Map.of("last_country", "unknown"));
    instance = LookupInstance.start(devstack.bootstrapServers(), names.applicationId("lookup"),
        stateDir, LookupInstance.onlineStore(topic, group.storeName(), serde), List.of(group));
    await().atMost(Duration.ofSeconds(60)).until(instance::running);
  }

  @AfterEach
  void stopInstance() {
    if (instance != null) {
      instance.close();
    }
  }

  @Test
  void shouldAnswerLatestVectorWithItsAsOfTime() {
    // Given two vectors of one card, the second later
    produce(Vectors.vector(GROUP, "card-1", "e1", T0, 1, 10.0),
        Vectors.vector(GROUP, "card-1", "e2", T0.plusSeconds(60), 2, 15.0));

    // When the card is looked up
    // Then the answer is the latest vector, features in declared order, with its event time
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      FeatureValues values = instance.client().get(GROUP, "card-1");
      assertThat(values.found()).isTrue();
      assertThat(values.eventId()).isEqualTo("e2");
      assertThat(values.asOf()).isEqualTo(T0.plusSeconds(60));
      assertThat(values.features()).containsExactly(Map.entry("count", 2.0),
          Map.entry("mean", 15.0));
      assertThat(values.categoricalFeatures()).containsExactly(Map.entry("last_country", "FR"));
      assertThat(values.servedBy()).isEqualTo("127.0.0.1:" + instance.port);
    });
  }

  @Test
  void shouldAnswerDefaultsWithFoundFalseForUnknownEntity() throws Exception {
    // Given a running instance that holds no vector of card-unknown
    // When it is looked up over HTTP
    HttpResponse<String> response = get("/features/" + GROUP + "/card-unknown");

    // Then the answer is 200 with the declared defaults, undeclared ones null, and found false
    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode body = FeatureValuesJson.MAPPER.readTree(response.body());
    assertThat(body.get("found").asBoolean()).isFalse();
    assertThat(body.get("asOf").isNull()).isTrue();
    assertThat(body.get("features").get("count").asDouble()).isEqualTo(0.0);
    assertThat(body.get("features").get("mean").isNull()).isTrue();
    assertThat(body.get("categoricalFeatures").get("last_country").asText()).isEqualTo("unknown");
  }

  @Test
  void shouldAnswer404NamingKnownGroupsForUnknownGroup() throws Exception {
    // When a group that is not declared is looked up
    HttpResponse<String> response = get("/features/card_activty/card-1");

    // Then 404 names the misspelt group and the known ones
    assertThat(response.statusCode()).isEqualTo(404);
    JsonNode body = FeatureValuesJson.MAPPER.readTree(response.body());
    assertThat(body.get("error").asText())
        .contains("unknown feature group 'card_activty'").contains(GROUP);
    assertThat(body.get("knownGroups").get(0).asText()).isEqualTo(GROUP);
    assertThatThrownBy(() -> instance.client().get("card_activty", "card-1"))
        .isInstanceOfSatisfying(UnknownGroupException.class,
            e -> assertThat(e.knownGroups()).containsExactly(GROUP));
  }

  @Test
  void shouldAnswerBatchInRequestOrderWithFoundAndDefaults() {
    // Given vectors of two cards
    produce(Vectors.vector(GROUP, "card-a", "ea", T0, 1, 1.0),
        Vectors.vector(GROUP, "card-b", "eb", T0.plusSeconds(1), 2, 2.0));

    // When a batch asks for them and an unknown card, in a chosen order
    // Then the results come in that order, the unknown one with defaults
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      List<FeatureValues> results = instance.client()
          .batch(GROUP, List.of("card-b", "nobody", "card-a", "card-b"));
      assertThat(results).extracting(FeatureValues::entity)
          .containsExactly("card-b", "nobody", "card-a", "card-b");
      assertThat(results).extracting(FeatureValues::found).containsExactly(true, false, true, true);
      assertThat(results).extracting(FeatureValues::eventId)
          .containsExactly("eb", null, "ea", "eb");
    });
  }

  @Test
  void shouldRefuseMalformedBatchWith400() throws Exception {
    // When a batch body is not {"entities": [strings]}
    HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(
            URI.create(instance.url + "/features/" + GROUP + "/batch"))
        .POST(HttpRequest.BodyPublishers.ofString("{\"entities\": [1, 2]}")).build(),
        HttpResponse.BodyHandlers.ofString());

    // Then 400 says what the body must be
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.body()).contains("entities");
  }

  @Test
  void shouldRefuseABatchBodyOverTheServersLimitWith413() throws Exception {
    // When a batch body is larger than the server accepts (Javalin's 1,000,000 bytes)
    String entities = "\"" + "e".repeat(1_100_000) + "\"";
    HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(
            URI.create(instance.url + "/features/" + GROUP + "/batch"))
        .POST(HttpRequest.BodyPublishers.ofString("{\"entities\": [" + entities + "]}")).build(),
        HttpResponse.BodyHandlers.ofString());

    // Then 413, not 500, says what to change
    assertThat(response.statusCode()).as(response.body()).isEqualTo(413);
    assertThat(response.body()).contains("larger than this server accepts")
        .contains("fewer entities");
  }

  @Test
  void shouldAnswer503WithRetryAfterWhileStreamsIsNotRunning() throws Exception {
    // Given a lookup over a Kafka Streams instance that has not started
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "never-started");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, devstack.bootstrapServers());
    props.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory(stateDir, "idle")
        .toString());
    try (KafkaStreams idle = new KafkaStreams(
            LookupInstance.onlineStore(topic, group.storeName(), serde), props);
        FeatureLookupService lookup = FeatureLookupService.builder().streams(idle)
            .applicationServer("127.0.0.1:1").group(group).port(0).bindHost("127.0.0.1")
            .build().start()) {

      // When an entity is looked up
      HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(
              "http://127.0.0.1:" + lookup.port() + "/features/" + GROUP + "/card-1")).build(),
          HttpResponse.BodyHandlers.ofString());

      // Then it answers 503 with Retry-After instead of a wrong "not found"
      assertThat(response.statusCode()).isEqualTo(503);
      assertThat(response.headers().firstValue("Retry-After")).hasValue("1");
      assertThat(response.body()).contains("CREATED");
    }
  }

  private HttpResponse<String> get(String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(instance.url + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private void produce(FeatureVector... vectors) {
    Map<String, Object> props = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
        devstack.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all",
        // one in flight: no batch overtakes a retried first one (KAFKA-15591)
        ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
    try (KafkaProducer<String, FeatureVector> producer = new KafkaProducer<>(props,
        new StringSerializer(), serde.serializer())) {
      for (FeatureVector v : vectors) {
        producer.send(new ProducerRecord<>(topic, null, v.getAsOf().toEpochMilli(),
            v.getEntityId(), v));
      }
      producer.flush();
    }
  }
}
