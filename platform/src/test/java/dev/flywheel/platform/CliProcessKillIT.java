package dev.flywheel.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.ChildProcesses;
import dev.flywheel.devstack.junit.CommittedValues;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.devstack.junit.WrittenRecords;
import dev.flywheel.events.FeatureVector;
import dev.flywheel.platform.runtime.ServiceCatalogFixtures;
import dev.flywheel.serde.AvroSerdeConfig;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.Topics;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * kill -9 of the real CLI ({@link FlywheelCli}) in a child JVM, on the shared test cluster, in
 * the middle of the stream, then the same command again on the same state directory: the feature
 * log, read_committed, holds exactly one vector per input event, each counting its card's earlier
 * events exactly once, and the restarted lookup answers with the last event. The command is
 * {@code flywheel up} (ingest and the feature engine in one process) or {@code flywheel run
 * features} (the feature engine alone, the source added beforehand with {@code flywheel sources
 * add}).
 */
@WithDevstack
class CliProcessKillIT {

  private static final int EVENTS = 3000;
  /** Events from this one on are sent only once the first child is killed. */
  private static final int KILLED_BY = 2000;
  private static final int CHUNK = 100;
  /** The child is killed once it has written at least this many vectors. */
  private static final int KILL_AFTER = 600;
  private static final int CARDS = 50;
  /** Event i happens i seconds after T0, so all 3000 fit in one hour: counts are exact. */
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private static final Pattern HTTP_LINE =
      Pattern.compile("HTTP +http://[0-9.]+:(\\d+)");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(2)).build();

  @TempDir Path workDir;

  @RegisterExtension final ChildProcesses children = new ChildProcesses();

  @ParameterizedTest(name = "flywheel {0}")
  @ValueSource(strings = {"up", "run features"})
  void shouldWriteExactlyOneVectorPerEventWhenTheCliIsKilledMidStreamAndStartedAgain(
      String command, Devstack devstack, UniqueNames names) throws Exception {
    // Given a flywheel.yaml declaring the payments source and the card_spend group on the shared
    // cluster (a killed member leaves its group after 6 s, the broker's minimum, not 45 s)
    Path state = workDir.resolve("state");
    Path yaml = workDir.resolve("flywheel.yaml");
    Files.writeString(yaml, """
        kafka:
          bootstrapServers: %s
          schemaRegistryUrl: %s
          topicPrefix: %s
          partitions: 3
          properties:
            session.timeout.ms: "6000"
            heartbeat.interval.ms: "1500"
        stateDir: %s
        """.formatted(devstack.bootstrapServers(), devstack.schemaRegistryUrl(), names.prefix(),
        state) + ServiceCatalogFixtures.PAYMENTS_AND_CARD_SPEND);
    AvroSerdes serdes = AvroSerdes.fromConfig(Map.of(
        AvroSerdeConfig.SCHEMA_REGISTRY_URL, devstack.schemaRegistryUrl()));
    Topics topics = Topics.builder(serdes).prefix(names.prefix()).build();
    Topic<String, GenericRecord> payments = topics.data("payments");

    // and the command running in a child JVM, the source registered (by its ingest, or before
    // 'flywheel run features' by 'flywheel sources add')
    if (command.startsWith("run")) {
      PaymentsSource.add(workDir, devstack, names);
    }
    Process first = flywheel(command, yaml, "first");
    awaitHealthy(first, "first");
    Schema schema = serdes.client().getLatest(payments.name() + "-value").schema();

    try (KafkaProducer<String, GenericRecord> producer = producer(devstack, payments);
        WrittenRecords written = new WrittenRecords(devstack.bootstrapServers(),
            topics.features().name())) {
      // When the first 2000 events go out, the last 1000 held back until the child is killed
      CountDownLatch killed = new CountDownLatch(1);
      AtomicInteger sent = new AtomicInteger();
      CompletableFuture<Void> producing = CompletableFuture.runAsync(() -> {
        for (int from = 0; from < EVENTS; from += CHUNK) {
          if (from == KILLED_BY) {
            await().atMost(Duration.ofSeconds(60)).until(() -> killed.getCount() == 0);
          }
          send(producer, payments, schema, from, from + CHUNK);
          sent.set(from + CHUNK);
        }
      });
      // and the child is killed without close once it has written vectors for the first 600,
      // with a backlog of up to 1400 still to process
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(10))
          .until(() -> written.count() >= KILL_AFTER);
      first.destroyForcibly().waitFor();
      int sentAtKill = sent.get();
      killed.countDown();
      int committedAtKill = vectors(devstack, topics).size();
      System.out.println("killed 'flywheel " + command + "' with " + written.count() + " vectors written, "
          + committedAtKill + " committed, " + sentAtKill + " of " + EVENTS + " events sent");
      // and the rest of the events is sent while it is down
      producing.get(60, TimeUnit.SECONDS);

      // Then the kill landed mid-stream: the killed child had at most the first 2000 events, so
      // the last third of the input is left for the restart
      assertThat(sentAtKill).as("events sent before the kill").isLessThanOrEqualTo(KILLED_BY);
      assertThat(committedAtKill).as("vectors committed when killed")
          .isLessThanOrEqualTo(KILLED_BY);

      // When the command starts again on the same state directory
      Process second = flywheel(command, yaml, "second");
      int port = awaitHealthy(second, "second");
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
          .until(() -> vectors(devstack, topics).size() >= EVENTS);

      // Then the restarted lookup answers the last event's card as of the last event
      int last = EVENTS - 1;
      JsonNode lookup = await().atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(200)).ignoreExceptions()
          .until(() -> JSON.readTree(get("http://127.0.0.1:" + port + "/features/card_spend/"
              + card(last)).body()), body -> body.has("found"));
      assertThat(lookup.path("found").asBoolean()).as(lookup.toString()).isTrue();
      assertThat(lookup.path("eventId").asText()).isEqualTo(eventId(last));
      assertThat(lookup.path("asOfMillis").asLong()).isEqualTo(time(last).toEpochMilli());
      assertThat(lookup.path("features").path("tx_count_1h").asDouble())
          .isEqualTo(expectedCount(last));

      // When it is stopped cleanly (SIGTERM), committing what it holds
      second.destroy();
      assertThat(second.waitFor(60, TimeUnit.SECONDS)).isTrue();
    }

    // Then the feature log holds exactly one vector per event, none twice, none missing
    List<FeatureVector> vectors = vectors(devstack, topics);
    Set<String> truth = IntStream.range(0, EVENTS).mapToObj(CliProcessKillIT::eventId)
        .collect(Collectors.toSet());
    assertThat(vectors).hasSize(EVENTS);
    assertThat(vectors.stream().map(FeatureVector::getEventId).collect(Collectors.toSet()))
        .isEqualTo(truth);
    // and each vector counts its card's events up to it exactly once: the state restored after
    // the kill neither lost nor repeated an event
    Map<String, FeatureVector> byEvent = vectors.stream()
        .collect(Collectors.toMap(FeatureVector::getEventId, Function.identity()));
    for (int i = 0; i < EVENTS; i++) {
      assertThat(byEvent.get(eventId(i)).getFeatures().get("tx_count_1h"))
          .as("tx_count_1h of %s", eventId(i)).isEqualTo(expectedCount(i));
    }
  }

  /**
   * Runs {@code flywheel <command> -c <yaml> --http-port 0} through {@link FlywheelCli}'s main.
   */
  private Process flywheel(String command, Path yaml, String label) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> args = new ArrayList<>(List.of(java, "-Xmx384m",
        "-cp", System.getProperty("java.class.path"), FlywheelCli.class.getName()));
    args.addAll(List.of(command.split(" ")));
    args.addAll(List.of("-c", yaml.toString(), "--http-port", "0"));
    ProcessBuilder pb = new ProcessBuilder(args);
    // the cluster comes from flywheel.yaml alone, whatever this JVM's environment says
    pb.environment().keySet().removeIf(name -> name.startsWith("FLYWHEEL_"));
    pb.directory(workDir.toFile());
    pb.redirectErrorStream(true).redirectOutput(log(label).toFile());
    Process process = pb.start();
    children.add(process);
    System.out.println("flywheel " + command + " " + label + " (pid " + process.pid() + ") logs to "
        + log(label));
    return process;
  }

  /** Waits until the child printed its HTTP port and {@code /health} answers 200 there. */
  private int awaitHealthy(Process child, String label) {
    int port = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
        .until(() -> {
          assertThat(child.isAlive()).as("flywheel %s exited: %s", label,
              Files.readString(log(label))).isTrue();
          Matcher m = HTTP_LINE.matcher(Files.readString(log(label)));
          return m.find() ? Integer.parseInt(m.group(1)) : 0;
        }, p -> p > 0);
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
        .ignoreExceptions()
        .until(() -> get("http://127.0.0.1:" + port + "/health").statusCode() == 200);
    return port;
  }

  private Path log(String label) {
    return workDir.resolve("flywheel-" + label + ".log");
  }

  private static KafkaProducer<String, GenericRecord> producer(Devstack devstack,
      Topic<String, GenericRecord> topic) {
    return new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, devstack.bootstrapServers(),
        ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
        // one in flight: no batch overtakes a retried first one (KAFKA-15591)
        ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1),
        topic.keySerde().serializer(), topic.valueSerde().serializer());
  }

  /** Sends events {@code from .. to-1} and waits until the broker has every one. */
  private static void send(KafkaProducer<String, GenericRecord> producer,
      Topic<String, GenericRecord> topic, Schema schema, int from, int to) {
    List<Future<?>> sent = new ArrayList<>();
    for (int i = from; i < to; i++) {
      GenericData.Record payment = new GenericData.Record(schema);
      payment.put("event_id", eventId(i));
      payment.put("card_id", card(i));
      payment.put("amount", 1.0 + i % 7);
      payment.put("event_time", time(i).toEpochMilli());
      sent.add(producer.send(new ProducerRecord<>(topic.name(), null, time(i).toEpochMilli(),
          card(i), payment)));
    }
    producer.flush();
    try {
      for (Future<?> f : sent) {
        f.get();
      }
    } catch (Exception e) {
      throw new IllegalStateException("sending events " + from + ".." + (to - 1) + " failed", e);
    }
  }

  private static List<FeatureVector> vectors(Devstack devstack, Topics topics) {
    return CommittedValues.of(devstack.bootstrapServers(), topics.features());
  }

  private static String eventId(int i) {
    return "pay-" + i;
  }

  private static String card(int i) {
    return "card-" + i % CARDS;
  }

  private static Instant time(int i) {
    return T0.plusSeconds(i);
  }

  /** Events of card(i) up to and including event i, all within the hour. */
  private static double expectedCount(int i) {
    return i / CARDS + 1;
  }

  private static HttpResponse<String> get(String url) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
        .GET().build(), HttpResponse.BodyHandlers.ofString());
  }
}
