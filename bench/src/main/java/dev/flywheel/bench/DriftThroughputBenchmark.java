package dev.flywheel.bench;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.driftdetector.DriftDetectorService;
import dev.flywheel.driftdetector.config.DriftDetectorConfig;
import dev.flywheel.driftdetector.config.DriftPolicy;
import dev.flywheel.events.Actor;
import dev.flywheel.events.ActorKind;
import dev.flywheel.events.BaselineProfile;
import dev.flywheel.events.FeatureKind;
import dev.flywheel.events.FeatureProfile;
import dev.flywheel.events.FeatureProfiles;
import dev.flywheel.events.ModelArtifact;
import dev.flywheel.events.ModelFormat;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.ModelSignature;
import dev.flywheel.events.ModelTask;
import dev.flywheel.events.Prediction;
import dev.flywheel.featurestreams.FeatureStreamsConfig;
import dev.flywheel.featurestreams.FeatureStreamsService;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.streams.StreamsProps;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

/**
 * Predictions per second drift-detector sustains with 16 features, next to feature-streams'
 * {@code card_activity} throughput and a pass-through Kafka Streams job over the same predictions,
 * in the same run on the same embedded broker.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.flywheel.bench.DriftThroughputBenchmark \
 *     [predictions] [transactions] [rounds] [partitions]
 * </pre>
 *
 * <p>Produces one promotion of model {@code bench-model} with a 20,000-row baseline (12 numeric
 * features in 10 quantile bins, 4 categorical ones of 8 categories, the score in 10 bins), then
 * {@code predictions} (default 200,000) predictions of it, 16 feature values each, to {@code
 * flywheel.predictions} with {@code partitions} (default 3) partitions, and {@code transactions}
 * (default 100,000) card transactions of 10,000 cards for feature-streams. Per round, each with
 * fresh consumer groups and empty state, one stream thread, {@link StreamsProps} ({@code
 * exactly_once_v2}, 100 ms commits) and one produce request in flight:
 *
 * <ul>
 *   <li>pass-through: {@code stream(predictions).to(copy)} with the catalogue's serdes (one Avro
 *       decode and encode per prediction); time from RUNNING until its group committed the end of
 *       every input partition;
 *   <li>drift-detector ({@link DriftDetectorService}, default policy, count windows of 5,000):
 *       time from RUNNING until its {@code flywheel.drift.predictions{outcome=counted}} counter
 *       reaches {@code predictions} (polled every 20 ms): every prediction went through the
 *       by-model repartition topic and was counted into a window;
 *   <li>feature-streams {@code card_activity}, as {@link FeatureThroughputBenchmark} measures it.
 * </ul>
 *
 * <p>All predictions are of one model and keyed by it (one partition, the promotion's), so one
 * task reads them and, after the by-model repartition, one task counts them all: the figure is
 * what one model's drift detection sustains on one stream thread.
 */
public final class DriftThroughputBenchmark {

  static final String MODEL = "bench-model";
  private static final int NUMERIC = 12;
  private static final int CATEGORICAL = 4;
  private static final int CATEGORIES = 8;
  private static final Instant T0 = Instant.parse("2026-11-16T00:00:00Z");
  /**
   * The producer setting drift-detector runs with, given to the other two jobs too: with the
   * default 5 requests in flight, the pass-through job's producer stalled for good on this
   * broker once the first batch of a transaction was retried (CONCURRENT_TRANSACTIONS) and the
   * later ones were refused as out of order.
   */
  private static final Map<String, Object> ONE_IN_FLIGHT = Map.of(
      StreamsConfig.producerPrefix(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION), 1);

  private DriftThroughputBenchmark() {}

