package dev.flywheel.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flywheel.devstack.Devstack;
import dev.flywheel.featurestreams.FeatureStreamsConfig;
import dev.flywheel.featurestreams.FeatureStreamsService;
import dev.flywheel.featurestreams.lookup.FeatureLookupService;
import dev.flywheel.featurestreams.lookup.LookupGroup;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.Socket;
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
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Online lookup latency at a fixed request rate over HTTP, next to Redis GET on the same machine,
 * and freshness (produce → visible in a lookup).
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.flywheel.bench.FeatureLookupBenchmark \
 *     [rate] [seconds] [cards] [events] [connections] [freshness samples]
 * </pre>
 *
 * <p>Starts a devstack, produces {@code events} (default 100,000) card transactions over {@code
 * cards} (default 20,000) cards, runs {@link FeatureStreamsService} with {@code card_activity}
 * and {@link FeatureLookupService} on its own port until every event is processed. Then:
 *
 * <ol>
 *   <li><b>Latency.</b> {@link PacedLoad} sends {@code GET /features/card_activity/<card>} of
 *       random cards at {@code rate} (default 5,000) requests/s over {@code connections}
 *       (default 16) keep-alive connections for 10 s of warm-up, then {@code seconds} (default
 *       30) measured, latency counted from each request's due time (coordinated omission
 *       corrected), every answer checked to be 200 with {@code "found":true}.
 *   <li><b>Redis.</b> When {@code redis-server} is on the PATH: a fresh server without
 *       persistence, one key per card holding a value the size of a lookup answer, the same
 *       paced load with RESP GETs; then {@code redis-benchmark -t get} (closed loop) for its own
 *       figures.
 *   <li><b>Freshness.</b> One at a time, a new transaction of a random card is produced (acks=all,
 *       no linger) and the card is looked up over HTTP in a loop until the answer's {@code
 *       eventId} is the new event's: the time from before {@code send} to that answer.
 * </ol>
 *
 * <p>Client, lookup, feature engine, broker and registry share the JVM and the machine.
 */
public final class FeatureLookupBenchmark {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String GROUP = "card_activity";

  private FeatureLookupBenchmark() {}

  public static void main(String[] args) throws Exception {
    double rate = args.length > 0 ? Double.parseDouble(args[0]) : 5_000;
    double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 30;
    int cards = args.length > 2 ? Integer.parseInt(args[2]) : 20_000;
    int events = args.length > 3 ? Integer.parseInt(args[3]) : 100_000;
    int connections = args.length > 4 ? Integer.parseInt(args[4]) : 16;
    int freshnessSamples = args.length > 5 ? Integer.parseInt(args[5]) : 500;
    Path stateDir = Files.createTempDirectory("flywheel-lookup-bench");
    int port = freePort();
    try (Devstack devstack = Devstack.builder().build().start();
        Admin admin = CardActivityFixture.admin(devstack.bootstrapServers())) {
      CardActivityFixture fx = CardActivityFixture.create(devstack.bootstrapServers(),
          devstack.schemaRegistryUrl(), 3);
      Random cardOf = new Random(11);
      fx.produce(events, 2_000, i -> "card-" + cardOf.nextInt(cards), 2);
      FeatureStreamsConfig config = FeatureStreamsConfig.cardActivity();
      String applicationId = "bench-lookup";
      try (FeatureStreamsService features = FeatureStreamsService.builder()
              .config(config)
              .bootstrapServers(devstack.bootstrapServers())
              .schemaRegistryUrl(devstack.schemaRegistryUrl())
              .serdes(fx.serdes)
              .topics(fx.topics)
              .applicationId(applicationId)
              .stateDir(stateDir)
              .applicationServer("127.0.0.1:" + port)
              .build()
              .start();
          FeatureLookupService lookup = FeatureLookupService.builder()
              .streams(features::kafkaStreams)
              .applicationServer("127.0.0.1:" + port)
              .groups(LookupGroup.of(config))
              .port(port)
              .bindHost("127.0.0.1")
              .build()
              .start()) {
        CardActivityFixture.awaitRunning(features.kafkaStreams(), Duration.ofMinutes(2));
        long t0 = System.nanoTime();
        CardActivityFixture.awaitCommittedToEnd(admin, applicationId, fx.data.name(),
            Duration.ofMinutes(20));
        System.out.printf(Locale.ROOT, "%,d events of %,d cards processed in %.1f s%n", events,
            cards, (System.nanoTime() - t0) / 1e9);

        // every card that had an event; the lookup of others would answer defaults
        List<String> known = new ArrayList<>();
        Random again = new Random(11);
        java.util.Set<String> seen = new java.util.LinkedHashSet<>();
        for (int i = 0; i < events; i++) {
          seen.add("card-" + again.nextInt(cards));
        }
        known.addAll(seen);
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        String base = "http://127.0.0.1:" + port;
        String sample = http.send(HttpRequest.newBuilder(URI.create(base + "/features/" + GROUP
            + "/" + known.get(0))).build(), HttpResponse.BodyHandlers.ofString()).body();
        System.out.printf(Locale.ROOT, "a lookup answer is %d bytes of JSON: %s%n",
            sample.length(), sample);

        PacedLoad.Result lookupResult = paced("lookup", rate, seconds, connections,
            k -> httpGet(port, known));

        redis(rate, seconds, connections, known.size(), sample.length());

        Histogram freshness = freshness(fx, http, base, known, freshnessSamples, events);
        System.out.printf(Locale.ROOT, "%nSUMMARY lookup over HTTP at %,.0f req/s (%d"
                + " connections, %,.0f s): %s; errors %d%n", rate, connections, seconds,
            PacedLoad.describe(lookupResult.corrected()), lookupResult.errors());
        System.out.printf(Locale.ROOT, "SUMMARY freshness produce -> visible in lookup, %d"
                + " samples: p50 %.1f ms, p99 %.1f ms, max %.1f ms%n",
            freshness.getTotalCount(), freshness.getValueAtPercentile(50) / 1e6,
            freshness.getValueAtPercentile(99) / 1e6, freshness.getMaxValue() / 1e6);
      }
    } finally {
      Dirs.deleteQuietly(stateDir);
    }
  }

