package dev.flywheel.bench;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.featurestreams.FeatureStreamsConfig;
import dev.flywheel.featurestreams.FeatureStreamsService;
import dev.flywheel.featurestreams.FeatureTopology;
import dev.flywheel.streams.StreamsProps;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * State size and heap of the {@code card_activity} group per million entities.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.flywheel.bench.FeatureStateHarness [entities]
 * </pre>
 *
 * <p>Produces one transaction for each of {@code entities} (default 1,000,000) distinct cards,
 * runs {@link FeatureStreamsService} until every event is committed, and reports: the heap in use
 * after a full GC, minus the same figure taken before the service started (the devstack and the
 * produced data already in place); then, after a clean close (which flushes RocksDB), the bytes
 * on disk of each store in the state directory and of each changelog topic on the broker. The
 * off-heap RocksDB block cache and memtables are bounded JVM-wide by {@link StreamsProps}.
 */
public final class FeatureStateHarness {

  private FeatureStateHarness() {}

  public static void main(String[] args) throws Exception {
    int entities = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    Path stateDir = Files.createTempDirectory("flywheel-state-bench");
    String applicationId = "bench-state";
    try (Devstack devstack = Devstack.builder().build().start();
        Admin admin = CardActivityFixture.admin(devstack.bootstrapServers())) {
      CardActivityFixture fx = CardActivityFixture.create(devstack.bootstrapServers(),
          devstack.schemaRegistryUrl(), 3);
      long produceStart = System.nanoTime();
      fx.produce(entities, 1, i -> "card-" + i, 3);
      System.out.printf(Locale.ROOT, "produced %,d transactions of %,d distinct cards in %.1f s%n",
          entities, entities, (System.nanoTime() - produceStart) / 1e9);
      long heapBefore = usedHeapAfterGc();
      long heapAfter;
      double seconds;
      try (FeatureStreamsService features = FeatureStreamsService.builder()
          .config(FeatureStreamsConfig.cardActivity())
          .bootstrapServers(devstack.bootstrapServers())
          .schemaRegistryUrl(devstack.schemaRegistryUrl())
          .serdes(fx.serdes)
          .topics(fx.topics)
          .applicationId(applicationId)
          .stateDir(stateDir)
          .build()
          .start()) {
        long t0 = CardActivityFixture.awaitRunning(features.kafkaStreams(), Duration.ofMinutes(2));
        long t1 = CardActivityFixture.awaitCommittedToEnd(admin, applicationId, fx.data.name(),
            Duration.ofMinutes(60));
        seconds = (t1 - t0) / 1e9;
        heapAfter = usedHeapAfterGc();
      }
      double perMillion = 1_000_000.0 / entities;
      System.out.printf(Locale.ROOT, "%,d entities processed in %.1f s (%,.0f events/s)%n",
          entities, seconds, entities / seconds);
      System.out.printf(Locale.ROOT, "heap in use after full GC: %,d MiB before the service,"
              + " %,d MiB with it running and every entity in state: +%,.1f MiB per million"
              + " entities%n", heapBefore >> 20, heapAfter >> 20,
          (heapAfter - heapBefore) / 1048576.0 * perMillion);
      Map<String, Long> stores = new TreeMap<>();
      Path appDir = stateDir.resolve(applicationId);
      try (Stream<Path> files = Files.walk(appDir)) {
        files.filter(Files::isRegularFile).forEach(f -> {
          Path relative = appDir.relativize(f);
          // <task>/rocksdb/<store>/<file>
          if (relative.getNameCount() >= 4 && relative.getName(1).toString().equals("rocksdb")) {
            String store = relative.getName(2).toString();
            try {
              stores.merge(store, Files.size(f), Long::sum);
            } catch (java.io.IOException e) {
              // skip
            }
          }
        });
      }
      long total = 0;
      for (Map.Entry<String, Long> e : stores.entrySet()) {
        total += e.getValue();
        System.out.printf(Locale.ROOT, "state dir, store %s: %,.1f MiB (%,.0f bytes per"
            + " entity)%n", e.getKey(), e.getValue() / 1048576.0, e.getValue() / (double) entities);
      }
      System.out.printf(Locale.ROOT, "state dir total %,.1f MiB per million entities (%s)%n",
          total / 1048576.0 * perMillion, stateDir);
      Map<String, Long> changelogs = new TreeMap<>();
      for (Map<String, LogDirDescription> byDir : admin.describeLogDirs(
          admin.describeCluster().nodes().get().stream().map(n -> n.id()).toList())
          .allDescriptions().get().values()) {
        for (LogDirDescription dir : byDir.values()) {
          for (Map.Entry<TopicPartition, ReplicaInfo> r : dir.replicaInfos().entrySet()) {
            String topic = r.getKey().topic();
            if (topic.startsWith(applicationId) && topic.endsWith("-changelog")) {
              changelogs.merge(topic, r.getValue().size(), Long::sum);
            }
          }
        }
      }
      changelogs.forEach((topic, bytes) -> System.out.printf(Locale.ROOT,
          "changelog %s: %,.1f MiB on the broker (not yet compacted)%n", topic,
          bytes / 1048576.0));
      System.out.printf(Locale.ROOT, "RocksDB block cache and memtables: bounded to %,d MiB"
              + " JVM-wide (StreamsProps default), off-heap; stores: %s, %s%n",
          StreamsProps.DEFAULT_ROCKSDB_MEMORY_BYTES >> 20,
          FeatureTopology.stateStoreName("card_activity"),
          FeatureTopology.onlineStoreName("card_activity"));
    } finally {
      Dirs.deleteQuietly(stateDir);
    }
  }

  private static long usedHeapAfterGc() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(200);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
