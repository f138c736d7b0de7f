package dev.flywheel.systemtests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.driftdetector.DriftDetectorService;
import dev.flywheel.driftdetector.config.DriftDetectorConfig;
import dev.flywheel.events.DriftReport;
import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.Label;
import dev.flywheel.events.ModelArtifact;
import dev.flywheel.events.ModelEvent;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.Prediction;
import dev.flywheel.events.RegistryCommand;
import dev.flywheel.featurestreams.FeatureStreamsConfig;
import dev.flywheel.featurestreams.FeatureStreamsService;
import dev.flywheel.ingest.IngestConfig;
import dev.flywheel.ingest.file.FileProducer;
import dev.flywheel.ingest.file.FileProducerSummary;
import dev.flywheel.ingest.http.IngestService;
import dev.flywheel.registryprojector.RegistryConfig;
import dev.flywheel.registryprojector.RegistryProjectorService;
import dev.flywheel.servingsink.ServingSinkConfig;
import dev.flywheel.servingsink.ServingSinkService;
import dev.flywheel.topics.DeadLetterHeaders;
import dev.flywheel.topics.Topic;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.awaitility.core.ConditionTimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Poison pills mixed with good records into the input of every processor of the chain ingest →
 * feature-streams → serving-sink → drift-detector, and into registry-projector's commands: random
 * bytes, a schema id the registry does not have, truncated Avro, and Avro of another schema on the
 * topics; JSON that breaks the source's schema through ingest's HTTP API and its file producer.
 * Every good record is processed (counted on the outputs, read_committed), every bad one is on
 * the right {@code .dlq} with {@code flywheel.error}, and the good records sent after the pills
 * arrive too, so no processor stalled on them.
 */
