package dev.flywheel.bench;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.driftdetector.DriftDetectorService;
import dev.flywheel.driftdetector.config.DriftDetectorConfig;
import dev.flywheel.events.Actor;
import dev.flywheel.events.ActorKind;
import dev.flywheel.events.BaselineProfile;
import dev.flywheel.events.FeatureKind;
import dev.flywheel.events.FeatureProfile;
import dev.flywheel.events.ModelArtifact;
import dev.flywheel.events.ModelFormat;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.ModelSignature;
import dev.flywheel.events.ModelTask;
import dev.flywheel.events.Prediction;
import dev.flywheel.events.Transaction;
import dev.flywheel.featurestreams.FeatureGroupPlan;
import dev.flywheel.featurestreams.FeatureStreamsConfig;
import dev.flywheel.featurestreams.FeatureStreamsService;
import dev.flywheel.ingest.IngestConfig;
import dev.flywheel.ingest.http.IngestService;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.servingsink.ServingSinkConfig;
import dev.flywheel.servingsink.ServingSinkService;
import dev.flywheel.servingsink.model.ModelLoader;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;

/**
 * The loop end to end in one JVM on one embedded broker: HTTP ingest → feature-streams
 * ({@code card_activity}) → serving-sink (XGBoost) → drift-detector, all exactly-once.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.flywheel.bench.SystemBenchmark \
 *     [rate events/s] [seconds] [saturation events] [cards]
 * </pre>
 *
 * <ol>
 *   <li><b>Fixed offered load</b>: {@code rate} (default 500) transactions/s for {@code seconds}
 *       (default 30, after 10 s of warm-up at the same rate), posted to {@code POST
 *       /ingest/transactions} in batches of 10 on a fixed schedule. Each transaction's event time
 *       is the time it was <i>due</i> to be posted, and a read_committed consumer of {@code
 *       flywheel.predictions} takes the latency event → prediction as its receive time minus
 *       that event time, so a late sender counts against the latency (no coordinated omission).
 *       Reports p50/p99/p99.9/max, the prediction rate achieved, process CPU per 1,000 events.
 *   <li><b>Saturation</b>: {@code saturation events} (default 30,000) posted as fast as 8 clients
 *       with batches of 500 get their 202s; events/s end to end = events / (last prediction
 *       received − first post), and through drift-detector = events / (the last of them counted
 *       into a drift window, {@code flywheel.drift.predictions{outcome=counted}} − first post).
 *   <li><b>Memory</b>: heap after a full GC and the peak of the heap pools; RocksDB memory from the
 *       Kafka Streams RocksDB metrics (block cache usage, shared; memtables; table readers).
 *   <li><b>Kafka alone</b>, same broker, same run: {@code ProducerPerformance} with as many
 *       200-byte records as the saturation phase, then {@code ConsumerPerformance} reading them;
 *       both end-to-end rates are also printed as a share of the producer's rate (the ceiling).
 * </ol>
 *
 * <p>CPU is the whole process: the broker, the registry and the benchmark's own clients
 * included, since they share the JVM.
 */
public final class SystemBenchmark {

  private static final String SOURCE = "transactions";
  private static final String GROUP = "card_activity";
  private static final String MODEL = "fraud";
  private static final List<String> FEATURES = List.of("amount_last", "tx_count_10m",
      "tx_count_1h", "amount_mean_7d", "amount_max_24h", "distinct_merchants_24h",
      "distinct_countries_24h", "amount_to_mean_7d");
  private static final Pattern COUNT = Pattern.compile("\"count\":(\\d+)");
  private static final String[] CHANNELS = {"POS", "ECOMMERCE", "ATM", "MOBILE"};

  private SystemBenchmark() {}

