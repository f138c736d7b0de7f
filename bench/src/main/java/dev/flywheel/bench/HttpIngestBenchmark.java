package dev.flywheel.bench;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.ingest.IngestConfig;
import dev.flywheel.ingest.file.FileProducer;
import dev.flywheel.ingest.http.IngestService;
import dev.flywheel.ingest.source.SourceCatalog;
import dev.flywheel.ingest.source.SourceDefinition;
import dev.flywheel.serde.AvroSerdeConfig;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.serialization.Serdes;

/**
 * HTTP ingest throughput next to Kafka's own {@code ProducerPerformance}, on the same embedded
 * broker in the same run.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.flywheel.bench.HttpIngestBenchmark \
 *     [records] [rounds] [concurrent clients]
 * </pre>
 *
 * <p>Starts a {@link Devstack} and an {@link IngestService} with a card-transaction source (the
 * schema of {@link FileProducerBenchmark}, about 200 bytes per event as JSON), builds JSON-array
 * bodies of 500 events, and per round posts {@code records} (default 200,000) events to {@code
 * POST /ingest/bench-tx} from {@code clients} (default 16) concurrent HTTP clients, each waiting
 * for its 202 before the next batch: the time runs from the first request to the last 202. Then
 * {@code ProducerPerformance} sends the same count of 200-byte records with the same producer
 * settings (those of the ingest producer here: {@link FileProducer#throughputDefaults()}). A warm-up
 * round of a tenth is not reported. Prints both rates per round and the median of the per-round
 * ratios; the goal is HTTP ingest at 25% or more of the raw producer.
 */
public final class HttpIngestBenchmark {

  private static final String SOURCE = "bench-tx";
  private static final int BATCH = 500;
  private static final int RECORD_SIZE = 200;
  private static final Pattern COUNT = Pattern.compile("\"count\":(\\d+)");

  private HttpIngestBenchmark() {}

