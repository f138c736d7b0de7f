package dev.flywheel.registryprojector.cli;

import dev.flywheel.topics.ClusterOptions;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Where the registry's HTTP API and the cluster are; shared by every {@code flywheel models}
 * command. Queries go to {@code --url}; commands go to Kafka ({@link ClusterOptions}).
 */
public final class ConnectionOptions {

  @Option(names = "--url", paramLabel = "<url>",
      description = "The registry's HTTP API (default: ${DEFAULT-VALUE}).")
  String url = "http://127.0.0.1:8080";

  @Mixin ClusterOptions cluster;

  /** Used by picocli. */
  public ConnectionOptions() {}
}