  public static void main(String[] args) throws Exception {
    int predictions = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
    int transactions = args.length > 1 ? Integer.parseInt(args[1]) : 100_000;
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
    int partitions = args.length > 3 ? Integer.parseInt(args[3]) : 3;
    Path stateRoot = Files.createTempDirectory("flywheel-drift-bench");
    try (Devstack devstack = Devstack.builder().build().start();
        Admin admin = CardActivityFixture.admin(devstack.bootstrapServers())) {
      String bootstrap = devstack.bootstrapServers();
      String registry = devstack.schemaRegistryUrl();
      CardActivityFixture fx = CardActivityFixture.create(bootstrap, registry, partitions);
      AvroSerdes serdes = fx.serdes;
      Topics topics = fx.topics;
      Topics copies = Topics.builder(serdes).prefix("bench-passthrough")
          .partitions(partitions).build();
      Topic<String, Prediction> in = topics.predictions();
      Topic<String, Prediction> out = copies.predictions();
      new TopicBootstrap(admin).ensure(List.of(in, topics.modelPromoted(), topics.labels(),
          topics.driftReports(), topics.driftAlerts(), topics.dlq(in),
          topics.dlq(topics.modelPromoted()), topics.dlq(topics.labels()), out));
      CardActivityFixture.awaitLeaders(admin, in.name());

      long produceStart = System.nanoTime();
      produce(bootstrap, topics, predictions);
      Random cardOf = new Random(7);
      fx.produce(transactions, 2_000, i -> "card-" + cardOf.nextInt(10_000), 1);
      System.out.printf(Locale.ROOT, "produced %,d predictions with %d features (%d numeric, %d"
              + " categorical) and %,d card transactions, %d partitions each, in %.1f s%n",
          predictions, NUMERIC + CATEGORICAL, NUMERIC, CATEGORICAL, transactions, partitions,
          (System.nanoTime() - produceStart) / 1e9);

      List<double[]> results = new ArrayList<>();
      for (int round = 1; round <= rounds; round++) {
        double pass = passThrough(admin, bootstrap, registry, in, out, stateRoot,
            "bench-drift-passthrough-" + round, predictions);
        double drift = drift(bootstrap, registry, topics, serdes, stateRoot,
            "bench-drift-" + round, predictions);
        double features = features(admin, bootstrap, registry, fx, stateRoot,
            "bench-drift-features-" + round, transactions);
        results.add(new double[] {pass, drift, features});
        System.out.printf(Locale.ROOT, "round %d: pass-through %,.0f predictions/s,"
                + " drift-detector %,.0f predictions/s, feature-streams card_activity %,.0f"
                + " events/s; drift/pass-through %.2f, drift/features %.2f%n", round, pass, drift,
            features, drift / pass, drift / features);
      }
      System.out.printf(Locale.ROOT, "median of %d rounds: pass-through %,.0f predictions/s,"
              + " drift-detector %,.0f predictions/s (16 features), feature-streams %,.0f"
              + " events/s; %d cores, max heap %d MiB%n", rounds, median(results, 0),
          median(results, 1), median(results, 2), Runtime.getRuntime().availableProcessors(),
          Runtime.getRuntime().maxMemory() >> 20);
    } finally {
      Dirs.deleteQuietly(stateRoot);
    }
  }

  private static double passThrough(Admin admin, String bootstrap, String registry,
      Topic<String, Prediction> in, Topic<String, Prediction> out, Path stateRoot, String id,
      int predictions) throws Exception {
    StreamsBuilder b = new StreamsBuilder();
    b.stream(in.name(), Consumed.with(Serdes.String(), in.valueSerde())
            .withName("bench-passthrough-source"))
        .to(out.name(), Produced.with(out.keySerde(), out.valueSerde())
            .withName("bench-passthrough-sink"));
    try (KafkaStreams streams = new KafkaStreams(b.build(), StreamsProps.builder(id)
        .bootstrapServers(bootstrap).schemaRegistryUrl(registry)
        .stateDir(Files.createTempDirectory(stateRoot, id)).overrides(ONE_IN_FLIGHT).build())) {
      streams.start();
      long t0 = CardActivityFixture.awaitRunning(streams, Duration.ofMinutes(2));
      long t1 = CardActivityFixture.awaitCommittedToEnd(admin, id, in.name(),
          Duration.ofMinutes(20));
      return predictions / ((t1 - t0) / 1e9);
    }
  }

