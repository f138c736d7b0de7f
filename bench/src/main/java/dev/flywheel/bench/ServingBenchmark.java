package dev.flywheel.bench;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.events.Actor;
import dev.flywheel.events.ActorKind;
import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.ModelArtifact;
import dev.flywheel.events.ModelFormat;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.ModelSignature;
import dev.flywheel.events.ModelTask;
import dev.flywheel.featurestreams.FeatureStreamsConfig;
import dev.flywheel.featurestreams.FeatureStreamsService;
import dev.flywheel.featurestreams.lookup.FeatureLookupService;
import dev.flywheel.featurestreams.lookup.LookupGroup;
import dev.flywheel.platform.runtime.LocalOnlineFeatures;
import dev.flywheel.servingsink.ServingSinkConfig;
import dev.flywheel.servingsink.ServingSinkService;
import dev.flywheel.servingsink.model.ModelLoader;
import dev.flywheel.servingsink.model.ServedModel;
import dev.flywheel.servingsink.model.ServedModels;
import dev.flywheel.topics.TopicBootstrap;
import io.javalin.Javalin;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoost;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * serving-sink, side by side with feature-streams in one run on one embedded broker:
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.flywheel.bench.ServingBenchmark \
 *     [events] [cards] [rate] [seconds] [connections]
 * </pre>
 *
 * <ol>
 *   <li>Produces {@code events} (default 100,000) card transactions over {@code cards} (default
 *       10,000) cards; {@link FeatureStreamsService} with {@code card_activity} turns them into
 *       one {@code FeatureVector} each on {@code flywheel.features}: its events/s, from RUNNING to
 *       its group committed at the end of the input.
 *   <li>Trains an XGBoost model (100 trees, depth 6) over the group's numeric features, promotes
 *       it, and starts {@link ServingSinkService} on the same feature log from the beginning:
 *       its vectors/s, from {@code start()} returning (v1 loaded) to its group committed at the
 *       end of the feature log; the ratio serving/feature-streams (goal ≥ 1.0).
 *   <li>Single-row scoring latency in-process: the served model, one row per call, 200,000 calls
 *       after 50,000 of warm-up.
 *   <li>{@code POST /predict/fraud {"entity": "card-N"}} at a fixed {@code rate} (default 2,000
 *       req/s) for {@code seconds} (default 30, after 10 s of warm-up) over {@code connections}
 *       (default 16) keep-alive connections, the features fetched from feature-streams' real
 *       online lookup ({@link FeatureLookupService}) over HTTP: p50/p99 corrected for
 *       coordinated omission (goal p99 &lt; 5 ms).
 *   <li>The same load on a second serving instance that reads the features in-process ({@link
 *       LocalOnlineFeatures}, as {@code flywheel up} and {@code flywheel demo} wire serving next to
 *       the feature engine): the cost of {@code /predict} without the lookup's HTTP hop.
 * </ol>
 *
 * <p>Client, services, broker and registry share the JVM and the machine.
 */
public final class ServingBenchmark {

  private static final String GROUP = "card_activity";

  private ServingBenchmark() {}

