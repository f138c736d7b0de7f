package dev.flywheel.bench;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.events.Transaction;
import dev.flywheel.ingest.file.FileProducer;
import dev.flywheel.ingest.file.FileProducerSummary;
import dev.flywheel.ingest.source.SourceCatalog;
import dev.flywheel.ingest.source.SourceDefinition;
import dev.flywheel.serde.AvroSerdeConfig;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.serialization.Serdes;

/**
 * {@code flywheel produce} throughput next to Kafka's own {@code ProducerPerformance}, on the same
 * embedded broker in the same run.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.flywheel.bench.FileProducerBenchmark [records] [rounds]
 * </pre>
 *
 * <p>Starts a {@link Devstack}, adds a source with the demo {@link Transaction} schema, writes a
 * JSON Lines file of {@code records} (default 500,000) events of about 200 bytes each, then, per
 * round, produces the file with {@link FileProducer} (read, parse, convert to Avro against the
 * registered schema, serialize, send) and runs {@code ProducerPerformance} with the same record
 * count, 200-byte records and the same producer settings ({@link
 * FileProducer#throughputDefaults()}: idempotent, {@code acks=all}, linger, batch size, lz4, one
 * request in flight) to a topic of the same partitions. A first round of
 * a tenth of the records warms both up and is not reported; {@code rounds} (default 5) follow.
 * Prints records/s of each per round, the medians and the median of the per-round ratios; the
 * goal is a file producer at 50% or more of the raw producer.
 */
public final class FileProducerBenchmark {

  private static final String SOURCE = "bench-tx";
  private static final int RECORD_SIZE = 200;
  private static final String[] MERCHANTS = {"m-coffee-0042", "m-grocer-1177", "m-fuel-0815",
      "m-books-2290", "m-travel-3001", "m-cinema-0007"};
  private static final String[] CATEGORIES = {"food", "grocery", "fuel", "books", "travel", "fun"};
  private static final String[] COUNTRIES = {"NL", "DE", "FR", "GB", "US", "ES"};
  private static final String[] CHANNELS = {"POS", "ECOMMERCE", "ATM", "MOBILE"};

  /** The platform's own demo source record: a card payment. */
  static final Schema SCHEMA = Transaction.getClassSchema();

  private FileProducerBenchmark() {}

  public static void main(String[] args) throws Exception {
    int records = args.length > 0 ? Integer.parseInt(args[0]) : 500_000;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    Path dir = Files.createTempDirectory("flywheel-file-bench");
    try (Devstack devstack = Devstack.builder().build().start()) {
      AvroSerdes serdes = AvroSerdes.fromConfig(Map.of(
          AvroSerdeConfig.SCHEMA_REGISTRY_URL, devstack.schemaRegistryUrl(),
          AvroSerdeConfig.AUTO_REGISTER_SCHEMAS, false));
      Topics topics = Topics.builder(serdes).build();
      try (Admin admin = Admin.create(Map.of(
          AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, devstack.bootstrapServers()))) {
        SourceDefinition source = new SourceCatalog(topics, serdes.client(), admin)
            .add(SourceDefinition.builder(SOURCE).schema(SCHEMA).keyField("card_id")
                .timeField("event_time").build())
            .source();
        KafkaPerfTools.awaitLeadersServing(admin, topics.data(SOURCE).name(),
            topics.partitions());
        Path warmFile = writeEvents(dir.resolve("warm-up.jsonl"), Math.max(1, records / 10));
        Path file = writeEvents(dir.resolve("events.jsonl"), records);
        System.out.printf(Locale.ROOT, "file: %,d events, %,d bytes (%.0f bytes per line)%n",
            records, Files.size(file), (double) Files.size(file) / records);

        List<double[]> results = new ArrayList<>();
        for (int round = 0; round <= rounds; round++) {
          boolean warmUp = round == 0;
          int count = warmUp ? Math.max(1, records / 10) : records;
          FileProducerSummary summary = FileProducer.builder()
              .bootstrapServers(devstack.bootstrapServers())
              .topics(topics)
              .source(source)
              .build()
              .produce(warmUp ? warmFile : file);
          if (summary.produced() != count) {
            throw new IllegalStateException("the file producer produced " + summary.produced()
                + " of " + count + ": " + summary.describe());
          }
          String rawTopic = "bench.raw." + round;
          Topic<byte[], byte[]> raw = new Topic<>(rawTopic, Serdes.ByteArray(), Serdes.ByteArray(),
              topics.partitions(), topics.replicationFactor(), Map.of());
          new TopicBootstrap(admin).ensure(List.of(raw));
          KafkaPerfTools.awaitLeadersServing(admin, rawTopic, topics.partitions());
          double raws = KafkaPerfTools.producerPerformance(devstack.bootstrapServers(), rawTopic,
              count, RECORD_SIZE, FileProducer.throughputDefaults());
          double files = summary.recordsPerSecond();
          if (warmUp) {
            System.out.printf(Locale.ROOT, "warm-up (%,d records): file producer %,.0f records/s,"
                + " ProducerPerformance %,.0f records/s%n", count, files, raws);
          } else {
            results.add(new double[] {files, raws});
            System.out.printf(Locale.ROOT, "round %d: file producer %,.0f records/s (%s),"
                    + " ProducerPerformance %,.0f records/s, ratio %.1f%%%n", round, files,
                summary.elapsed(), raws, 100 * files / raws);
          }
        }
        double fileRate = results.stream().mapToDouble(r -> r[0]).sorted().toArray()[rounds / 2];
        double rawRate = results.stream().mapToDouble(r -> r[1]).sorted().toArray()[rounds / 2];
        double ratio =
            results.stream().mapToDouble(r -> r[0] / r[1]).sorted().toArray()[rounds / 2];
        System.out.printf(Locale.ROOT, "median of %d rounds of %,d records: file producer %,.0f"
                + " records/s, ProducerPerformance %,.0f records/s (%d-byte records); median ratio"
                + " of the rounds %.1f%% (goal >= 50%%); %d cores, max heap %d MiB%n", rounds,
            records, fileRate, rawRate, RECORD_SIZE, 100 * ratio,
            Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20);
      }
    } finally {
      try (var files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /** Writes {@code count} card transactions of about 200 bytes as JSON Lines. */
  static Path writeEvents(Path file, int count) throws IOException {
    SplittableRandom random = new SplittableRandom(42);
    long start = 1_700_000_000_000L;
    try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      for (int i = 0; i < count; i++) {
        int m = random.nextInt(MERCHANTS.length);
        out.write(String.format(Locale.ROOT, "{\"event_id\":\"%s\",\"card_id\":\"card-%06d\","
                + "\"merchant\":\"%s\",\"category\":\"%s\",\"amount\":%.2f,"
                + "\"currency\":\"EUR\",\"country\":\"%s\",\"channel\":\"%s\","
                + "\"event_time\":%d}%n",
            new UUID(random.nextLong(), random.nextLong()), random.nextInt(100_000), MERCHANTS[m],
            CATEGORIES[m], random.nextDouble(1, 500), COUNTRIES[random.nextInt(COUNTRIES.length)],
            CHANNELS[random.nextInt(CHANNELS.length)], start + i * 10L));
      }
    }
    return file;
  }
}