  public static void main(String[] args) throws Exception {
    double rate = args.length > 0 ? Double.parseDouble(args[0]) : 500;
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 30;
    int saturation = args.length > 2 ? Integer.parseInt(args[2]) : 30_000;
    int cards = args.length > 3 ? Integer.parseInt(args[3]) : 10_000;
    Path tmp = Files.createTempDirectory("flywheel-system-bench");
    try (Devstack devstack = Devstack.builder().build().start();
        Admin admin = CardActivityFixture.admin(devstack.bootstrapServers())) {
      String bootstrap = devstack.bootstrapServers();
      AvroSerdes serdes = AvroSerdes.fromConfig(Map.of("schema.registry.url",
          devstack.schemaRegistryUrl()));
      Topics topics = Topics.builder(serdes).partitions(3).build();
      List<Topic<?, ?>> all = new ArrayList<>(topics.all());
      all.add(topics.data(SOURCE));
      all.add(topics.dlq(topics.data(SOURCE)));
      all.add(topics.dlq(topics.features()));
      all.add(topics.dlq(topics.predictions()));
      new TopicBootstrap(admin).ensure(all);
      for (Topic<?, ?> t : all) {
        CardActivityFixture.awaitLeaders(admin, t.name());
      }
      SimpleMeterRegistry meters = new SimpleMeterRegistry();
      Path driftYaml = Files.writeString(tmp.resolve("drift.yaml"), "driftDetector:\n"
          + "  applicationId: bench-system-drift\nmodels:\n  - name: " + MODEL + "\n"
          // windows of 100 (runs 2 and 3 in BENCHMARKS.md): before c165b56 the KS p-value threw
          // for windows of 5,000 far from the baseline, which stopped drift-detector (run 1)
          + "    drift:\n      window: {count: 100}\n");
      promote(bootstrap, topics, tmp);
      try (IngestService ingest = IngestService.builder()
              .config(IngestConfig.parse(ingestYaml())).configDir(tmp)
              .kafka(Map.of("bootstrap.servers", bootstrap)).serdes(serdes).topics(topics)
              .host("127.0.0.1").meterRegistry(meters).build().start();
          FeatureStreamsService features = FeatureStreamsService.builder()
              .config(FeatureStreamsConfig.cardActivity()).bootstrapServers(bootstrap)
              .schemaRegistryUrl(devstack.schemaRegistryUrl()).serdes(serdes).topics(topics)
              .applicationId("bench-system-features")
              .stateDir(Files.createDirectories(tmp.resolve("features")))
              .meterRegistry(meters).build().start();
          ServingSinkService serving = ServingSinkService.builder()
              .config(ServingSinkConfig.defaults().withIds("bench-system-serving", "bench")
                  .withStartFrom("earliest").withFeatureGroups(Map.of(GROUP, FEATURES)))
              .kafka(Map.of("bootstrap.servers", bootstrap)).topics(topics).meters(meters)
              .build().start();
          DriftDetectorService drift = DriftDetectorService.builder()
              .config(DriftDetectorConfig.load(driftYaml))
              .kafka(Map.of("bootstrap.servers", bootstrap))
              .schemaRegistryUrl(devstack.schemaRegistryUrl()).topics(topics).serdes(serdes)
              .stateDir(Files.createDirectories(tmp.resolve("drift"))).meterRegistry(meters)
              .build().start();
          PredictionWatch watch = new PredictionWatch(bootstrap, topics)) {
        features.awaitRunning(Duration.ofMinutes(2));
        URI uri = URI.create(ingest.url() + "/ingest/" + SOURCE);
        HttpClient http = HttpClient.newHttpClient();
        AtomicLong seq = new AtomicLong();

        // 1. fixed offered load, after a warm-up at the same rate
        paced(http, uri, rate, 10, cards, seq, watch);
        watch.awaitCount(seq.get(), Duration.ofMinutes(5));
        watch.reset();
        long cpu0 = CpuClock.processNanos();
        long from = seq.get();
        long p0 = System.nanoTime();
        paced(http, uri, rate, seconds, cards, seq, watch);
        long offered = seq.get() - from;
        long p1 = watch.awaitCount(offered, Duration.ofMinutes(5));
        long cpu1 = CpuClock.processNanos();
        Histogram fixed = watch.latencies();
        System.out.printf(Locale.ROOT, "fixed load: offered %,.0f events/s for %d s (%,d events);"
                + " predictions received %,d at %,.0f/s; event->prediction p50 %.1f ms, p99 %.1f"
                + " ms, p99.9 %.1f ms, max %.1f ms; process CPU %.1f ms per 1,000 events%n", rate,
            seconds, offered, watch.count(), offered / ((p1 - p0) / 1e9),
            fixed.getValueAtPercentile(50) / 1e3, fixed.getValueAtPercentile(99) / 1e3,
            fixed.getValueAtPercentile(99.9) / 1e3, fixed.getMaxValue() / 1e3,
            (cpu1 - cpu0) / 1e6 / offered * 1000);

        // 2. saturation
        watch.reset();
        double counted0 = driftCounted(meters);
        long cpu2 = CpuClock.processNanos();
        long s0 = System.nanoTime();
        flood(http, uri, saturation, cards, seq);
        long posted = System.nanoTime();
        long s1 = watch.awaitCount(saturation, Duration.ofMinutes(20));
        long d1 = awaitDriftCounted(meters, counted0 + saturation, Duration.ofMinutes(20));
        long cpu3 = CpuClock.processNanos();
        Histogram sat = watch.latencies();
        double endToEnd = saturation / ((s1 - s0) / 1e9);
        System.out.printf(Locale.ROOT, "saturation: %,d events posted in %.1f s (%,.0f/s"
                + " accepted by ingest); last prediction after %.1f s: %,.0f events/s end to end;"
                + " event->prediction p50 %.0f ms, p99 %.0f ms (queueing); process CPU %.1f ms"
                + " per 1,000 events%n", saturation, (posted - s0) / 1e9,
            saturation / ((posted - s0) / 1e9), (s1 - s0) / 1e9, endToEnd,
            sat.getValueAtPercentile(50) / 1e3, sat.getValueAtPercentile(99) / 1e3,
            (cpu3 - cpu2) / 1e6 / saturation * 1000);
        double withDrift = saturation / ((d1 - s0) / 1e9);
        System.out.printf(Locale.ROOT, "saturation through drift-detector: the last prediction"
            + " counted into a drift window after %.1f s: %,.0f events/s end to end%n",
            (d1 - s0) / 1e9, withDrift);

        // 3. memory
        long peakHeap = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
          if (pool.getType() == MemoryType.HEAP && pool.getPeakUsage() != null) {
            peakHeap += pool.getPeakUsage().getUsed();
          }
        }
        System.gc();
        long heapAfterGc = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        System.out.printf(Locale.ROOT, "drift-detector: %s; drift.reports end offsets %,d (reports and transaction markers)%n",
            drift.streams().state(), countRecords(admin, topics.driftReports().name()));
        System.out.printf(Locale.ROOT, "memory: heap after full GC %d MiB, sum of heap pool peaks"
                + " %d MiB (max heap %d MiB); RocksDB feature-streams %s; drift-detector %s%n",
            heapAfterGc >> 20, peakHeap >> 20, Runtime.getRuntime().maxMemory() >> 20,
            rocksDb(features.kafkaStreams()), rocksDb(drift.streams()));

        // 4. Kafka alone on the same broker
        String raw = "bench-system-raw";
        new TopicBootstrap(admin).ensure(List.of(new Topic<>(raw, topics.features().keySerde(),
            topics.features().valueSerde(), 3, (short) 1, Map.of())));
        CardActivityFixture.awaitLeaders(admin, raw);
        double produced = KafkaPerfTools.producerPerformance(bootstrap, raw, saturation, 200,
            Map.of("acks", "all", "linger.ms", 5, "enable.idempotence", true));
        double consumed = KafkaPerfTools.consumerPerformance(bootstrap, raw,
            saturation, "bench-system-consumer-perf");
        System.out.printf(Locale.ROOT, "Kafka alone: ProducerPerformance %,.0f records/s (200-byte"
            + " records, acks=all), ConsumerPerformance %,.0f records/s%n", produced, consumed);
        System.out.printf(Locale.ROOT, "%nSUMMARY end to end (ingest HTTP -> features -> serving"
                + " -> drift): saturation %,.0f events/s to predictions, %,.0f through drift; at"
                + " %,.0f events/s offered:"
                + " event->prediction p50 %.1f ms, p99 %.1f ms, p99.9 %.1f ms; CPU %.1f ms /"
                + " 1,000 events (fixed), %.1f (saturation); heap after GC %d MiB, peak %d MiB;"
                + " Kafka alone: produce %,.0f/s, consume %,.0f/s; %d cores%n", endToEnd, withDrift,
            rate,
            fixed.getValueAtPercentile(50) / 1e3, fixed.getValueAtPercentile(99) / 1e3,
            fixed.getValueAtPercentile(99.9) / 1e3, (cpu1 - cpu0) / 1e6 / offered * 1000,
            (cpu3 - cpu2) / 1e6 / saturation * 1000, heapAfterGc >> 20, peakHeap >> 20,
            produced, consumed, Runtime.getRuntime().availableProcessors());
        System.out.printf(Locale.ROOT, "SUMMARY ratio to Kafka's ProducerPerformance on the same"
            + " broker: %.3f to predictions, %.3f through drift%n", endToEnd / produced,
            withDrift / produced);
      }
    } finally {
      Dirs.deleteQuietly(tmp);
    }
  }

  /** Posts batches of 10 on a fixed schedule; event time = when the batch was due. */
  private static void paced(HttpClient http, URI uri, double rate, int seconds, int cards,
      AtomicLong seq, PredictionWatch watch) throws Exception {
    int batch = 10;
    long intervalNanos = (long) (batch * 1e9 / rate);
    int batches = (int) (rate * seconds / batch);
    ExecutorService senders = Executors.newFixedThreadPool(8);
    long epochStartMs = System.currentTimeMillis();
    long start = System.nanoTime();
    List<Future<?>> sent = new ArrayList<>();
    for (int b = 0; b < batches; b++) {
      long due = start + b * intervalNanos;
      long wait = due - System.nanoTime();
      if (wait > 0) {
        TimeUnit.NANOSECONDS.sleep(wait);
      }
      long dueMs = epochStartMs + (due - start) / 1_000_000;
      long first = seq.getAndAdd(batch);
      sent.add(senders.submit(() -> {
        post(http, uri, body(first, batch, cards, dueMs));
        return null;
      }));
    }
    for (Future<?> f : sent) {
      f.get();
    }
    senders.shutdown();
  }

  /** Posts {@code events} in batches of 500 from 8 clients as fast as they are answered. */
  private static void flood(HttpClient http, URI uri, int events, int cards, AtomicLong seq)
      throws Exception {
    int batch = 500;
    AtomicInteger next = new AtomicInteger();
    ExecutorService clients = Executors.newFixedThreadPool(8);
    List<Future<?>> workers = new ArrayList<>();
    for (int c = 0; c < 8; c++) {
      workers.add(clients.submit(() -> {
        for (int b = next.getAndIncrement(); b * batch < events; b = next.getAndIncrement()) {
          int n = Math.min(batch, events - b * batch);
          post(http, uri, body(seq.getAndAdd(n), n, cards, System.currentTimeMillis()));
        }
        return null;
      }));
    }
    for (Future<?> w : workers) {
      w.get();
    }
    clients.shutdown();
  }

  private static void post(HttpClient http, URI uri, String body) throws Exception {
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    Matcher m = COUNT.matcher(response.body());
    if (response.statusCode() != 202 || !m.find()) {
      throw new IllegalStateException("ingest answered " + response.statusCode() + ": "
          + response.body());
    }
  }

  /** A JSON array of {@code n} transactions numbered from {@code first}, at {@code timeMs}. */
  private static String body(long first, int n, int cards, long timeMs) {
    StringBuilder sb = new StringBuilder("[");
    for (long i = first; i < first + n; i++) {
      Random r = new Random(i);
      if (i > first) {
        sb.append(',');
      }
      sb.append("{\"event_id\":\"e-").append(i).append("\",\"card_id\":\"card-")
          .append(r.nextInt(cards)).append("\",\"merchant\":\"m-").append(r.nextInt(5000))
          .append("\",\"category\":\"grocery\",\"amount\":")
          .append(Math.round(r.nextDouble() * 20_000) / 100.0)
          .append(",\"currency\":\"EUR\",\"country\":\"C").append(r.nextInt(8))
          .append("\",\"channel\":\"").append(CHANNELS[r.nextInt(CHANNELS.length)])
          .append("\",\"event_time\":").append(timeMs).append('}');
    }
    return sb.append(']').toString();
  }

  private static String ingestYaml() {
    org.apache.avro.Schema schema = new org.apache.avro.Schema.Parser()
        .parse(Transaction.getClassSchema().toString());
    schema.addProp(FeatureGroupPlan.SOURCE_KEY_PROPERTY, "card_id");
    schema.addProp(FeatureGroupPlan.SOURCE_TIME_PROPERTY, "event_time");
    return "sources:\n  - name: " + SOURCE + "\n    schema: '"
        + schema.toString().replace("'", "''") + "'\n    key: card_id\n    time: event_time\n"
        + "ingest:\n  port: 0\n  producers: 4\n";
  }

  /** Trains an XGBoost model (50 trees, depth 6) over {@link #FEATURES} and promotes it. */
  private static void promote(String bootstrap, Topics topics, Path dir) throws Exception {
    int rows = 5_000;
    int cols = FEATURES.size();
    Random random = new Random(42);
    float[] data = new float[rows * cols];
    float[] labels = new float[rows];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        data[r * cols + c] = (float) (random.nextDouble() * 200);
      }
      labels[r] = data[r * cols] > 150 && data[r * cols + 1] < 20 ? 1f : 0f;
    }
    DMatrix train = new DMatrix(data, rows, cols, Float.NaN);
    train.setLabel(labels);
    Map<String, Object> params = new HashMap<>();
    params.put("objective", "binary:logistic");
    params.put("max_depth", 6);
    params.put("nthread", 1);
    Booster booster = XGBoost.train(train, params, 50, Map.of(), null, null);
    byte[] bytes = booster.toByteArray("ubj");
    Path file = dir.resolve(ModelLoader.sha256(bytes));
    Files.write(file, bytes);
    List<FeatureProfile> profiles = new ArrayList<>();
    for (String f : FEATURES) {
      profiles.add(FeatureProfile.newBuilder().setName(f).setKind(FeatureKind.NUMERIC)
          .setCount(rows).setMean(100.0).setStd(57.0).setMin(0.0).setMax(200.0)
          .setHistogram(dev.flywheel.events.Histogram.newBuilder()
              .setCutPoints(List.of(20.0, 40.0, 60.0, 80.0, 100.0, 120.0, 140.0, 160.0, 180.0))
              .setCounts(List.of(500L, 500L, 500L, 500L, 500L, 500L, 500L, 500L, 500L, 500L))
              .build()).build());
    }
    ModelPromoted promoted = ModelPromoted.newBuilder().setEventId(UUID.randomUUID().toString())
        .setEventTime(Instant.now().minusSeconds(3600)).setModel(MODEL).setAlias("champion")
        .setVersion(1)
        .setArtifact(ModelArtifact.newBuilder().setUri(file.toUri().toString())
            .setSha256(ModelLoader.sha256(bytes)).setFormat(ModelFormat.XGBOOST).build())
        .setSignature(ModelSignature.newBuilder().setFeatureNames(FEATURES).setFeatureGroup(GROUP)
            .setTask(ModelTask.BINARY_CLASSIFICATION).setDecisionThreshold(0.5).build())
        .setBaseline(BaselineProfile.newBuilder().setSampleCount(rows)
            .setComputedAt(Instant.now()).setFeatures(profiles).build())
        .setActor(Actor.newBuilder().setName("bench").setKind(ActorKind.HUMAN).build())
        .setCommandId("bench").build();
    Topic<String, ModelPromoted> topic = topics.modelPromoted();
    try (KafkaProducer<String, ModelPromoted> p = new KafkaProducer<>(Map.of(
        "bootstrap.servers", bootstrap), topic.keySerde().serializer(),
        topic.valueSerde().serializer())) {
      p.send(new ProducerRecord<>(topic.name(), null,
          promoted.getEventTime().toEpochMilli(), MODEL, promoted)).get();
    }
  }

  /** Block cache (shared: the largest value), memtables and table readers, in MiB. */
  private static String rocksDb(KafkaStreams streams) {
    double cache = 0;
    double memtables = 0;
    double readers = 0;
    for (Map.Entry<MetricName, ? extends Metric> e : streams.metrics().entrySet()) {
      Object v = e.getValue().metricValue();
      if (!(v instanceof Number n)) {
        continue;
      }
      switch (e.getKey().name()) {
        case "block-cache-usage" -> cache = Math.max(cache, n.doubleValue());
        case "size-all-mem-tables" -> memtables += n.doubleValue();
        case "estimate-table-readers-mem" -> readers += n.doubleValue();
        default -> { }
      }
    }
    return String.format(Locale.ROOT, "block cache %.1f MiB, memtables %.1f MiB, table readers"
        + " %.1f MiB", cache / (1 << 20), memtables / (1 << 20), readers / (1 << 20));
  }

  private static long countRecords(Admin admin, String topic) throws Exception {
    return CardActivityFixture.endOffsets(admin, topic);
  }

  /**
   * A read_committed consumer of the prediction log on its own thread, from the end at start:
   * counts predictions and records event → prediction latency (receive time − event time).
   */
  private static final class PredictionWatch implements AutoCloseable {
    private final KafkaConsumer<String, Prediction> consumer;
    private final Thread thread;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong count = new AtomicLong();
    private volatile long lastNanos;
    private Histogram histogram = new Histogram(3_600_000_000L, 3);

    PredictionWatch(String bootstrap, Topics topics) {
      Topic<String, Prediction> predictions = topics.predictions();
      consumer = new KafkaConsumer<>(Map.of(
          ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
          ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
          ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
          predictions.keySerde().deserializer(), predictions.valueSerde().deserializer());
      List<TopicPartition> partitions = consumer.partitionsFor(predictions.name()).stream()
          .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToEnd(partitions);
      partitions.forEach(consumer::position);
      thread = new Thread(this::run, "prediction-watch");
      thread.start();
    }

    private void run() {
      while (running.get()) {
        for (ConsumerRecord<String, Prediction> r : consumer.poll(Duration.ofMillis(50))) {
          long micros = (System.currentTimeMillis() - r.value().getEventTime().toEpochMilli())
              * 1000;
          synchronized (this) {
            histogram.recordValue(Math.max(0, Math.min(micros, histogram.getHighestTrackableValue())));
          }
          count.incrementAndGet();
          lastNanos = System.nanoTime();
        }
      }
      consumer.close();
    }

    synchronized void reset() {
      histogram = new Histogram(3_600_000_000L, 3);
      count.set(0);
    }

    long count() {
      return count.get();
    }

    synchronized Histogram latencies() {
      return histogram.copy();
    }

    /** Waits until {@code expected} predictions arrived; returns when the last one did. */
    long awaitCount(long expected, Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (count.get() < expected) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("only " + count.get() + " of " + expected
              + " predictions within " + timeout);
        }
        TimeUnit.MILLISECONDS.sleep(20);
      }
      return lastNanos;
    }

    @Override
    public void close() throws InterruptedException {
      running.set(false);
      thread.join();
    }
  }

  /** Predictions drift-detector has counted into windows so far. */
  private static double driftCounted(SimpleMeterRegistry meters) {
    return meters.find("flywheel.drift.predictions").tag("outcome", "counted").counters()
        .stream().mapToDouble(c -> c.count()).sum();
  }

  /** Waits until drift-detector has counted {@code target} predictions; returns nanoTime then. */
  private static long awaitDriftCounted(SimpleMeterRegistry meters, double target,
      Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (driftCounted(meters) < target) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("drift-detector counted " + driftCounted(meters)
            + " of " + target + " predictions within " + timeout);
      }
      TimeUnit.MILLISECONDS.sleep(20);
    }
    return System.nanoTime();
  }
}