  private static PacedLoad.Connection httpGet(int port, List<String> known) {
    try {
      return new PacedLoad.HttpGet("127.0.0.1", port,
          seq -> "/features/" + GROUP + "/" + known.get(pick(seq, known.size())),
          "\"found\":true");
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** A pseudo-random index for request {@code seq}, the same for both systems. */
  private static int pick(long seq, int n) {
    long h = (seq + 1) * 0x9E3779B97F4A7C15L;
    return (int) Math.floorMod(h ^ (h >>> 31), (long) n);
  }

  private static PacedLoad.Result paced(String what, double rate, double seconds,
      int connections, java.util.function.IntFunction<PacedLoad.Connection> connect)
      throws InterruptedException {
    PacedLoad.Result warm = PacedLoad.run(rate, 10, connections, connect);
    System.out.printf(Locale.ROOT, "%s warm-up 10 s: %s, errors %d%n", what,
        PacedLoad.describe(warm.corrected()), warm.errors());
    PacedLoad.Result r = PacedLoad.run(rate, seconds, connections, connect);
    System.out.printf(Locale.ROOT, "%s at %,.0f req/s for %,.0f s (%,d requests, achieved %,.0f"
            + " req/s, %d errors)%n  corrected for coordinated omission: %s%n  service time"
            + " (from send): %s%n", what, rate, seconds, r.requests(), r.achievedRate(),
        r.errors(), PacedLoad.describe(r.corrected()), PacedLoad.describe(r.service()));
    return r;
  }

  private static void redis(double rate, double seconds, int connections, int keys,
      int valueBytes) throws Exception {
    if (!onPath("redis-server")) {
      System.out.println("redis: redis-server is not installed; Redis rows skipped");
      return;
    }
    int port = freePort();
    Process server = new ProcessBuilder("redis-server", "--port", Integer.toString(port),
        "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    try {
      Socket loader = null;
      for (int attempt = 0; attempt < 100 && loader == null; attempt++) {
        try {
          loader = new Socket("127.0.0.1", port);
        } catch (IOException e) {
          TimeUnit.MILLISECONDS.sleep(50);
        }
      }
      if (loader == null) {
        System.out.println("redis: the server did not start; Redis rows skipped");
        return;
      }
      byte[] value = new byte[valueBytes];
      java.util.Arrays.fill(value, (byte) 'x');
      try (Socket s = loader) {
        for (int i = 0; i < keys; i++) {
          PacedLoad.redisSet(s, redisKey(i), value);
        }
        s.getOutputStream().flush();
        java.io.InputStream in = s.getInputStream();
        for (int i = 0; i < keys; i++) {
          while (in.read() != '\n') {
            // skip "+OK\r\n"
          }
        }
      }
      paced("redis GET", rate, seconds, connections, k -> {
        try {
          return new PacedLoad.RedisGet("127.0.0.1", port, seq -> redisKey(pick(seq, keys)));
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      if (onPath("redis-benchmark")) {
        Process bench = new ProcessBuilder("redis-benchmark", "-h", "127.0.0.1", "-p",
            Integer.toString(port), "-t", "get", "-n", "200000", "-c",
            Integer.toString(connections), "-r", Integer.toString(keys), "-d",
            Integer.toString(valueBytes)).redirectErrorStream(true).start();
        String out;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(bench.getInputStream(),
            StandardCharsets.UTF_8))) {
          out = String.join("\n", r.lines().toList());
        }
        bench.waitFor();
        System.out.println("redis-benchmark -t get -n 200000 -c " + connections + " -r " + keys
            + " -d " + valueBytes + " (closed loop, as fast as it can):");
        boolean summary = false;
        for (String line : out.split("\n")) {
          String l = line.contains("\r") ? line.substring(line.lastIndexOf('\r') + 1) : line;
          if (l.contains("throughput summary") || l.contains("latency summary")) {
            summary = true;
          }
          if (summary || l.contains("99.9")) {
            System.out.println("  " + l.trim());
          }
        }
      }
    } finally {
      server.destroy();
      server.waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** The key redis-benchmark's {@code -r} reads: {@code key:} and 12 digits. */
  private static String redisKey(int i) {
    return String.format(Locale.ROOT, "key:%012d", i);
  }

  private static Histogram freshness(CardActivityFixture fx, HttpClient http, String base,
      List<String> known, int samples, int events) throws Exception {
    Map<String, Object> props = new HashMap<>();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, fx.bootstrap);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    props.put(ProducerConfig.LINGER_MS_CONFIG, 0);
    Histogram h = new Histogram(60_000_000_000L, 3);
    Random random = new Random(5);
    int failures = 0;
    try (KafkaProducer<String, GenericRecord> producer = new KafkaProducer<>(props,
        new StringSerializer(), fx.serdes.generic(false).serializer())) {
      // warm the producer's connection and metadata
      String firstCard = known.get(0);
      Instant last = CardActivityFixture.T0.plusMillis(events * 2_000L);
      producer.send(new ProducerRecord<>(fx.data.name(), null, last.toEpochMilli(), firstCard,
          fx.tx(random, "fresh-warm", firstCard, last))).get();
      for (int i = 0; i < samples; i++) {
        String card = known.get(random.nextInt(known.size()));
        String eventId = "fresh-" + i;
        Instant time = last.plusMillis((i + 1) * 1_000L);
        URI uri = URI.create(base + "/features/" + GROUP + "/" + card);
        long start = System.nanoTime();
        producer.send(new ProducerRecord<>(fx.data.name(), null, time.toEpochMilli(), card,
            fx.tx(random, eventId, card, time)));
        boolean seen = false;
        while (System.nanoTime() - start < 10_000_000_000L) {
          HttpResponse<byte[]> answer = http.send(HttpRequest.newBuilder(uri).build(),
              HttpResponse.BodyHandlers.ofByteArray());
          if (answer.statusCode() == 200) {
            JsonNode node = JSON.readTree(answer.body());
            if (eventId.equals(node.path("eventId").asText())) {
              seen = true;
              break;
            }
          }
        }
        if (seen) {
          h.recordValue(System.nanoTime() - start);
        } else {
          failures++;
        }
      }
    }
    System.out.printf(Locale.ROOT, "freshness: %d samples, %d not visible within 10 s: p50 %.1f"
            + " ms, p99 %.1f ms, max %.1f ms%n", h.getTotalCount(), failures,
        h.getValueAtPercentile(50) / 1e6, h.getValueAtPercentile(99) / 1e6,
        h.getMaxValue() / 1e6);
    return h;
  }

  private static boolean onPath(String command) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
      if (Files.isExecutable(Path.of(dir, command))) {
        return true;
      }
    }
    return false;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
