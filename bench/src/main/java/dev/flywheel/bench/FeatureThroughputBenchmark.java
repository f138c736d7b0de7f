package dev.flywheel.bench;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.events.FeatureVector;
import dev.flywheel.featurestreams.FeatureGroupConfig;
import dev.flywheel.featurestreams.FeatureStreamsConfig;
import dev.flywheel.featurestreams.FeatureStreamsService;
import dev.flywheel.streams.StreamsProps;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.TopicBootstrap;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

/**
 * Throughput of the {@code card_activity} feature group next to a pass-through Kafka Streams job
 * and Kafka's {@code ConsumerPerformance}, on the same embedded broker, topic and partitions.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.flywheel.bench.FeatureThroughputBenchmark \
 *     [events] [cards] [rounds] [partitions] [threads]
 * </pre>
 *
 * <p>Produces {@code events} (default 300,000) card transactions over {@code cards} (default
 * 10,000) cards, 2 s apart in event time (so the 7-day windows fill), to {@code
 * flywheel.data.transactions} with {@code partitions} (default 3) partitions. Then per round, each
 * with fresh consumer groups and empty state: {@code ConsumerPerformance} reads them all (the
 * ceiling: fetching only); the pass-through job {@code stream(in).to(out)} with the same serdes
 * (String keys, the catalogue's Avro values, so each record is deserialized and serialized again)
 * and the same {@link StreamsProps} ({@code exactly_once_v2}, 100 ms commits, lz4); and {@link
 * FeatureStreamsService} with {@link FeatureStreamsConfig#cardActivity()}. Between the two, an
 * {@link IoEquivalentTopology} job: the same reads and writes per event as {@code card_activity}
 * with no feature computed, so that the share of the cost that is computing the features shows.
 * The three Streams jobs run {@code threads} stream threads (default 1). A Streams job's time
 * runs from the moment it is RUNNING to the moment its group has committed the end offset of every
 * input partition (polled every 20 ms). Prints each round, with the CPU each job cost per event
 * (the whole JVM, broker included, its stream threads alone, and by kind of thread), the median
 * ratio features/pass-through (the goal is 0.5 or more) and features/I/O-equivalent.
 */
public final class FeatureThroughputBenchmark {

  /** Bytes of a card's encoded state in {@code card_activity} once its windows fill. */
  private static final int STATE_BYTES = 375;

  private FeatureThroughputBenchmark() {}

  public static void main(String[] args) throws Exception {
    int events = args.length > 0 ? Integer.parseInt(args[0]) : 300_000;
    int cards = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
    int partitions = args.length > 3 ? Integer.parseInt(args[3]) : 3;
    int threads = args.length > 4 ? Integer.parseInt(args[4]) : 1;
    Path stateRoot = Files.createTempDirectory("flywheel-feature-bench");
    try (Devstack devstack = Devstack.builder().build().start();
        Admin admin = CardActivityFixture.admin(devstack.bootstrapServers())) {
      CardActivityFixture fx = CardActivityFixture.create(devstack.bootstrapServers(),
          devstack.schemaRegistryUrl(), partitions);
      Topic<String, GenericRecord> out = fx.topics.data("transactions-passthrough");
      new TopicBootstrap(admin).ensure(List.of(out));
      Random cardOf = new Random(7);
      long produceStart = System.nanoTime();
      fx.produce(events, 2_000, i -> "card-" + cardOf.nextInt(cards), 1);
      System.out.printf(Locale.ROOT, "produced %,d transactions of %,d cards to %s (%d"
              + " partitions) in %.1f s%n", events, cards, fx.data.name(), partitions,
          (System.nanoTime() - produceStart) / 1e9);

      FeatureGroupConfig cardActivity = FeatureStreamsConfig.cardActivity().featureGroups()
          .get(0);
      List<double[]> results = new ArrayList<>();
      for (int round = 1; round <= rounds; round++) {
        double ceiling = KafkaPerfTools.consumerPerformance(devstack.bootstrapServers(),
            fx.data.name(), events, "bench-consumer-perf-" + round);

        StreamsBuilder passThrough = new StreamsBuilder();
        passThrough.stream(fx.data.name(), Consumed.with(Serdes.String(), fx.data.valueSerde())
                .withName("bench-passthrough-source"))
            .to(out.name(), Produced.with(out.keySerde(), out.valueSerde())
                .withName("bench-passthrough-sink"));
        String passId = "bench-passthrough-" + round;
        Measured pass;
        try (KafkaStreams streams = new KafkaStreams(passThrough.build(),
            props(passId, devstack, threads, stateRoot))) {
          streams.start();
          pass = measure(streams, passId, admin, fx.data.name(), events);
        }

        String ioId = "bench-io-" + round;
        Measured io;
        try (KafkaStreams streams = new KafkaStreams(IoEquivalentTopology.build(fx.data,
            fx.topics.features(), fx.serdes.specific(FeatureVector.class, false), cardActivity,
            STATE_BYTES), props(ioId, devstack, threads, stateRoot))) {
          streams.start();
          io = measure(streams, ioId, admin, fx.data.name(), events);
        }

        String featuresId = "bench-features-" + round;
        long logBefore = CardActivityFixture.endOffsets(admin, fx.topics.features().name());
        Measured feat;
        try (FeatureStreamsService features = FeatureStreamsService.builder()
            .config(FeatureStreamsConfig.cardActivity())
            .bootstrapServers(devstack.bootstrapServers())
            .schemaRegistryUrl(devstack.schemaRegistryUrl())
            .serdes(fx.serdes)
            .topics(fx.topics)
            .applicationId(featuresId)
            .numStreamThreads(threads)
            .stateDir(Files.createTempDirectory(stateRoot, featuresId))
            .build()
            .start()) {
          feat = measure(features.kafkaStreams(), featuresId, admin, fx.data.name(), events);
        }
        double passRate = pass.rate();
        double featureRate = feat.rate();
        double ioRate = io.rate();
        long vectors = CardActivityFixture.endOffsets(admin, fx.topics.features().name())
            - logBefore;
        results.add(new double[] {ceiling, passRate, featureRate, ioRate});
        System.out.printf(Locale.ROOT, "round %d: ConsumerPerformance %,.0f records/s,"
                + " pass-through %,.0f records/s, card_activity %,.0f events/s (%,d vectors"
                + " logged, incl. aborted-transaction markers), features/pass-through %.2f%n",
            round, ceiling, passRate, featureRate, vectors, featureRate / passRate);
        System.out.printf(Locale.ROOT, "round %d: I/O-equivalent job %,.0f events/s (JVM %.1f us,"
                + " stream threads %.1f us per event); card_activity / I/O-equivalent %.2f%n",
            round, ioRate, io.cpu()[0], io.cpu()[1], featureRate / ioRate);
        System.out.printf(Locale.ROOT, "round %d: CPU per event, pass-through: JVM %.1f us,"
                + " stream threads %.1f us; card_activity: JVM %.1f us, stream threads %.1f us%n",
            round, pass.cpu()[0], pass.cpu()[1], feat.cpu()[0], feat.cpu()[1]);
        for (String kind : feat.kinds().keySet()) {
          System.out.printf(Locale.ROOT, "round %d: CPU per event by thread kind: %-36s"
                  + " pass-through %5.1f us, I/O-equivalent %5.1f us, card_activity %5.1f us%n",
              round, kind, pass.kinds().getOrDefault(kind, 0.0),
              io.kinds().getOrDefault(kind, 0.0), feat.kinds().get(kind));
        }
      }
      System.out.printf(Locale.ROOT, "median of %d rounds of %,d events: ConsumerPerformance"
              + " %,.0f records/s, pass-through %,.0f records/s, card_activity %,.0f events/s;"
              + " median ratio features/pass-through %.2f (goal >= 0.5); %d cores, max heap %d"
              + " MiB%n", rounds, events, median(results, 0), median(results, 1),
          median(results, 2), results.stream().mapToDouble(r -> r[2] / r[1]).sorted()
              .toArray()[rounds / 2],
          Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20);
      System.out.printf(Locale.ROOT, "median I/O-equivalent job %,.0f events/s; median ratio"
              + " card_activity / I/O-equivalent %.2f%n", median(results, 3),
          results.stream().mapToDouble(r -> r[2] / r[3]).sorted().toArray()[rounds / 2]);
    } finally {
      Dirs.deleteQuietly(stateRoot);
    }
  }

