package dev.flywheel.platform.cli;

import dev.flywheel.topics.ClusterOptions;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code flywheel topics}: every Flywheel topic on the cluster ({@code [prefix.]flywheel.*},
 * dead-letter topics included) with its partitions, its record count (end minus start offset,
 * summed over partitions; transaction markers count as offsets too) and, under it, the lag of each
 * consumer group that has committed a position on it (end offset minus committed offset).
 *
 * <p>Exit status: 0; 1 when Kafka cannot be reached; 2 when {@code --bootstrap-servers} names no
 * broker address this machine can resolve.
 */
@Command(name = "topics", mixinStandardHelpOptions = true,
    description = "List Flywheel's topics: partitions, records and each consumer group's lag.")
public final class TopicsCommand implements Callable<Integer> {

  @Spec private CommandSpec spec;
  @Mixin private ClusterOptions cluster;

  /** Used by picocli. */
  public TopicsCommand() {}

  /** One topic's numbers. */
  record TopicStats(String name, int partitions, long records, Map<String, Long> lagByGroup) {}

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    List<TopicStats> stats;
    Admin created;
    try {
      created = Admin.create(CommandClients.admin(cluster));
    } catch (KafkaException e) {
      // the client refuses --bootstrap-servers before it connects: no address resolves, or one
      // is not host:port
      Throwable root = e;
      while (root.getCause() != null) {
        root = root.getCause();
      }
      err.println("flywheel topics: cannot use --bootstrap-servers '" + cluster.bootstrapServers()
          + "': " + (root.getMessage() != null ? root.getMessage() : e.getMessage())
          + "; write the host:port of brokers this machine can resolve, comma-separated, e.g."
          + " --bootstrap-servers 127.0.0.1:9092");
      return 2;
    }
    try (Admin admin = created) {
      stats = collect(admin, cluster.topicNamePrefix());
    } catch (ExecutionException e) {
      err.println("flywheel topics: cannot read the topics on " + cluster.bootstrapServers() + ": "
          + e.getCause().getMessage() + "; is the platform running (flywheel up)?");
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    }
    if (stats.isEmpty()) {
      out.println("no " + cluster.topicNamePrefix() + "* topics on " + cluster.bootstrapServers()
          + "; start the platform with flywheel up, or pass the --prefix it runs with");
      return 0;
    }
    int width = Math.max(5, stats.stream().mapToInt(s -> s.name().length()).max().orElse(5));
    out.printf("%-" + width + "s  %10s  %10s%n", "TOPIC", "PARTITIONS", "RECORDS");
    for (TopicStats s : stats) {
      out.printf("%-" + width + "s  %10d  %10d%n", s.name(), s.partitions(), s.records());
      s.lagByGroup().forEach((group, lag) -> out.printf("  group %s lag %d%n", group, lag));
    }
    out.flush();
    return 0;
  }

  /** The numbers of every topic whose name starts with {@code namePrefix}, sorted by name. */
  static List<TopicStats> collect(Admin admin, String namePrefix)
      throws ExecutionException, InterruptedException {
    Set<String> names = new TreeSet<>();
    for (String t : admin.listTopics().names().get()) {
      if (t.startsWith(namePrefix)) {
        names.add(t);
      }
    }
    if (names.isEmpty()) {
      return List.of();
    }
    Map<String, TopicDescription> descriptions = admin.describeTopics(names).allTopicNames().get();
    Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    descriptions.values().forEach(d -> d.partitions().forEach(p -> {
      TopicPartition tp = new TopicPartition(d.name(), p.partition());
      earliest.put(tp, OffsetSpec.earliest());
      latest.put(tp, OffsetSpec.latest());
    }));
    Map<TopicPartition, ListOffsetsResultInfo> starts = admin.listOffsets(earliest).all().get();
    Map<TopicPartition, ListOffsetsResultInfo> ends = admin.listOffsets(latest).all().get();

    // lag: for every group (classic, consumer or streams) that committed positions on these topics
    Map<String, Map<String, Long>> lags = new TreeMap<>();
    List<String> groups = new ArrayList<>();
    for (GroupListing g : admin.listGroups().all().get()) {
      groups.add(g.groupId());
    }
    for (String group : groups) {
      Map<TopicPartition, OffsetAndMetadata> committed;
      try {
        committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
      } catch (ExecutionException e) {
        continue; // a group that vanished meanwhile or is not readable: no lag to show
      }
      committed.forEach((tp, offset) -> {
        if (offset == null || !names.contains(tp.topic()) || !ends.containsKey(tp)) {
          return;
        }
        long lag = Math.max(0, ends.get(tp).offset() - offset.offset());
        lags.computeIfAbsent(tp.topic(), t -> new TreeMap<>()).merge(group, lag, Long::sum);
      });
    }
    List<TopicStats> result = new ArrayList<>();
    for (String name : names) {
      TopicDescription d = descriptions.get(name);
      long records = 0;
      for (var p : d.partitions()) {
        TopicPartition tp = new TopicPartition(name, p.partition());
        records += ends.get(tp).offset() - starts.get(tp).offset();
      }
      result.add(new TopicStats(name, d.partitions().size(), records,
          lags.getOrDefault(name, Map.of())));
    }
    return result;
  }
}