  public static void main(String[] args) throws Exception {
    int events = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    int cards = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
    double rate = args.length > 2 ? Double.parseDouble(args[2]) : 2_000;
    double seconds = args.length > 3 ? Double.parseDouble(args[3]) : 30;
    int connections = args.length > 4 ? Integer.parseInt(args[4]) : 16;
    Path tmp = Files.createTempDirectory("flywheel-serving-bench");
    int lookupPort = freePort();
    try (Devstack devstack = Devstack.builder().build().start();
        Admin admin = CardActivityFixture.admin(devstack.bootstrapServers())) {
      CardActivityFixture fx = CardActivityFixture.create(devstack.bootstrapServers(),
          devstack.schemaRegistryUrl(), 3);
      new TopicBootstrap(admin).ensure(List.copyOf(fx.topics.all().stream()
          .filter(t -> !t.name().contains(".data.")).toList()));
      Random cardOf = new Random(7);
      fx.produce(events, 2_000, i -> "card-" + cardOf.nextInt(cards), 1);

      // 1. feature-streams
      FeatureStreamsConfig featureConfig = FeatureStreamsConfig.cardActivity();
      String featuresId = "bench-serving-features";
      try (FeatureStreamsService features = FeatureStreamsService.builder()
              .config(featureConfig).bootstrapServers(devstack.bootstrapServers())
              .schemaRegistryUrl(devstack.schemaRegistryUrl()).serdes(fx.serdes)
              .topics(fx.topics).applicationId(featuresId)
              .stateDir(Files.createTempDirectory(tmp, "features"))
              .applicationServer("127.0.0.1:" + lookupPort).build().start();
          FeatureLookupService lookup = FeatureLookupService.builder()
              .streams(features::kafkaStreams).applicationServer("127.0.0.1:" + lookupPort)
              .groups(LookupGroup.of(featureConfig)).port(lookupPort).bindHost("127.0.0.1")
              .build().start()) {
        long f0 = CardActivityFixture.awaitRunning(features.kafkaStreams(),
            Duration.ofMinutes(2));
        long f1 = CardActivityFixture.awaitCommittedToEnd(admin, featuresId, fx.data.name(),
            Duration.ofMinutes(20));
        double featureRate = events / ((f1 - f0) / 1e9);
        System.out.printf(Locale.ROOT, "feature-streams card_activity: %,d events in %.1f s ="
            + " %,.0f events/s%n", events, (f1 - f0) / 1e9, featureRate);

        // 2. a model over the group's numeric features, promoted
        List<String> names = numericFeatures(devstack, fx);
        Path artifact = trainModel(tmp, names);
        ModelArtifact art = ModelArtifact.newBuilder().setUri(artifact.toUri().toString())
            .setSha256(ModelLoader.sha256(Files.readAllBytes(artifact)))
            .setFormat(ModelFormat.XGBOOST).build();
        ModelPromoted promoted = ModelPromoted.newBuilder().setEventId(UUID.randomUUID()
                .toString()).setEventTime(Instant.now()).setModel("fraud").setAlias("champion")
            .setVersion(1).setArtifact(art)
            .setSignature(ModelSignature.newBuilder().setFeatureNames(names)
                .setFeatureGroup(GROUP).setTask(ModelTask.BINARY_CLASSIFICATION)
                .setDecisionThreshold(0.5).build())
            .setActor(Actor.newBuilder().setName("bench").setKind(ActorKind.HUMAN).build())
            .setCommandId("bench").build();
        try (KafkaProducer<String, ModelPromoted> p = new KafkaProducer<>(Map.of(
            "bootstrap.servers", devstack.bootstrapServers()),
            fx.topics.modelPromoted().keySerde().serializer(),
            fx.topics.modelPromoted().valueSerde().serializer())) {
          p.send(new ProducerRecord<>(fx.topics.modelPromoted().name(), "fraud", promoted)).get();
        }

        ServingSinkConfig config = ServingSinkConfig.defaults().withIds("bench-serving", "bench")
            .withStartFrom("earliest").withFeatureLookupUrl("http://127.0.0.1:" + lookupPort);
        try (ServingSinkService serving = ServingSinkService.builder().config(config)
            .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers())).topics(fx.topics)
            .meters(new SimpleMeterRegistry()).build().start()) {
          long s0 = System.nanoTime();
          long s1 = CardActivityFixture.awaitCommittedToEnd(admin, "bench-serving",
              fx.topics.features().name(), Duration.ofMinutes(20));
          double servingRate = events / ((s1 - s0) / 1e9);
          System.out.printf(Locale.ROOT, "serving-sink stream scoring: %,d vectors in %.1f s ="
              + " %,.0f vectors/s; serving/feature-streams = %.2f (goal >= 1.0)%n", events,
              (s1 - s0) / 1e9, servingRate, servingRate / featureRate);

          // 3. single-row latency in-process
          ServedModel model = serving.served().get(new ServedModels.Key("fraud", "champion"));
          Histogram single = singleRow(model, names);
          System.out.printf(Locale.ROOT, "single-row XGBoost scoring in-process (%d inputs, 100"
              + " trees, depth 6): %s%n", names.size(), PacedLoad.describe(single));

          // 4. HTTP /predict with online lookup at a fixed rate
          Javalin app = predictServer(serving);
          try {
            List<String> known = knownCards(events, cards);
            PacedLoad.Result warm = PacedLoad.run(rate, 10, connections,
                k -> post(app.port(), known));
            System.out.printf(Locale.ROOT, "/predict warm-up 10 s: %s, errors %d%n",
                PacedLoad.describe(warm.corrected()), warm.errors());
            PacedLoad.Result r = PacedLoad.run(rate, seconds, connections,
                k -> post(app.port(), known));
            PacedLoad.Result local = predictInProcess(devstack, fx, lookup, rate, seconds,
                connections, known);
            System.out.printf(Locale.ROOT, "%nSUMMARY stream scoring %,.0f vectors/s vs"
                    + " feature-streams %,.0f events/s on the same %,d events: ratio %.2f (goal"
                    + " >= 1.0)%n", servingRate, featureRate, events, servingRate / featureRate);
            System.out.printf(Locale.ROOT, "SUMMARY single-row XGBoost in-process: p50 %.1f us,"
                    + " p99 %.1f us, p99.9 %.1f us%n", single.getValueAtPercentile(50) / 1e3,
                single.getValueAtPercentile(99) / 1e3, single.getValueAtPercentile(99.9) / 1e3);
            printPredictSummary("online lookup over HTTP", rate, seconds, connections, r);
            printPredictSummary("features read in-process", rate, seconds, connections, local);
          } finally {
            app.stop();
          }
        }
      }
    } finally {
      Dirs.deleteQuietly(tmp);
    }
  }

  /** {@code POST /predict} of {@code serving} on a local port of its own. */
  private static Javalin predictServer(ServingSinkService serving) {
    return Javalin.create(c -> {
      c.startup.showJavalinBanner = false;
      c.jetty.host = "127.0.0.1";
      serving.routes(c.routes);
    }).start(0);
  }

  private static void printPredictSummary(String how, double rate, double seconds,
      int connections, PacedLoad.Result r) {
    System.out.printf(Locale.ROOT, "SUMMARY POST /predict by entity (%s) at %,.0f req/s for %.0f"
            + " s, %d connections: achieved %,.0f req/s, %d errors; corrected p50 %.2f ms, p99"
            + " %.2f ms, p99.9 %.2f ms, max %.2f ms (goal p99 < 5 ms); service time p50 %.2f ms,"
            + " p99 %.2f ms; %d cores%n", how, rate, seconds, connections, r.achievedRate(),
        r.errors(), r.corrected().getValueAtPercentile(50) / 1e6,
        r.corrected().getValueAtPercentile(99) / 1e6,
        r.corrected().getValueAtPercentile(99.9) / 1e6, r.corrected().getMaxValue() / 1e6,
        r.service().getValueAtPercentile(50) / 1e6, r.service().getValueAtPercentile(99) / 1e6,
        Runtime.getRuntime().availableProcessors());
  }

  /**
   * {@code POST /predict} on a second serving instance whose features come from the engine's
   * stores in this JVM: 10 s of warm-up, then {@code seconds} measured.
   */
  private static PacedLoad.Result predictInProcess(Devstack devstack, CardActivityFixture fx,
      FeatureLookupService lookup, double rate, double seconds, int connections,
      List<String> known) throws Exception {
    ServingSinkConfig config = ServingSinkConfig.defaults()
        .withIds("bench-serving-local", "bench-local").withStartFrom("latest");
    try (LocalOnlineFeatures features = new LocalOnlineFeatures(lookup::lookup,
            Duration.ofSeconds(2));
        ServingSinkService serving = ServingSinkService.builder().config(config)
            .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers())).topics(fx.topics)
            .meters(new SimpleMeterRegistry()).onlineFeatures(features).build().start()) {
      Javalin app = predictServer(serving);
      try {
        PacedLoad.Result warm = PacedLoad.run(rate, 10, connections,
            k -> post(app.port(), known));
        System.out.printf(Locale.ROOT, "/predict (in-process features) warm-up 10 s: %s,"
            + " errors %d%n", PacedLoad.describe(warm.corrected()), warm.errors());
        return PacedLoad.run(rate, seconds, connections, k -> post(app.port(), known));
      } finally {
        app.stop();
      }
    }
  }

  /** The numeric feature names of the first vector on the feature log. */
  private static List<String> numericFeatures(Devstack devstack, CardActivityFixture fx) {
    try (KafkaConsumer<String, FeatureVector> c = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, devstack.bootstrapServers(),
        ConsumerConfig.GROUP_ID_CONFIG, "bench-serving-probe",
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
        fx.topics.features().keySerde().deserializer(),
        fx.topics.features().valueSerde().deserializer())) {
      c.subscribe(List.of(fx.topics.features().name()));
      while (true) {
        for (ConsumerRecord<String, FeatureVector> r : c.poll(Duration.ofMillis(500))) {
          return new ArrayList<>(new LinkedHashSet<>(r.value().getFeatures().keySet()));
        }
      }
    }
  }

  private static Path trainModel(Path dir, List<String> names) throws Exception {
    int rows = 5_000;
    int cols = names.size();
    Random random = new Random(42);
    float[] data = new float[rows * cols];
    float[] labels = new float[rows];
    for (int r = 0; r < rows; r++) {
      double sum = 0;
      for (int c = 0; c < cols; c++) {
        data[r * cols + c] = (float) (random.nextGaussian() * 10);
        sum += data[r * cols + c] * ((c % 3) - 1);
      }
      labels[r] = sum > 0 ? 1f : 0f;
    }
    DMatrix train = new DMatrix(data, rows, cols, Float.NaN);
    train.setLabel(labels);
    Map<String, Object> params = new HashMap<>();
    params.put("objective", "binary:logistic");
    params.put("max_depth", 6);
    params.put("eta", 0.1);
    params.put("nthread", 1);
    params.put("seed", 42);
    Booster booster = XGBoost.train(train, params, 100, Map.of(), null, null);
    Path file = dir.resolve("fraud-v1.ubj");
    Files.write(file, booster.toByteArray("ubj"));
    booster.dispose();
    return file;
  }

  private static Histogram singleRow(ServedModel model, List<String> names) {
    Random random = new Random(3);
    List<Map<String, Double>> rows = new ArrayList<>();
    for (int i = 0; i < 1_000; i++) {
      Map<String, Double> row = new HashMap<>();
      for (String n : names) {
        row.put(n, random.nextGaussian() * 10);
      }
      rows.add(row);
    }
    double sink = 0;
    for (int i = 0; i < 50_000; i++) {
      sink += model.score(List.of(rows.get(i % rows.size())))[0];
    }
    Histogram h = new Histogram(10_000_000_000L, 3);
    for (int i = 0; i < 200_000; i++) {
      long t = System.nanoTime();
      sink += model.score(List.of(rows.get(i % rows.size())))[0];
      h.recordValue(System.nanoTime() - t);
    }
    if (sink == 42.4242) {
      System.out.println(sink);
    }
    return h;
  }

  private static List<String> knownCards(int events, int cards) {
    Random again = new Random(7);
    LinkedHashSet<String> seen = new LinkedHashSet<>();
    for (int i = 0; i < events; i++) {
      seen.add("card-" + again.nextInt(cards));
    }
    return new ArrayList<>(seen);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static PacedLoad.Connection post(int port, List<String> known) {
    try {
      return new HttpPost(port, known);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** {@code POST /predict/fraud {"entity": ...}} on one keep-alive connection. */
  private static final class HttpPost implements PacedLoad.Connection {
    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;
    private final int port;
    private final List<String> known;

    HttpPost(int port, List<String> known) throws IOException {
      this.socket = new Socket();
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress("127.0.0.1", port));
      this.out = socket.getOutputStream();
      this.in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
      this.port = port;
      this.known = known;
    }

    @Override
    public void request(long seq) throws IOException {
      long h = (seq + 1) * 0x9E3779B97F4A7C15L;
      String entity = known.get((int) Math.floorMod(h ^ (h >>> 31), (long) known.size()));
      byte[] body = ("{\"entity\":\"" + entity + "\"}").getBytes(StandardCharsets.UTF_8);
      out.write(("POST /predict/fraud HTTP/1.1\r\nHost: 127.0.0.1:" + port
          + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.write(body);
      out.flush();
      String status = line();
      int length = -1;
      String header;
      while (!(header = line()).isEmpty()) {
        int colon = header.indexOf(':');
        if (colon > 0 && header.substring(0, colon).trim().equalsIgnoreCase("content-length")) {
          length = Integer.parseInt(header.substring(colon + 1).trim());
        }
      }
      if (length < 0) {
        throw new IOException("answer without Content-Length: " + status);
      }
      String answer = new String(in.readNBytes(length), StandardCharsets.UTF_8);
      if (!status.startsWith("HTTP/1.1 200") || !answer.contains("\"version\":1")) {
        throw new IOException("unexpected answer " + status + " " + answer);
      }
    }

    private String line() throws IOException {
      StringBuilder b = new StringBuilder();
      int c;
      while ((c = in.read()) != -1 && c != '\n') {
        if (c != '\r') {
          b.append((char) c);
        }
      }
      if (c == -1 && b.isEmpty()) {
        throw new IOException("connection closed");
      }
      return b.toString();
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
