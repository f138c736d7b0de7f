package dev.flywheel.registryprojector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.EmbeddedKafka;
import dev.flywheel.events.ModelEvent;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The history indexer started while Kafka cannot be reached, and then while its topic does not
 * exist, keeps trying and says why on {@link HistoryIndexer#problem()} (which {@code /health}
 * shows), and rebuilds the history once it can read the audit log. Its own broker, not devstack's
 * shared one: the broker is started only after the indexer.
 */
class HistoryIndexerIT {

  @TempDir Path stateDir;
  private EmbeddedKafka kafka;
  private HistoryIndexer indexer;

  @AfterEach
  void stop() {
    if (indexer != null) {
      indexer.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void shouldReportTheProblemAndCatchUpOnceKafkaAndTheTopicAreThere() throws Exception {
    // Given a broker that is not started yet, on a port held until then by a socket that never
    // answers (so that no other process takes it meanwhile), and one decided event to index
    ServerSocket holder = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    int port = holder.getLocalPort();
    kafka = EmbeddedKafka.builder().port(port).build();
    String bootstrap = "127.0.0.1:" + port;
    AvroSerdes serdes = AvroSerdes.fromConfig(
        Map.of("schema.registry.url", "mock://history-indexer-" + UUID.randomUUID()));
    Topics topics = Topics.builder(serdes).build();
    ModelEvent registered;
    try (RegistryDriver driver = new RegistryDriver(RegistryConfig.defaults(), stateDir)) {
      registered = driver.decide(Fixtures.register("v1", 0.8));
    }
    ModelHistory history = new ModelHistory();

    // When the indexer starts while nothing answers on that port
    indexer = new HistoryIndexer(history, topics.modelEvents(),
        Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap)).start();

    // Then it reports that it cannot reach Kafka, saying where it looked, and is not caught up
    String unreachable = await().atMost(Duration.ofSeconds(60))
        .until(() -> indexer.problem().orElse(null), p -> p != null);
    assertThat(unreachable).contains("cannot learn the partitions of the audit log")
        .contains("check that Kafka at " + bootstrap + " is up and reachable")
        .endsWith("; retrying");
    assertThat(indexer.caughtUp()).isFalse();

    // When the broker starts in the socket's place, without the topic
    holder.close();
    kafka.start();
    // Then it keeps trying, and now reports the missing topic
    await().atMost(Duration.ofSeconds(60)).until(() -> indexer.problem().orElse(""),
        p -> p.contains("finds no topic " + topics.modelEvents().name()));

    // When the topic is created, holding one event
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
        bootstrap))) {
      admin.createTopics(List.of(new NewTopic(topics.modelEvents().name(), 1, (short) 1)))
          .all().get();
    }
    KafkaSupport.send(bootstrap, topics.modelEvents(), registered.getModel(), registered);

    // Then it catches up with the event, and reports no problem any more
    await().atMost(Duration.ofSeconds(60)).until(indexer::caughtUp);
    assertThat(history.history(registered.getModel(), null)).extracting(ModelEvent::getEventId)
        .containsExactly(registered.getEventId());
    assertThat(indexer.problem()).isEqualTo(Optional.empty());
  }

}
