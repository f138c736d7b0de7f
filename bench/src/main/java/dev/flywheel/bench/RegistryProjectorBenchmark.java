package dev.flywheel.bench;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.events.Actor;
import dev.flywheel.events.ActorKind;
import dev.flywheel.events.BaselineProfile;
import dev.flywheel.events.FeatureKind;
import dev.flywheel.events.FeatureProfile;
import dev.flywheel.events.ModelArtifact;
import dev.flywheel.events.ModelEvent;
import dev.flywheel.events.ModelFormat;
import dev.flywheel.events.ModelLineage;
import dev.flywheel.events.ModelSignature;
import dev.flywheel.events.ModelTask;
import dev.flywheel.events.PromoteVersion;
import dev.flywheel.events.RegisterVersion;
import dev.flywheel.events.RegistryCommand;
import dev.flywheel.registryprojector.RegistryConfig;
import dev.flywheel.registryprojector.RegistryProjectorService;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import io.javalin.Javalin;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The registry projector with {@code models} × {@code versions} registered versions: commands
 * decided per second, and the query API's latency (p50, p99) on the resulting registry.
 *
 * <pre>
 * java -Xmx4g -cp bench/target/benchmarks.jar dev.flywheel.bench.RegistryProjectorBenchmark \
 *     [models] [versions] [queries]
 * </pre>
 *
 * <p>Starts a {@link Devstack}; writes {@code models} (default 1,000) × {@code versions} (default
 * 100) {@code RegisterVersion} commands (each with a 2-feature baseline, lineage and metrics),
 * plus a {@code PromoteVersion} to champion for every 10th version, to the command topic, one
 * second of event time apart; then starts {@link RegistryProjectorService} (exactly-once) and
 * counts the audit events on {@code flywheel.model.events} until every command is decided.
 * Commands/s = commands / (time of the last decision − time of the first). Then the query API
 * on a local Javalin server, one client thread, after 2,000 warm-up requests: {@code queries}
 * (default 20,000) requests of each kind at random models, versions and times. A fourth
 * argument sets {@code registry.stateVersions} (default 100).
 */
public final class RegistryProjectorBenchmark {

  private static final Instant T0 = Instant.parse("2026-11-01T00:00:00Z");

  private RegistryProjectorBenchmark() {}

