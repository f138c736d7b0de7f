package dev.flywheel.bench;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.events.DatasetLineage;
import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.Label;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import dev.flywheel.trainingtrigger.artifact.LocalArtifactStore;
import dev.flywheel.trainingtrigger.config.ModelSpec;
import dev.flywheel.trainingtrigger.dataset.Dataset;
import dev.flywheel.trainingtrigger.dataset.DatasetBuilder;
import dev.flywheel.trainingtrigger.dataset.Split;
import dev.flywheel.trainingtrigger.training.Metrics;
import dev.flywheel.trainingtrigger.training.TrainingOutput;
import dev.flywheel.trainingtrigger.training.XGBoostTrainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * training-trigger's two numbers:
 *
 * <pre>{@code
 * java -cp bench/target/benchmarks.jar dev.flywheel.bench.TrainingBenchmark dataset 500000 16 3
 * java -cp bench/target/benchmarks.jar dev.flywheel.bench.TrainingBenchmark xgboost 1000000 16 3
 * }</pre>
 *
 * <p>{@code dataset ROWS FEATURES ROUNDS}: starts a devstack, writes ROWS labels and ROWS feature
 * vectors of FEATURES numeric features, then per round times {@link DatasetBuilder#build} — read
 * both topics to their end, join by event id, split by event time, write the Avro container, store
 * it by SHA-256 — and prints labelled rows per second; the median round is the result.
 *
 * <p>{@code xgboost ROWS FEATURES ROUNDS}: generates ROWS rows in memory (20% holdout, label from a
 * logistic of 3 features), then per round times {@link XGBoostTrainer#train} with {@code
 * nthread=2, tree_method=hist, max_depth=6, eta=0.1, num_round=100}: building the DMatrix,
 * training, scoring the holdout and computing its metrics, writing the model. Prints each round's
 * wall time and the JVM's CPU time (all threads) during it: on a machine shared with other work
 * the wall time stretches, and CPU time / cores is what the training needs with the cores to
 * itself.
 */
public final class TrainingBenchmark {

  private TrainingBenchmark() {}

  /** See the class comment. */
  public static void main(String[] args) throws Exception {
    String mode = args.length > 0 ? args[0] : "xgboost";
    int rows = args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000;
    int features = args.length > 2 ? Integer.parseInt(args[2]) : 16;
    int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 3;
    Path tmp = Files.createTempDirectory("flywheel-training-bench");
    try {
      if (mode.equals("dataset")) {
        dataset(rows, features, rounds, tmp);
      } else {
        xgboost(rows, features, rounds, tmp);
      }
    } finally {
      Dirs.deleteQuietly(tmp);
    }
  }

  private static void dataset(int rows, int features, int rounds, Path tmp) throws Exception {
    try (Devstack devstack = Devstack.builder().build().start()) {
      Topics topics = Topics.builder(AvroSerdes.fromConfig(Map.of("schema.registry.url",
          devstack.schemaRegistryUrl()))).build();
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", devstack.bootstrapServers()))) {
        new TopicBootstrap(admin).ensure(List.of(topics.labels(), topics.features()));
      }
      Map<String, Object> p = Map.of("bootstrap.servers", devstack.bootstrapServers(), "acks",
          "all", "linger.ms", 20, "batch.size", 262144, "compression.type", "lz4");
      Topic<String, Label> labels = topics.labels();
      Topic<String, FeatureVector> vectors = topics.features();
      Random r = new Random(1);
      Instant start = Instant.parse("2026-11-01T00:00:00Z");
      long t0 = System.nanoTime();
      try (KafkaProducer<String, Label> lp = new KafkaProducer<>(p,
              labels.keySerde().serializer(), labels.valueSerde().serializer());
          KafkaProducer<String, FeatureVector> vp = new KafkaProducer<>(p,
              vectors.keySerde().serializer(), vectors.valueSerde().serializer())) {
        for (int i = 0; i < rows; i++) {
          String id = "evt-" + i;
          Instant t = start.plusMillis(i * 100L);
          Map<String, Double> values = new TreeMap<>();
          for (int f = 0; f < features; f++) {
            values.put(String.format("f%02d", f), r.nextGaussian());
          }
          vp.send(new ProducerRecord<>(vectors.name(), "card-" + (i % 5000),
              FeatureVector.newBuilder().setEventId(id).setEventTime(t)
                  .setEntityId("card-" + (i % 5000)).setFeatureGroup("card_activity")
                  .setFeatures(values).setAsOf(t).build()));
          lp.send(new ProducerRecord<>(labels.name(), id, Label.newBuilder().setEventId(id)
              .setEventTime(t).setTarget("is_fraud").setValue(r.nextInt(10) == 0 ? 1 : 0)
              .build()));
        }
      }
      System.out.printf("wrote %,d labels and %,d vectors in %.1f s%n", rows, rows,
          (System.nanoTime() - t0) / 1e9);
      DatasetBuilder builder = DatasetBuilder.builder()
          .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers())).topics(topics)
          .store(new LocalArtifactStore(tmp.resolve("artifacts"))).build();
      ModelSpec model = ModelSpec.of("fraud", "card_activity").withTarget("is_fraud");
      double[] perSecond = new double[rounds];
      for (int round = 0; round < rounds; round++) {
        long s = System.nanoTime();
        Dataset d = builder.build(model, tmp.resolve("work-" + round));
        double secs = (System.nanoTime() - s) / 1e9;
        long n = d.train().rows() + d.holdout().rows();
        perSecond[round] = n / secs;
        System.out.printf("round %d: %,d rows in %.2f s = %,.0f rows/s (sha256 %s)%n", round + 1,
            n, secs, perSecond[round], d.lineage().getSha256().substring(0, 12));
      }
      Arrays.sort(perSecond);
      System.out.printf("dataset build median: %,.0f rows/s%n", perSecond[rounds / 2]);
    }
  }

  private static void xgboost(int rows, int features, int rounds, Path tmp) throws Exception {
    Random r = new Random(2);
    int holdout = rows / 5;
    int train = rows - holdout;
    Split tr = split(r, train, features, 0);
    Split ho = split(r, holdout, features, train);
    List<String> names = new ArrayList<>();
    for (int f = 0; f < features; f++) {
      names.add(String.format("f%02d", f));
    }
    Dataset d = new Dataset(names, List.of(), tr, ho, DatasetLineage.newBuilder()
        .setSha256("0".repeat(64)).setRanges(List.of()).setTrainRows(train)
        .setHoldoutRows(holdout).setTrainStart(Instant.ofEpochMilli(tr.startMs()))
        .setTrainEnd(Instant.ofEpochMilli(tr.endMs()))
        .setHoldoutStart(Instant.ofEpochMilli(ho.startMs()))
        .setHoldoutEnd(Instant.ofEpochMilli(ho.endMs())).build(), null);
    ModelSpec model = ModelSpec.of("fraud", "card_activity");
    Map<String, String> params = Map.of("nthread", "2", "tree_method", "hist", "max_depth", "6",
        "eta", "0.1", "num_round", "100");
    double[] secs = new double[rounds];
    double[] cpu = new double[rounds];
    for (int round = 0; round < rounds; round++) {
      long s = System.nanoTime();
      long c = CpuClock.processNanos();
      TrainingOutput out = new XGBoostTrainer().train(d, model, params, tmp.resolve("m" + round));
      secs[round] = (System.nanoTime() - s) / 1e9;
      // this JVM runs nothing else, so its CPU time is the training's: wall time on a machine
      // shared with other work, CPU time / cores what it would take with the cores to itself
      cpu[round] = (CpuClock.processNanos() - c) / 1e9;
      System.out.printf("round %d: %,d x %d, 100 rounds: %.1f s wall, %.1f s CPU (all threads),"
              + " holdout AUC %.4f%n", round + 1, train, features, secs[round], cpu[round],
          out.metrics().get(Metrics.AUC));
    }
    Arrays.sort(secs);
    Arrays.sort(cpu);
    System.out.printf("xgboost training median: %.1f s wall, %.1f s CPU for %,d rows x %d features"
            + " on %d cores%n", secs[rounds / 2], cpu[rounds / 2], rows, features,
        Runtime.getRuntime().availableProcessors());
  }

  private static Split split(Random r, int n, int features, int offset) {
    String[] ids = new String[n];
    long[] times = new long[n];
    float[] y = new float[n];
    float[] x = new float[n * features];
    String[][] cats = new String[n][0];
    for (int i = 0; i < n; i++) {
      ids[i] = "evt-" + (offset + i);
      times[i] = 1_700_000_000_000L + (offset + i) * 100L;
      for (int f = 0; f < features; f++) {
        x[i * features + f] = (float) r.nextGaussian();
      }
      double logit = 2 * x[i * features] - 1.5 * x[i * features + 1] + x[i * features + 2] - 2;
      y[i] = r.nextDouble() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
    }
    return new Split(ids, times, y, x, features, cats);
  }
}
