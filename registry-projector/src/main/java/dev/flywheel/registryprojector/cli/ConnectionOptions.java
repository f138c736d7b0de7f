package dev.flywheel.registryprojector.cli;

import picocli.CommandLine.Option;

/** Where the registry's HTTP API and Kafka are; shared by every {@code flywheel models} command. */
public final class ConnectionOptions {

  @Option(names = "--url", paramLabel = "<url>",
      description = "The registry's HTTP API (default: ${DEFAULT-VALUE}).")
  String url = "http://127.0.0.1:8080";

  @Option(names = "--bootstrap-servers", paramLabel = "<host:port>",
      description = "Kafka bootstrap servers, for commands (default: ${DEFAULT-VALUE}).")
  String bootstrapServers = "127.0.0.1:9092";

  @Option(names = "--schema-registry-url", paramLabel = "<url>",
      description = "Schema registry URL, for commands (default: ${DEFAULT-VALUE}).")
  String schemaRegistryUrl = "http://127.0.0.1:8081";

  @Option(names = "--prefix", paramLabel = "<prefix>",
      description = "Topic name prefix, as the platform was started with (default: none).")
  String prefix = "";

  /** Used by picocli. */
  public ConnectionOptions() {}
}
