package dev.flywheel.platform.cli;

import dev.flywheel.serde.AvroSerdeConfig;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import picocli.CommandLine.Option;

/**
 * Where Kafka and the schema registry are and which topic prefix the platform uses; shared by the
 * commands that read the log ({@code watch}, {@code topics}, {@code lineage}).
 */
public final class ClusterOptions {

  /** How long an admin or consumer call may take before the command gives up. */
  static final int API_TIMEOUT_MS = 30_000;

  @Option(names = "--bootstrap-servers", paramLabel = "<host:port>",
      description = "Kafka bootstrap servers (default: ${DEFAULT-VALUE}).")
  String bootstrapServers = "127.0.0.1:9092";

  @Option(names = "--schema-registry-url", paramLabel = "<url>",
      description = "Schema registry URL (default: ${DEFAULT-VALUE}).")
  String schemaRegistryUrl = "http://127.0.0.1:8081";

  @Option(names = "--prefix", paramLabel = "<prefix>",
      description = "Topic name prefix, as the platform was started with (default: none).")
  String prefix = "";

  /** Used by picocli. */
  public ClusterOptions() {}

  AvroSerdes serdes() {
    return AvroSerdes.fromConfig(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, schemaRegistryUrl));
  }

  Topics topics(AvroSerdes serdes) {
    return Topics.builder(serdes).prefix(prefix).build();
  }

  /** The first part of every Flywheel topic name: {@code [prefix.]flywheel.}. */
  String namePrefix() {
    return (prefix.isEmpty() ? "" : prefix + ".") + Topics.PLATFORM + ".";
  }

  Map<String, Object> admin() {
    Map<String, Object> props = new HashMap<>();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, API_TIMEOUT_MS);
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, API_TIMEOUT_MS / 3);
    return props;
  }

  /** A group-less, read_committed consumer's properties. */
  Map<String, Object> consumer() {
    Map<String, Object> props = new HashMap<>();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, API_TIMEOUT_MS);
    props.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, API_TIMEOUT_MS / 3);
    // the commands read topics end to end: larger polls, fewer round trips of the loop
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2_000);
    return props;
  }
}