  /** A job's events/s, its CPU per event (JVM, stream threads) and by kind of thread. */
  private record Measured(double rate, double[] cpu, Map<String, Double> kinds) {}

  /**
   * Times a started job from the moment it is RUNNING to the moment its group has committed the
   * end offset of every partition of {@code topic}.
   */
  private static Measured measure(KafkaStreams streams, String applicationId, Admin admin,
      String topic, int events) throws Exception {
    long t0 = CardActivityFixture.awaitRunning(streams, Duration.ofMinutes(2));
    long[] cpu0 = cpu(applicationId);
    Map<String, Long> kinds0 = CpuClock.nanosByThreadKind();
    long t1 = CardActivityFixture.awaitCommittedToEnd(admin, applicationId, topic,
        Duration.ofMinutes(20));
    return new Measured(events / ((t1 - t0) / 1e9),
        perEventMicros(cpu0, cpu(applicationId), events),
        perEventMicros(kinds0, CpuClock.nanosByThreadKind(), events));
  }

  /**
   * The {@link StreamsProps} the pass-through and I/O-equivalent jobs run with: those of {@code
   * card_activity}, its output compression included.
   */
  private static Properties props(String applicationId, Devstack devstack, int threads,
      Path stateRoot) throws IOException {
    return StreamsProps.builder(applicationId).bootstrapServers(devstack.bootstrapServers())
        .schemaRegistryUrl(devstack.schemaRegistryUrl())
        .numStreamThreads(threads)
        .stateDir(Files.createTempDirectory(stateRoot, applicationId))
        .overrides(Map.of(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG),
            FeatureStreamsService.OUTPUT_COMPRESSION))
        .build();
  }

  /** CPU nanoseconds so far of the whole JVM and of the stream threads of {@code applicationId}. */
  private static long[] cpu(String applicationId) {
    return new long[] {CpuClock.processNanos(), CpuClock.threadNanos(
        name -> name.startsWith(applicationId + "-") && name.contains("-StreamThread-"))};
  }

  /** Microseconds of CPU per event between two {@link #cpu} readings: JVM, stream threads. */
  private static double[] perEventMicros(long[] before, long[] after, int events) {
    return new double[] {(after[0] - before[0]) / 1e3 / events,
        (after[1] - before[1]) / 1e3 / events};
  }

  /** Microseconds of CPU per event of each thread kind between two readings. */
  private static Map<String, Double> perEventMicros(Map<String, Long> before,
      Map<String, Long> after, int events) {
    Map<String, Double> perEvent = new TreeMap<>();
    after.forEach((kind, nanos) -> perEvent.put(kind,
        (nanos - before.getOrDefault(kind, 0L)) / 1e3 / events));
    return perEvent;
  }

  private static double median(List<double[]> results, int column) {
    return results.stream().mapToDouble(r -> r[column]).sorted().toArray()[results.size() / 2];
  }
}
