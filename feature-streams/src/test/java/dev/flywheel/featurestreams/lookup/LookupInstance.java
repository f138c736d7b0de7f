package dev.flywheel.featurestreams.lookup;

import dev.flywheel.events.FeatureVector;
import dev.flywheel.featurestreams.FeatureStreamsConfig;
import dev.flywheel.featurestreams.FeatureStreamsService;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;

/**
 * One instance of a lookup cluster for tests: a real Kafka Streams instance on the devstack
 * broker (exactly-once, its own state directory, {@code application.server} on a free port) and
 * the lookup service serving HTTP on that port. Either the feature engine itself or a test
 * topology with an online store of the same shape.
 */
final class LookupInstance implements AutoCloseable {

  final KafkaStreams streams;
  final FeatureLookupService lookup;
  final int port;
  final String url;
  private final AutoCloseable engine;

  private LookupInstance(KafkaStreams streams, FeatureLookupService lookup, int port,
      AutoCloseable engine) {
    this.streams = streams;
    this.lookup = lookup;
    this.port = port;
    this.url = "http://127.0.0.1:" + port;
    this.engine = engine;
  }

  /**
   * An instance of the real feature engine ({@link FeatureStreamsService} running {@code
   * FeatureTopology}) with the lookup of its groups on a free port.
   */
  static LookupInstance startEngine(FeatureStreamsConfig config, String bootstrap,
      AvroSerdes serdes, Topics topics, String applicationId, Path stateDir) {
    int port = freePort();
    FeatureStreamsService engine = FeatureStreamsService.builder()
        .config(config)
        .bootstrapServers(bootstrap)
        .serdes(serdes)
        .topics(topics)
        .applicationId(applicationId)
        .stateDir(stateDir)
        .applicationServer("127.0.0.1:" + port)
        .kafka(Map.of(
            StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 6_000,
            StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), 1_000))
        .build()
        .start();
    FeatureLookupService lookup = FeatureLookupService.builder()
        .streams(engine::kafkaStreams)
        .applicationServer("127.0.0.1:" + port)
        .groups(LookupGroup.of(config))
        .port(port)
        .bindHost("127.0.0.1")
        .build()
        .start();
    return new LookupInstance(engine.kafkaStreams(), lookup, port, engine);
  }

  static LookupInstance start(String bootstrap, String applicationId, Path stateDir,
      Topology topology, List<LookupGroup> groups) {
    int port = freePort();
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.APPLICATION_SERVER_CONFIG, "127.0.0.1:" + port);
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
    // A stopped dynamic member does not leave the group on close; the others notice it after
    // the session timeout. Tests use the broker's minimum instead of the 45 s default.
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 6_000);
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), 1_000);
    KafkaStreams streams = new KafkaStreams(topology, props);
    FeatureLookupService lookup = FeatureLookupService.builder()
        .streams(streams)
        .applicationServer("127.0.0.1:" + port)
        .groups(groups)
        .port(port)
        .bindHost("127.0.0.1")
        .forwardTimeout(Duration.ofSeconds(2))
        .build()
        .start();
    streams.start();
    return new LookupInstance(streams, lookup, port, null);
  }

  static Topology onlineStore(String vectorsTopic, String storeName, Serde<FeatureVector> serde) {
    return OnlineStoreTopology.build(vectorsTopic, storeName, serde);
  }

  FeatureClient client() {
    return FeatureClient.builder().url(url).build();
  }

  boolean running() {
    return streams.state() == KafkaStreams.State.RUNNING;
  }

  /**
   * Stops HTTP and closes Kafka Streams cleanly. A dynamic member does not leave the group on
   * close: the others take over its partitions after the session timeout.
   */
  @Override
  public void close() {
    lookup.close();
    if (engine != null) {
      try {
        engine.close();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    } else {
      streams.close(Duration.ofSeconds(30));
    }
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