@WithDevstack
class PoisonPillIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  /** Good transactions: 200 straight to the topic, 200 by HTTP, 200 from a file, 400 after. */
  private static final int DIRECT_BEFORE = 200;
  private static final int HTTP_GOOD = 200;
  private static final int FILE_GOOD = 200;
  private static final int DIRECT_AFTER = 400;
  private static final int GOOD = DIRECT_BEFORE + HTTP_GOOD + FILE_GOOD + DIRECT_AFTER;
  private static final int DRIFT_WINDOW = 250;
  private static final int COMMANDS = 20;

  @TempDir Path dir;

  @Test
  void shouldProcessEveryGoodRecordAndDeadLetterEveryPoisonPill(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given the topics, ingest with the transactions source, and the model promoted
    Loop loop = new Loop(devstack, names, dir).createTopics();
    ModelArtifact artifact = loop.writeModel(dir.resolve("models"), 1);
    ModelPromoted promoted = loop.promoted(1, artifact);
    try (KafkaProducer<String, ModelPromoted> p = loop.producer(loop.topics.modelPromoted())) {
      // stamped before the first transaction, so drift-detector reads it before predictions
      p.send(new ProducerRecord<>(loop.topics.modelPromoted().name(), null,
          loop.timeMs(0) - 60_000, Loop.MODEL, promoted)).get();
    }
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    try (IngestService ingest = IngestService.builder()
            .config(IngestConfig.parse(ingestYaml()))
            .configDir(dir)
            .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers()))
            .serdes(loop.serdes).topics(loop.topics).host("127.0.0.1")
            .meterRegistry(meters).build().start();
        // and every processor of the chain running
        FeatureStreamsService features = FeatureStreamsService.builder()
            .config(FeatureStreamsConfig.load(loop.featuresYaml()))
            .bootstrapServers(devstack.bootstrapServers())
            .schemaRegistryUrl(devstack.schemaRegistryUrl())
            .topicPrefix(names.prefix())
            .applicationId(names.applicationId("features"))
            .stateDir(Files.createDirectories(dir.resolve("features-state")))
            .meterRegistry(meters).build().start();
        ServingSinkService serving = ServingSinkService.builder()
            .config(ServingSinkConfig.load(loop.servingYaml("a")))
            .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers()))
            .topics(loop.topics).meters(meters).build().start();
        DriftDetectorService drift = DriftDetectorService.builder()
            .config(DriftDetectorConfig.load(loop.driftYaml(DRIFT_WINDOW)))
            .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers()))
            .schemaRegistryUrl(devstack.schemaRegistryUrl())
            .topics(loop.topics).serdes(loop.serdes)
            .stateDir(Files.createDirectories(dir.resolve("drift-state")))
            .meterRegistry(meters).build().start();
        RegistryProjectorService registry = RegistryProjectorService.builder()
            .config(RegistryConfig.parse(Files.readString(loop.registryYaml())))
            .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers()))
            .serdes(loop.serdes).topics(loop.topics)
            .stateDir(Files.createDirectories(dir.resolve("registry-state")))
            .build().start()) {

      // (drift-detector takes the promotion first, so it counts predictions straight into windows)
      loop.awaitDriftHoldsPromotion();

      // When good transactions and commands go in
      loop.produceTransactions(0, DIRECT_BEFORE);
      sendCommands(loop, 0, COMMANDS / 2);
      // and poison pills into every processor's input topic
      Map<String, List<byte[]>> pills = new java.util.LinkedHashMap<>();
      pills.put(loop.data().name(), pills(loop, loop.data(), loop.transaction(0),
          loop.topics.labels(), label()));
      pills.put(loop.topics.features().name(), pills(loop, loop.topics.features(),
          vector(), loop.topics.predictions(), prediction()));
      pills.put(loop.topics.predictions().name(), pills(loop, loop.topics.predictions(),
          prediction(), loop.topics.features(), vector()));
      pills.put(loop.topics.registryCommands().name(), pills(loop,
          loop.topics.registryCommands(), command(0), loop.topics.modelPromoted(), promoted));
      pills.forEach(loop::sendRaw);
      // and JSON that breaks the schema through HTTP, between good batches
      int from = DIRECT_BEFORE;
      List<String> badJson = badJson(loop);
      long httpDeadLettered = 0;
      for (int b = 0; b < badJson.size(); b++) {
        HttpResponse<String> good = post(ingest, jsonArray(loop, from, HTTP_GOOD / 4));
        assertThat(good.statusCode()).as(good.body()).isEqualTo(202);
        from += HTTP_GOOD / 4;
        HttpResponse<String> bad = post(ingest, "[" + badJson.get(b) + "]");
        assertThat(bad.statusCode()).as(bad.body()).isEqualTo(422);
        JsonNode answer = JSON.readTree(bad.body());
        assertThat(answer.path("errors").get(0).path("reason").asText()).isNotBlank();
        httpDeadLettered += answer.path("deadLettered").asLong();
      }
      assertThat(httpDeadLettered).isEqualTo(badJson.size());
      // and a file with good and bad lines through the file producer
      List<String> lines = new ArrayList<>();
      for (int i = 0; i < FILE_GOOD; i++) {
        lines.add(loop.transactionJson(from + i));
        if (i % 50 == 0) {
          lines.addAll(badJson);
          lines.add("{not json at all");
        }
      }
      from += FILE_GOOD;
      Path file = Files.write(dir.resolve("transactions.jsonl"), lines);
      FileProducerSummary summary = FileProducer.builder()
          .bootstrapServers(devstack.bootstrapServers()).topics(loop.topics)
          .source(ingest.catalog().find(Loop.SOURCE).orElseThrow()).build().produce(file);
      assertThat(summary.produced()).isEqualTo(FILE_GOOD);
      long fileInvalid = lines.size() - FILE_GOOD;
      assertThat(summary.invalid()).isEqualTo(fileInvalid);
      // and more good records after all the pills
      loop.produceTransactions(from, DIRECT_AFTER);
      sendCommands(loop, COMMANDS / 2, COMMANDS / 2);

      // Then every good transaction has exactly one feature vector
      Set<String> expectedEvents = IntStream.range(0, GOOD).mapToObj(Loop::eventId)
          .collect(Collectors.toSet());
      await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
          .until(() -> loop.readCommitted(loop.topics.features()).size() >= GOOD);
      List<FeatureVector> vectors = loop.readCommitted(loop.topics.features()).stream()
          .filter(v -> !v.getEventId().equals(vector().getEventId())).toList();
      assertThat(vectors).hasSize(GOOD);
      assertThat(vectors.stream().map(FeatureVector::getEventId).collect(Collectors.toSet()))
          .isEqualTo(expectedEvents);
      // and exactly one prediction, by v1
      await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
          .until(() -> loop.readCommitted(loop.topics.predictions()).size() >= GOOD);
      List<Prediction> predictions = loop.readCommitted(loop.topics.predictions()).stream()
          .filter(p -> !p.getEventId().equals(prediction().getEventId())).toList();
      assertThat(predictions).hasSize(GOOD).allSatisfy(p -> assertThat(p.getVersion()).isOne());
      assertThat(predictions.stream().map(Prediction::getEventId).collect(Collectors.toSet()))
          .isEqualTo(expectedEvents);
      // and drift-detector counted every prediction once, in full windows
      try {
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
            .until(() -> loop.readCommitted(loop.topics.driftReports()).size() >= GOOD
                / DRIFT_WINDOW);
      } catch (ConditionTimeoutException e) {
        loop.readCommitted(loop.topics.driftReports())
            .forEach(r -> System.out.println("drift report so far: " + r.getWindow()));
        throw e;
      }
      List<DriftReport> reports = loop.readCommitted(loop.topics.driftReports());
      reports.forEach(r -> System.out.println("drift report: " + r.getWindow()));
      assertThat(reports).hasSize(GOOD / DRIFT_WINDOW);
      assertThat(reports.stream().mapToLong(r -> r.getWindow().getCount()).sum())
          .isEqualTo(GOOD);
      // and registry-projector decided every good command once
      await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500))
          .until(() -> loop.readCommitted(loop.topics.modelEvents()).size() >= COMMANDS);
      List<ModelEvent> events = loop.readCommitted(loop.topics.modelEvents());
      assertThat(events).hasSize(COMMANDS);

      // and every pill is on its topic's dead-letter topic, byte for byte, with the reason
      for (Map.Entry<String, List<byte[]>> e : pills.entrySet()) {
        String dlq = loop.topics.dlq(e.getKey()).name();
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500))
            .until(() -> pillsOn(loop, dlq, e.getValue()).size() == e.getValue().size());
        for (ConsumerRecord<byte[], byte[]> r : pillsOn(loop, dlq, e.getValue())) {
          assertThat(header(r, DeadLetterHeaders.ERROR)).as("reason on %s", dlq).isNotBlank();
        }
      }
      // and the bad JSON from HTTP and from the file is on the source's dead-letter topic
      List<ConsumerRecord<byte[], byte[]>> sourceDlq =
          loop.readRaw(loop.topics.dlq(loop.data()).name());
      List<ConsumerRecord<byte[], byte[]>> jsonDeadLetters = sourceDlq.stream()
          .filter(r -> pills.get(loop.data().name()).stream()
              .noneMatch(p -> Arrays.equals(p, r.value()))).toList();
      assertThat(jsonDeadLetters).hasSize((int) (httpDeadLettered + fileInvalid))
          .allSatisfy(r -> assertThat(header(r, DeadLetterHeaders.ERROR)).isNotBlank());
      assertThat(jsonDeadLetters.stream().filter(r -> header(r, DeadLetterHeaders.LINE) != null))
          .as("the file's invalid lines, with their line numbers").hasSize((int) fileInvalid);
      // and nothing else landed on the dead-letter topics of the chain
      assertThat(sourceDlq).hasSize(4 + (int) (httpDeadLettered + fileInvalid));
      assertThat(loop.readRaw(loop.topics.dlq(loop.topics.features()).name())).hasSize(4);
      assertThat(loop.readRaw(loop.topics.dlq(loop.topics.predictions()).name())).hasSize(4);
      assertThat(loop.readRaw(loop.topics.dlq(loop.topics.registryCommands()).name()))
          .hasSize(4);
    }
  }

  /**
   * Four poison pills for {@code topic}: random bytes, a good record's body behind a schema id
   * the registry does not have, a good record truncated, and a record of another schema
   * (registered, so its id resolves) in the right wire format.
   */
  private static <V, W> List<byte[]> pills(Loop loop, Topic<String, V> topic, V good,
      Topic<String, W> other, W otherValue) {
    byte[] goodBytes = topic.valueSerde().serializer().serialize(topic.name(), good);
    byte[] random = new byte[64];
    new Random(topic.name().hashCode()).nextBytes(random);
    random[0] = 0x7f;
    byte[] unknownId = goodBytes.clone();
    unknownId[1] = 0x7f; // magic byte 0, schema id 0x7f.. (not in the registry), same body
    byte[] truncated = Arrays.copyOf(goodBytes, goodBytes.length / 2);
    byte[] otherSchema = other.valueSerde().serializer().serialize(other.name(), otherValue);
    return List.of(random, unknownId, truncated, otherSchema);
  }

  private static List<ConsumerRecord<byte[], byte[]>> pillsOn(Loop loop, String dlq,
      List<byte[]> pills) {
    return loop.readRaw(dlq).stream()
        .filter(r -> pills.stream().anyMatch(p -> Arrays.equals(p, r.value()))).toList();
  }

  private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
    Header h = record.headers().lastHeader(name);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  /** Transactions that break the schema in different ways (each also in the file). */
  private static List<String> badJson(Loop loop) {
    String good = loop.transactionJson(999_999);
    return List.of(
        good.replace("\"card_id\": \"card-49\", ", ""),                   // required field missing
        good.replaceFirst("\"amount\": [0-9.E-]+", "\"amount\": \"lots\""), // wrong type
        good.replaceFirst("\"channel\": \"[A-Z]+\"", "\"channel\": \"TELEPATHY\""), // no symbol
        good.replace("}", ", \"tip\": 3}"));                                 // unknown field
  }

  private static String jsonArray(Loop loop, int from, int count) {
    return IntStream.range(from, from + count).mapToObj(loop::transactionJson)
        .collect(Collectors.joining(",\n", "[", "]"));
  }

  private static HttpResponse<String> post(IngestService ingest, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(ingest.url() + "/ingest/" + Loop.SOURCE))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private String ingestYaml() {
    String schema = Loop.sourceSchema().toString().replace("'", "''");
    return String.join("\n",
        "sources:",
        "  - name: " + Loop.SOURCE,
        "    schema: '" + schema + "'",
        "    key: card_id",
        "    time: event_time",
        "ingest:",
        "  port: 0",
        "  producers: 1",
        "");
  }

  private static void sendCommands(Loop loop, int from, int count) {
    loop.sendCommands(IntStream.range(from, from + count).mapToObj(PoisonPillIT::command)
        .toList());
  }

  private static RegistryCommand command(int i) {
    return Loop.registerVersion("poison-pill-model", "pp-cmd-" + i, i);
  }

  private static Label label() {
    return Label.newBuilder().setEventId("l-1").setEventTime(Instant.now()).setValue(1.0)
        .setSource("test").build();
  }

  private static FeatureVector vector() {
    Instant t = Instant.now();
    return FeatureVector.newBuilder().setEventId("v-1").setEventTime(t).setEntityId("card-1")
        .setFeatureGroup(Loop.GROUP).setFeatures(Map.of("amount_last", 1.0)).setAsOf(t).build();
  }

  private static Prediction prediction() {
    Instant t = Instant.now();
    return Prediction.newBuilder().setEventId("p-1").setPredictionId("p-1-v1").setEventTime(t)
        .setScoredAt(t).setEntityId("card-1").setModel(Loop.MODEL).setVersion(1)
        .setAlias("champion").setScore(0.5).setFeatures(Map.of("amount_last", 1.0))
        .setLatencyMicros(0L).build();
  }
}