  public static void main(String[] args) throws Exception {
    int models = args.length > 0 ? Integer.parseInt(args[0]) : 1_000;
    int versions = args.length > 1 ? Integer.parseInt(args[1]) : 100;
    int queries = args.length > 2 ? Integer.parseInt(args[2]) : 20_000;
    int stateVersions = args.length > 3 ? Integer.parseInt(args[3])
        : RegistryConfig.DEFAULT_STATE_VERSIONS;
    Path dir = Files.createTempDirectory("flywheel-registry-bench");
    try (Devstack devstack = Devstack.builder().build().start()) {
      String bootstrap = devstack.bootstrapServers();
      AvroSerdes serdes = AvroSerdes.fromConfig(
          Map.of("schema.registry.url", devstack.schemaRegistryUrl()));
      Topics topics = Topics.builder(serdes).prefix("bench").build();
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
        new TopicBootstrap(admin).ensure(List.of(topics.registryCommands(),
            topics.modelEvents()));
      }
      long commands = produce(bootstrap, topics.registryCommands(), models, versions);
      System.out.printf(Locale.ROOT, "wrote %,d commands (%d models x %d versions + promotions),"
          + " registry.stateVersions %d%n", commands, models, versions, stateVersions);

      long started = System.nanoTime();
      try (RegistryProjectorService service = RegistryProjectorService.builder()
          .config(RegistryConfig.parse("registry: {applicationId: bench-registry}")
              .withStateVersions(stateVersions))
          .kafka(Map.of("bootstrap.servers", bootstrap)).serdes(serdes).topics(topics)
          .stateDir(dir.resolve("state")).build().start()) {
        long[] firstLast = awaitDecisions(bootstrap, topics.modelEvents().name(), commands);
        double seconds = (firstLast[1] - firstLast[0]) / 1e9;
        System.out.printf(Locale.ROOT, "decided %,d commands in %.1f s (first decision %.1f s"
            + " after start): %,.0f commands/s%n", commands, seconds,
            (firstLast[0] - started) / 1e9, commands / seconds);
        while (!service.historyCaughtUp() || service.history().size() < commands) {
          Thread.sleep(100);
        }
        Javalin http = Javalin.create(c -> {
          c.startup.showJavalinBanner = false;
          c.jetty.host = "127.0.0.1";
          c.jetty.port = 0;
          service.routes(c.routes);
        }).start();
        try {
          queryLatency(http.port(), models, versions, queries);
        } finally {
          http.stop();
        }
      }
    }
  }

  private static long produce(String bootstrap, Topic<String, RegistryCommand> topic, int models,
      int versions) throws Exception {
    long count = 0;
    Actor actor = Actor.newBuilder().setName("bench").setKind(ActorKind.SERVICE)
        .setRoles(List.of()).build();
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    try (KafkaProducer<String, RegistryCommand> p = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true, ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.LINGER_MS_CONFIG, 20, ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4"),
        topic.keySerde().serializer(), topic.valueSerde().serializer())) {
      for (int v = 1; v <= versions; v++) {
        for (int m = 0; m < models; m++) {
          String model = "model-" + m;
          Instant at = T0.plusSeconds((long) (v - 1) * models + m);
          String digest = HexFormat.of().formatHex(sha.digest((model + "/" + v).getBytes()));
          RegisterVersion body = RegisterVersion.newBuilder()
              .setArtifact(ModelArtifact.newBuilder().setUri("file:///artifacts/" + digest)
                  .setSha256(digest).setFormat(ModelFormat.XGBOOST).build())
              .setSignature(ModelSignature.newBuilder()
                  .setFeatureNames(List.of("amount_mean_7d", "country"))
                  .setCategoricalFeatures(List.of("country")).setTask(
                      ModelTask.BINARY_CLASSIFICATION).setDecisionThreshold(0.5).build())
              .setMetrics(Map.of("auc", 0.7 + v / 1000.0, "log_loss", 0.4))
              .setParams(Map.of("max_depth", "6", "eta", "0.1"))
              .setBaseline(BaselineProfile.newBuilder().setSampleCount(1000).setComputedAt(at)
                  .setFeatures(List.of(FeatureProfile.newBuilder().setName("amount_mean_7d")
                      .setKind(FeatureKind.NUMERIC).setCount(1000).setMean(42.0).build()))
                  .build())
              .setLineage(ModelLineage.newBuilder().setRunId("run-" + model + "-" + v)
                  .setTrainer("xgboost").build())
              .build();
          send(p, topic, at, command(model + "/register/" + v, model, at, actor, body));
          count++;
          if (v % 10 == 0) {
            send(p, topic, at, command(model + "/promote/" + v, model, at, actor,
                PromoteVersion.newBuilder().setAlias("champion").setVersion(v).build()));
            count++;
          }
        }
      }
      p.flush();
    }
    return count;
  }

  private static RegistryCommand command(String id, String model, Instant at, Actor actor,
      Object body) {
    return RegistryCommand.newBuilder().setEventId(id).setEventTime(at).setModel(model)
        .setActor(actor).setCommand(body).build();
  }

  private static void send(KafkaProducer<String, RegistryCommand> p,
      Topic<String, RegistryCommand> topic, Instant at, RegistryCommand c) {
    p.send(new ProducerRecord<>(topic.name(), null, at.toEpochMilli(), c.getModel(), c));
  }

  /** Nanotimes of the first and the last decision. */
  private static long[] awaitDecisions(String bootstrap, String topic, long expected) {
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
        new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> parts = new ArrayList<>();
      c.partitionsFor(topic).forEach(p -> parts.add(new TopicPartition(topic, p.partition())));
      c.assign(parts);
      c.seekToBeginning(parts);
      long seen = 0;
      long first = 0;
      long lastReport = System.nanoTime();
      while (seen < expected) {
        int n = c.poll(Duration.ofMillis(100)).count();
        if (n > 0 && first == 0) {
          first = System.nanoTime();
        }
        seen += n;
        if (System.nanoTime() - lastReport > 10_000_000_000L) {
          System.out.printf(Locale.ROOT, "  %,d of %,d decided%n", seen, expected);
          lastReport = System.nanoTime();
        }
      }
      return new long[] {first, System.nanoTime()};
    }
  }

  private static void queryLatency(int port, int models, int versions, int queries)
      throws Exception {
    HttpClient client = HttpClient.newHttpClient();
    SplittableRandom random = new SplittableRandom(42);
    String base = "http://127.0.0.1:" + port;
    long span = (long) versions * models;
    String[] kinds = {"current model (GET /models/{m})",
        "time travel (GET /models/{m}/aliases/champion?asOf=)",
        "model card (GET /models/{m}/versions/{v}/card)",
        "audit history (GET /models/{m}/history)"};
    for (int k = 0; k < kinds.length; k++) {
      Histogram h = new Histogram(60_000_000_000L, 3);
      for (int i = 0; i < queries + 2_000; i++) {
        String model = "model-" + random.nextInt(models);
        String path = switch (k) {
          case 0 -> "/models/" + model;
          case 1 -> "/models/" + model + "/aliases/champion?asOf="
              + T0.plusSeconds(10L * models + random.nextLong(span - 10L * models));
          case 2 -> "/models/" + model + "/versions/" + (1 + random.nextInt(versions)) + "/card";
          default -> "/models/" + model + "/history";
        };
        long t = System.nanoTime();
        HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(URI.create(base + path))
            .GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        long took = System.nanoTime() - t;
        if (r.statusCode() != 200) {
          throw new IllegalStateException(path + " answered " + r.statusCode() + ": "
              + new String(r.body()));
        }
        if (i >= 2_000) {
          h.recordValue(took);
        }
      }
      System.out.printf(Locale.ROOT, "%-55s n=%,d p50 %.2f ms  p99 %.2f ms  max %.2f ms%n",
          kinds[k], h.getTotalCount(), h.getValueAtPercentile(50) / 1e6,
          h.getValueAtPercentile(99) / 1e6, h.getMaxValue() / 1e6);
    }
    Histogram list = new Histogram(60_000_000_000L, 3);
    for (int i = 0; i < 220; i++) {
      long t = System.nanoTime();
      client.send(HttpRequest.newBuilder(URI.create(base + "/models")).GET().build(),
          HttpResponse.BodyHandlers.discarding());
      if (i >= 20) {
        list.recordValue(System.nanoTime() - t);
      }
    }
    System.out.printf(Locale.ROOT, "%-55s n=%,d p50 %.2f ms  p99 %.2f ms  max %.2f ms%n",
        "list all models (GET /models)", list.getTotalCount(),
        list.getValueAtPercentile(50) / 1e6, list.getValueAtPercentile(99) / 1e6,
        list.getMaxValue() / 1e6);
  }
}
