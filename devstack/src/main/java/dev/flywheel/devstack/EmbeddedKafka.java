package dev.flywheel.devstack;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Apache Kafka broker and controller in KRaft mode ({@code process.roles=broker,controller}),
 * running in this JVM.
 *
 * <p>It listens on 127.0.0.1 only. The port is fixed (9092 by default in {@code flywheel up}) or
 * chosen free at first start and kept for later restarts of the same instance. The log directory
 * is either a temporary folder deleted on {@link #close()}, or a folder you give, which is formatted
 * once and then reused: a broker restarted on the same folder keeps its topics, offsets and data.
 *
 * <pre>{@code
 * try (EmbeddedKafka kafka = EmbeddedKafka.builder().build()) {
 *   kafka.start();
 *   String bootstrap = kafka.bootstrapServers();
 * }
 * }</pre>
 *
 * <p>Defaults suit a single node: every internal topic has replication factor 1, the consumer
 * offsets and transaction state topics have 4 partitions (instead of 50, which makes the first
 * consumer group and the first transactional producer slow to start), group rebalances start
 * without delay and topics are not created automatically (Flywheel creates its topics with {@code
 * TopicBootstrap}). Any broker property can be overridden with {@link Builder#brokerProperty}.
 */
public final class EmbeddedKafka implements AutoCloseable {

  /** The port {@code flywheel up} uses, as any local Kafka does. */
  public static final int DEFAULT_PORT = 9092;

  private static final Logger log = LoggerFactory.getLogger(EmbeddedKafka.class);
  private static final String HOST = "127.0.0.1";
  private static final int NODE_ID = 1;

  private final Path logDir;
  private final boolean temporaryDir;
  private final Map<String, String> overrides;
  private int port;
  private int controllerPort;
  private KafkaRaftServer server;
  private boolean closed;

  private EmbeddedKafka(Builder builder) {
    this.overrides = Map.copyOf(builder.overrides);
    this.port = builder.port;
    this.controllerPort = builder.controllerPort;
    if (builder.logDir != null) {
      this.logDir = builder.logDir;
      this.temporaryDir = false;
    } else {
      this.logDir = Files2.createTempDirectory("flywheel-kafka-", "Kafka log directory");
      this.temporaryDir = true;
    }
  }

  /** A builder with a temporary log directory and free ports. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Formats the log directory if it has never been formatted, then starts the broker and waits
   * until it answers. Starting a running broker does nothing.
   *
   * @throws IllegalStateException when the broker was closed, or cannot start (port in use, a log
   *     directory formatted by another cluster), with the cause
   */
  public synchronized EmbeddedKafka start() {
    if (closed) {
      throw new IllegalStateException("this EmbeddedKafka was closed; build a new one");
    }
    if (server != null) {
      return this;
    }
    long started = System.nanoTime();
    if (port == 0) {
      port = freePort();
    }
    if (controllerPort == 0) {
      controllerPort = freePort();
    }
    KafkaConfig config = KafkaConfig.fromProps(brokerProperties(), false);
    format();
    KafkaRaftServer raftServer = new KafkaRaftServer(config, Time.SYSTEM);
    try {
      raftServer.startup();
    } catch (RuntimeException e) {
      shutdownQuietly(raftServer);
      throw new IllegalStateException("the embedded Kafka broker could not start on " + HOST + ":"
          + port + " with log directory " + logDir + ": " + e.getMessage(), e);
    }
    server = raftServer;
    log.info("Kafka broker (KRaft) up at {} in {} ms, log directory {}", bootstrapServers(),
        (System.nanoTime() - started) / 1_000_000, logDir);
    return this;
  }

  /** Stops the broker, keeping the log directory, so that {@link #start()} can bring it back. */
  public synchronized void stop() {
    if (server != null) {
      KafkaRaftServer running = server;
      server = null;
      shutdownQuietly(running);
      log.info("Kafka broker at {} stopped", bootstrapServers());
    }
  }

  /**
   * A broker outage of {@code down} for fault tests: stops the broker, runs {@code whileDown}
   * (e.g. to let producers held back until now go on), waits out {@code down}, and starts it
   * again on the same port and log directory.
   *
   * @throws InterruptedException when interrupted during the outage (the broker stays down)
   */
  public void outage(Duration down, Runnable whileDown) throws InterruptedException {
    stop();
    whileDown.run();
    Thread.sleep(down.toMillis());
    start();
  }

  /** {@code host:port} of the PLAINTEXT listener, for {@code bootstrap.servers}. */
  public String bootstrapServers() {
    if (port == 0) {
      throw new IllegalStateException("the broker has no port until it is started");
    }
    return HOST + ":" + port;
  }

  /** The broker's port; 0 before the first start when a free port is to be chosen. */
  public int port() {
    return port;
  }

  /** The log directory holding the metadata log and every partition. */
  public Path logDir() {
    return logDir;
  }

  /** True between a successful {@link #start()} and {@link #stop()} or {@link #close()}. */
  public synchronized boolean isRunning() {
    return server != null;
  }

  /** Stops the broker and deletes the log directory if it was temporary. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    stop();
    closed = true;
    if (temporaryDir) {
      Files2.deleteRecursively(logDir);
    }
  }

  private Properties brokerProperties() {
    Map<String, String> props = new LinkedHashMap<>();
    props.put("process.roles", "broker,controller");
    props.put("node.id", String.valueOf(NODE_ID));
    props.put("controller.quorum.voters", NODE_ID + "@" + HOST + ":" + controllerPort);
    props.put("listeners", "PLAINTEXT://" + HOST + ":" + port + ",CONTROLLER://" + HOST + ":"
        + controllerPort);
    props.put("advertised.listeners", "PLAINTEXT://" + HOST + ":" + port);
    props.put("controller.listener.names", "CONTROLLER");
    props.put("inter.broker.listener.name", "PLAINTEXT");
    props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    props.put("log.dirs", logDir.toString());
    // one node: every internal topic has a single replica
    props.put("offsets.topic.replication.factor", "1");
    props.put("transaction.state.log.replication.factor", "1");
    props.put("transaction.state.log.min.isr", "1");
    props.put("share.coordinator.state.topic.replication.factor", "1");
    props.put("share.coordinator.state.topic.min.isr", "1");
    props.put("default.replication.factor", "1");
    // 50 partitions (the default) make the first group join and the first transaction slow
    props.put("offsets.topic.num.partitions", "4");
    props.put("transaction.state.log.num.partitions", "4");
    // nobody else is coming to the group: rebalance at once
    props.put("group.initial.rebalance.delay.ms", "0");
    // topics come from the catalogue (TopicBootstrap), so a typo fails instead of creating a topic
    props.put("auto.create.topics.enable", "false");
    props.put("num.partitions", "1");
    props.put("log.cleaner.dedupe.buffer.size", String.valueOf(8 * 1024 * 1024));
    props.putAll(overrides);
    Properties properties = new Properties();
    properties.putAll(props);
    return properties;
  }

  private void format() {
    if (Files.exists(logDir.resolve("meta.properties"))) {
      return; // formatted by an earlier start: keep its cluster id, topics and data
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8)) {
      new Formatter()
          .setPrintStream(print)
          .setNodeId(NODE_ID)
          .setClusterId(Uuid.randomUuid().toString())
          .setDirectories(List.of(logDir.toString()))
          .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
          .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
          .setControllerListenerName("CONTROLLER")
          .run();
    } catch (Exception e) {
      throw new IllegalStateException("cannot format the Kafka log directory " + logDir + ": "
          + e.getMessage(), e);
    }
    log.debug("format: {}", out.toString(StandardCharsets.UTF_8).trim());
  }

  private static void shutdownQuietly(KafkaRaftServer raftServer) {
    try {
      raftServer.shutdown();
      raftServer.awaitShutdown();
    } catch (RuntimeException e) {
      log.warn("the embedded Kafka broker did not shut down cleanly", e);
    }
  }

  static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot find a free port on " + HOST, e);
    }
  }

  /** Configures an {@link EmbeddedKafka}; every setting is optional. */
  public static final class Builder {
    private int port;
    private int controllerPort;
    private Path logDir;
    private final Map<String, String> overrides = new LinkedHashMap<>();

    private Builder() {}

    /** The PLAINTEXT port; 0 (the default) picks a free one at first start. */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be 0..65535, was " + port);
      }
      this.port = port;
      return this;
    }

    /** The controller's port; 0 (the default) picks a free one at first start. */
    public Builder controllerPort(int controllerPort) {
      if (controllerPort < 0 || controllerPort > 65535) {
        throw new IllegalArgumentException("controller port must be 0..65535, was " + controllerPort);
      }
      this.controllerPort = controllerPort;
      return this;
    }

    /**
     * A log directory to keep: formatted at first start, reused after. Without one, a temporary
     * directory is used and deleted on close.
     */
    public Builder logDir(Path logDir) {
      this.logDir = Objects.requireNonNull(logDir, "logDir");
      return this;
    }

    /** Any broker property, applied after Flywheel's defaults. */
    public Builder brokerProperty(String key, String value) {
      overrides.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /** Builds the broker; nothing runs until {@link EmbeddedKafka#start()}. */
    public EmbeddedKafka build() {
      return new EmbeddedKafka(this);
    }
  }
}