  public static void main(String[] args) throws Exception {
    int records = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    int clients = args.length > 2 ? Integer.parseInt(args[2]) : 16;
    Path dir = Files.createTempDirectory("flywheel-http-bench");
    Path lines = FileProducerBenchmark.writeEvents(dir.resolve("events.jsonl"), records);
    List<String> bodies = batches(Files.readAllLines(lines, StandardCharsets.UTF_8));
    Files.delete(lines);
    Files.delete(dir);
    try (Devstack devstack = Devstack.builder().build().start()) {
      AvroSerdes serdes = AvroSerdes.fromConfig(Map.of(
          AvroSerdeConfig.SCHEMA_REGISTRY_URL, devstack.schemaRegistryUrl()));
      Topics topics = Topics.builder(serdes).build();
      Map<String, Object> kafka = new HashMap<>(FileProducer.throughputDefaults());
      kafka.put("bootstrap.servers", devstack.bootstrapServers());
      try (Admin admin = Admin.create(Map.of(
              AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, devstack.bootstrapServers()));
          IngestService ingest = IngestService.builder()
              .config(IngestConfig.parse("ingest: {port: 0}\n"))
              .kafka(kafka)
              .serdes(serdes)
              .topics(topics)
              .host("127.0.0.1")
              .build()
              .start()) {
        new SourceCatalog(topics, serdes.client(), admin).add(SourceDefinition.builder(SOURCE)
            .schema(FileProducerBenchmark.SCHEMA).keyField("card_id").timeField("event_time")
            .build());
        KafkaPerfTools.awaitLeadersServing(admin, topics.data(SOURCE).name(),
            topics.partitions());
        System.out.printf(Locale.ROOT, "%,d events in %,d JSON-array bodies of %d (%.0f bytes per"
                + " event), %d concurrent clients%n", records, bodies.size(), BATCH,
            bodies.stream().mapToLong(String::length).sum() / (double) records, clients);
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        URI uri = URI.create(ingest.url() + "/ingest/" + SOURCE);
        List<double[]> results = new ArrayList<>();
        for (int round = 0; round <= rounds; round++) {
          boolean warmUp = round == 0;
          List<String> roundBodies = warmUp
              ? bodies.subList(0, Math.max(1, bodies.size() / 10)) : bodies;
          int count = Math.min(records, roundBodies.size() * BATCH);
          double https = post(http, uri, roundBodies, clients, count);
          String rawTopic = "bench.raw.http." + round;
          Topic<byte[], byte[]> raw = new Topic<>(rawTopic, Serdes.ByteArray(), Serdes.ByteArray(),
              topics.partitions(), topics.replicationFactor(), Map.of());
          new TopicBootstrap(admin).ensure(List.of(raw));
          KafkaPerfTools.awaitLeadersServing(admin, rawTopic, topics.partitions());
          double raws = KafkaPerfTools.producerPerformance(devstack.bootstrapServers(), rawTopic,
              count, RECORD_SIZE, FileProducer.throughputDefaults());
          if (warmUp) {
            System.out.printf(Locale.ROOT, "warm-up (%,d records): HTTP ingest %,.0f records/s,"
                + " ProducerPerformance %,.0f records/s%n", count, https, raws);
          } else {
            results.add(new double[] {https, raws});
            System.out.printf(Locale.ROOT, "round %d: HTTP ingest %,.0f records/s,"
                + " ProducerPerformance %,.0f records/s, ratio %.1f%%%n", round, https, raws,
                100 * https / raws);
          }
        }
        double httpRate = results.stream().mapToDouble(r -> r[0]).sorted().toArray()[rounds / 2];
        double rawRate = results.stream().mapToDouble(r -> r[1]).sorted().toArray()[rounds / 2];
        double ratio =
            results.stream().mapToDouble(r -> r[0] / r[1]).sorted().toArray()[rounds / 2];
        System.out.printf(Locale.ROOT, "median of %d rounds of %,d records: HTTP ingest %,.0f"
                + " records/s, ProducerPerformance %,.0f records/s (%d-byte records); median ratio"
                + " of the rounds %.1f%% (goal >= 25%%); %d cores, max heap %d MiB%n", rounds,
            records, httpRate, rawRate, RECORD_SIZE, 100 * ratio,
            Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20);
      }
    }
  }

  /** JSON-array bodies of {@value #BATCH} events each. */
  private static List<String> batches(List<String> events) {
    List<String> bodies = new ArrayList<>();
    for (int from = 0; from < events.size(); from += BATCH) {
      bodies.add("[" + String.join(",", events.subList(from, Math.min(events.size(),
          from + BATCH))) + "]");
    }
    return bodies;
  }

  /** Posts every body from {@code clients} threads; returns records/s over the whole run. */
  private static double post(HttpClient http, URI uri, List<String> bodies, int clients,
      int expected) throws Exception {
    AtomicInteger next = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    long start = System.nanoTime();
    List<Future<Integer>> workers = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      workers.add(pool.submit(() -> {
        int written = 0;
        for (int i = next.getAndIncrement(); i < bodies.size(); i = next.getAndIncrement()) {
          HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri)
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString(bodies.get(i))).build(),
              HttpResponse.BodyHandlers.ofString());
          Matcher count = COUNT.matcher(response.body());
          if (response.statusCode() != 202 || !count.find()) {
            throw new IllegalStateException("batch " + i + " answered " + response.statusCode()
                + ": " + response.body());
          }
          written += Integer.parseInt(count.group(1));
        }
        return written;
      }));
    }
    int written = 0;
    for (Future<Integer> worker : workers) {
      written += worker.get();
    }
    long elapsed = System.nanoTime() - start;
    pool.shutdown();
    if (written != expected) {
      throw new IllegalStateException("HTTP ingest wrote " + written + " of " + expected);
    }
    return written / (elapsed / 1e9);
  }
}
