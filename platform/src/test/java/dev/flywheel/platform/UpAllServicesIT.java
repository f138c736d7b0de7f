package dev.flywheel.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.events.FeatureVector;
import dev.flywheel.platform.runtime.ServiceCatalog;
import dev.flywheel.platform.runtime.ServiceCatalogFixtures;
import dev.flywheel.serde.AvroSerdeConfig;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.Topics;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code flywheel up} with a flywheel.yaml that configures every service, on the shared broker. */
@WithDevstack
class UpAllServicesIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(2)).build();

  @TempDir Path workDir;

  @Test
  void shouldRunEveryServiceOnOnePortAndTurnAnIngestedEventIntoAFeatureVector(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given a flywheel.yaml declaring a source, a feature group, a model (policy, training,
    // triggers, drift) and serving, on the shared broker with a fresh topic prefix
    Path yaml = workDir.resolve("flywheel.yaml");
    Files.writeString(yaml, everyService(devstack, names, workDir));
    StringWriter out = new StringWriter();
    UpCommand up = new UpCommand();
    new CommandLine(up).setOut(new PrintWriter(out, true))
        .parseArgs("-c", yaml.toString(), "--http-port", "0");

    // When 'flywheel up' starts
    try (UpCommand.Running running = up.start()) {
      String base = "http://127.0.0.1:" + running.runtime().httpPort();

      // Then /health is 200 with every service listed and up
      HttpResponse<String> healthy = await().atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(250))
          .until(() -> get(base + "/health"), r -> r.statusCode() == 200);
      JsonNode health = JSON.readTree(healthy.body());
      assertThat(health.path("status").asText()).isEqualTo("UP");
      for (String service : ServiceCatalog.START_ORDER) {
        assertThat(health.path("services").path(service).path("status").asText())
            .as("%s in %s", service, health).isEqualTo("UP");
      }
      // and it printed one line per service with its routes
      assertThat(out.toString())
          .containsPattern("ingest +\\S+ +POST /ingest/\\{source}")
          .containsPattern("features +\\S+ +.*GET /features/\\{group}/\\{entity}")
          .containsPattern("serving +\\S+ +POST /predict/\\{model}")
          .containsPattern("training +\\S+ +POST /models/\\{model}/train")
          .containsPattern("registry +\\S+ +.*GET /models")
          .containsPattern("drift +\\S+ +\\(no HTTP routes");
      // and /metrics carries the Kafka Streams binders of each Streams service and Flywheel's meters
      String metrics = get(base + "/metrics").body();
      for (String streamsService : List.of("features", "registry", "training", "drift")) {
        assertThat(metrics).as("Kafka Streams metrics of %s", streamsService)
            .containsPattern("kafka_stream_\\w+\\{[^}]*service=\"" + streamsService + "\"");
      }
      assertThat(metrics).contains("flywheel_training_running");

      // When an event is posted to the source
      HttpResponse<String> accepted = HTTP.send(HttpRequest.newBuilder(
              URI.create(base + "/ingest/payments"))
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"event_id\": \"e-1\", \"card_id\":"
              + " \"card-1\", \"amount\": 12.5, \"event_time\": 1700000000000}"))
          .build(), HttpResponse.BodyHandlers.ofString());

      // Then ingest accepts it, and its FeatureVector appears on the features topic
      assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);
      Topics topics = Topics.builder(AvroSerdes.fromConfig(Map.of(
          AvroSerdeConfig.SCHEMA_REGISTRY_URL, devstack.schemaRegistryUrl())))
          .prefix(names.prefix()).build();
      FeatureVector vector = firstVector(devstack, topics.features(), names.groupId("reader"));
      assertThat(vector.getEntityId()).isEqualTo("card-1");
      assertThat(vector.getEventId()).isEqualTo("e-1");
      assertThat(vector.getFeatures()).containsEntry("tx_count_1h", 1.0)
          .containsEntry("amount_sum_1h", 12.5);

      // and the online lookup on the same port answers with it
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250)).until(() -> {
        HttpResponse<String> lookup = get(base + "/features/card_spend/card-1");
        return lookup.statusCode() == 200
            && JSON.readTree(lookup.body()).path("found").asBoolean(false);
      });

      // and /metrics times the HTTP requests by route, method and status
      assertThat(get(base + "/metrics").body())
          .containsPattern("flywheel_http_requests_seconds_count\\{[^}]*method=\"POST\"[^}]*"
              + "route=\"/ingest/\\{source}\"[^}]*status=\"202\"[^}]*} 1")
          .containsPattern("flywheel_http_requests_seconds_count\\{[^}]*method=\"GET\"[^}]*"
              + "route=\"/features/\\{group}/\\{entity}\"");
    }
  }

  @Test
  void shouldExitWithOneSayingWhyWhenAServiceCannotStart(Devstack devstack, UniqueNames names)
      throws Exception {
    // Given a registry and a feature group over a source nobody declared
    Path yaml = workDir.resolve("flywheel.yaml");
    Files.writeString(yaml, """
        kafka: {bootstrapServers: "%s", schemaRegistryUrl: "%s", topicPrefix: %s, partitions: 1}
        stateDir: %s
        registry: {}
        featureGroups:
          - name: clicks_1h
            source: clicks
            entityKey: user
            features:
              - {name: clicks_1h, agg: count, window: 1h}
        """.formatted(devstack.bootstrapServers(), devstack.schemaRegistryUrl(), names.prefix(),
        workDir.resolve("state")));
    StringWriter err = new StringWriter();

    // When 'flywheel up' runs with it
    int exit = new CommandLine(new FlywheelCli()).setErr(new PrintWriter(err, true))
        .execute("up", "-c", yaml.toString(), "--http-port", "0");

    // Then it exits with 1, naming the source the feature group needs
    assertThat(exit).isEqualTo(1);
    assertThat(err.toString()).contains("flywheel up: Flywheel could not start")
        .contains("clicks");
  }

  /** Every service's sections, on the test broker, with state and artifacts under {@code dir}. */
  static String everyService(Devstack devstack, UniqueNames names, Path dir) {
    return """
        kafka:
          bootstrapServers: %s
          schemaRegistryUrl: %s
          topicPrefix: %s
          partitions: 1
        stateDir: %s
        ingest:
          producers: 1
        trainingTrigger:
          artifactDir: %s
          workDir: %s
        """.formatted(devstack.bootstrapServers(), devstack.schemaRegistryUrl(), names.prefix(),
        dir.resolve("state"), dir.resolve("artifacts"), dir.resolve("training"))
        + ServiceCatalogFixtures.EVERY_SERVICE;
  }

  private static FeatureVector firstVector(Devstack devstack, Topic<String, FeatureVector> topic,
      String group) {
    Map<String, Object> props = Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, devstack.bootstrapServers(),
        ConsumerConfig.GROUP_ID_CONFIG, group,
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    try (KafkaConsumer<String, FeatureVector> consumer = new KafkaConsumer<>(props,
        topic.keySerde().deserializer(), topic.valueSerde().deserializer())) {
      consumer.subscribe(List.of(topic.name()));
      List<FeatureVector> seen = new ArrayList<>();
      await().atMost(Duration.ofSeconds(60)).until(() -> {
        for (ConsumerRecord<String, FeatureVector> r : consumer.poll(Duration.ofMillis(200))) {
          seen.add(r.value());
        }
        return !seen.isEmpty();
      });
      return seen.get(0);
    }
  }

  private static HttpResponse<String> get(String url) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
        .GET().build(), HttpResponse.BodyHandlers.ofString());
  }
}