  private static double drift(String bootstrap, String registry, Topics topics,
      AvroSerdes serdes, Path stateRoot, String id, int predictions) throws Exception {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    DriftDetectorConfig config = DriftDetectorConfig.of(Map.of(MODEL, DriftPolicy.defaults()))
        .withApplicationId(id);
    try (DriftDetectorService service = DriftDetectorService.builder()
        .config(config)
        .kafka(Map.of("bootstrap.servers", bootstrap))
        .schemaRegistryUrl(registry)
        .topics(topics)
        .serdes(serdes)
        .stateDir(Files.createTempDirectory(stateRoot, id))
        .meterRegistry(meters)
        .build()
        .start()) {
      long t0 = CardActivityFixture.awaitRunning(service.streams(), Duration.ofMinutes(2));
      long deadline = System.nanoTime() + Duration.ofMinutes(20).toNanos();
      while (counted(meters) < predictions) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("drift-detector counted " + counted(meters) + " of "
              + predictions + " predictions in 20 minutes");
        }
        TimeUnit.MILLISECONDS.sleep(20);
      }
      return predictions / ((System.nanoTime() - t0) / 1e9);
    }
  }

  private static double counted(SimpleMeterRegistry meters) {
    Counter c = meters.find("flywheel.drift.predictions").tag("outcome", "counted").counter();
    return c == null ? 0 : c.count();
  }

  private static double features(Admin admin, String bootstrap, String registry,
      CardActivityFixture fx, Path stateRoot, String id, int transactions) throws Exception {
    try (FeatureStreamsService features = FeatureStreamsService.builder()
        .config(FeatureStreamsConfig.cardActivity())
        .bootstrapServers(bootstrap)
        .schemaRegistryUrl(registry)
        .serdes(fx.serdes)
        .topics(fx.topics)
        .applicationId(id)
        .stateDir(Files.createTempDirectory(stateRoot, id))
        .kafka(ONE_IN_FLIGHT)
        .build()
        .start()) {
      long t0 = CardActivityFixture.awaitRunning(features.kafkaStreams(), Duration.ofMinutes(2));
      long t1 = CardActivityFixture.awaitCommittedToEnd(admin, id, fx.data.name(),
          Duration.ofMinutes(20));
      return transactions / ((t1 - t0) / 1e9);
    }
  }

  /** The promotion with its baseline, then the predictions, 100 ms apart in event time. */
  private static void produce(String bootstrap, Topics topics, int count) {
    Map<String, Object> props = new HashMap<>();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    props.put(ProducerConfig.LINGER_MS_CONFIG, 20);
    props.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
    props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    // One batch in flight per partition (see CardActivityFixture#produce).
    props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
    Topic<String, ModelPromoted> promoted = topics.modelPromoted();
    Topic<String, Prediction> predictions = topics.predictions();
    Random random = new Random(11);
    try (KafkaProducer<String, ModelPromoted> p = new KafkaProducer<>(props,
        promoted.keySerde().serializer(), promoted.valueSerde().serializer())) {
      p.send(new ProducerRecord<>(promoted.name(), MODEL, promotion(baseline(random))));
      p.flush();
    }
    try (KafkaProducer<String, Prediction> p = new KafkaProducer<>(props,
        predictions.keySerde().serializer(), predictions.valueSerde().serializer())) {
      for (int i = 0; i < count; i++) {
        Prediction pr = prediction(random, i);
        // Keyed by model, so the predictions share the promotion's partition and task: the
        // detector reads the promotion first (a prediction of a version read before the
        // version's promotion is not counted, and a new group reads all from the start)
        p.send(new ProducerRecord<>(predictions.name(), MODEL, pr));
        if (i % 50_000 == 49_999) {
          p.flush();
        }
      }
      p.flush();
    }
  }

  static Prediction prediction(Random random, int i) {
    Map<String, Double> numeric = new LinkedHashMap<>();
    for (int f = 0; f < NUMERIC; f++) {
      numeric.put("n" + f, random.nextGaussian());
    }
    Map<String, String> categorical = new LinkedHashMap<>();
    for (int f = 0; f < CATEGORICAL; f++) {
      categorical.put("c" + f, "v" + Math.min(CATEGORIES - 1,
          (int) Math.abs(random.nextGaussian() * 2.5)));
    }
    Instant t = T0.plusMillis(100L * i);
    return Prediction.newBuilder()
        .setEventId("e-" + i)
        .setPredictionId("p-" + i)
        .setEventTime(t)
        .setScoredAt(t)
        .setEntityId("card-" + random.nextInt(10_000))
        .setModel(MODEL)
        .setVersion(1)
        .setAlias("champion")
        .setScore(1 / (1 + Math.exp(-random.nextGaussian())))
        .setFeatures(numeric)
        .setCategoricalFeatures(categorical)
        .setLatencyMicros(50)
        .build();
  }

  static BaselineProfile baseline(Random random) {
    int rows = 20_000;
    List<FeatureProfile> features = new ArrayList<>();
    for (int f = 0; f < NUMERIC; f++) {
      double[] v = new double[rows];
      for (int i = 0; i < rows; i++) {
        v[i] = random.nextGaussian();
      }
      features.add(FeatureProfiles.numeric("n" + f, v));
    }
    for (int f = 0; f < CATEGORICAL; f++) {
      Map<String, Long> counts = new HashMap<>();
      for (int i = 0; i < rows; i++) {
        counts.merge("v" + Math.min(CATEGORIES - 1, (int) Math.abs(random.nextGaussian() * 2.5)),
            1L, Long::sum);
      }
      features.add(FeatureProfile.newBuilder().setName("c" + f)
          .setKind(FeatureKind.CATEGORICAL).setCount(rows).setCategoryCounts(counts).build());
    }
    double[] scores = new double[rows];
    for (int i = 0; i < rows; i++) {
      scores[i] = 1 / (1 + Math.exp(-random.nextGaussian()));
    }
    return BaselineProfile.newBuilder().setSampleCount(rows).setComputedAt(T0)
        .setFeatures(features).setScore(FeatureProfiles.numeric("score", scores)).build();
  }

  private static ModelPromoted promotion(BaselineProfile baseline) {
    List<String> names = new ArrayList<>();
    List<String> categorical = new ArrayList<>();
    baseline.getFeatures().forEach(f -> {
      names.add(f.getName());
      if (f.getKind() == FeatureKind.CATEGORICAL) {
        categorical.add(f.getName());
      }
    });
    return ModelPromoted.newBuilder()
        .setEventId("bench-promoted-1")
        .setEventTime(T0)
        .setModel(MODEL)
        .setAlias("champion")
        .setVersion(1)
        .setArtifact(ModelArtifact.newBuilder().setUri("file:///tmp/bench-model")
            .setSha256("0".repeat(64)).setFormat(ModelFormat.XGBOOST).build())
        .setSignature(ModelSignature.newBuilder().setFeatureNames(names)
            .setCategoricalFeatures(categorical).setTask(ModelTask.BINARY_CLASSIFICATION)
            .setLabelTarget("is_fraud").setDecisionThreshold(0.5).build())
        .setBaseline(baseline)
        .setActor(Actor.newBuilder().setName("bench").setKind(ActorKind.SERVICE).build())
        .setCommandId("bench-cmd-1")
        .build();
  }

  private static double median(List<double[]> results, int column) {
    return results.stream().mapToDouble(r -> r[column]).sorted().toArray()[results.size() / 2];
  }
}
