package dev.flywheel.platform.cli;

import dev.flywheel.topics.ClusterOptions;
import java.util.Map;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;

/**
 * The Kafka client settings of the {@code flywheel} commands: the cluster's properties ({@link
 * ClusterOptions#kafka()}, security included) with the commands' timeouts.
 */
public final class CommandClients {

  /** How long an admin or consumer call may take before the command gives up. */
  public static final int API_TIMEOUT_MS = 30_000;

  private CommandClients() {}

  /** An admin client's properties. */
  public static Map<String, Object> admin(ClusterOptions cluster) {
    Map<String, Object> props = cluster.kafka();
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, API_TIMEOUT_MS);
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, API_TIMEOUT_MS / 3);
    return props;
  }

  /** A group-less, read_committed consumer's properties. */
  public static Map<String, Object> consumer(ClusterOptions cluster) {
    Map<String, Object> props = cluster.kafka();
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, API_TIMEOUT_MS);
    props.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, API_TIMEOUT_MS / 3);
    // the commands read topics end to end: larger polls, fewer round trips of the loop
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2_000);
    return props;
  }
}
