package dev.flywheel.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.platform.runtime.ServiceCatalog;
import dev.flywheel.platform.runtime.ServiceCatalogFixtures;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import javax.management.ObjectName;
import org.apache.kafka.common.metrics.KafkaMetric;
import org.apache.kafka.common.metrics.MetricsReporter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Every Kafka client {@code flywheel up} creates on an external cluster — its own admin client and
 * every producer, consumer, admin and Streams client of every service — gets the {@code
 * kafka.properties} of flywheel.yaml (how SASL and TLS settings reach them). The property used to
 * see it is {@code metric.reporters}: each client that receives it instantiates {@link
 * RecordingReporter} with its client id, while Kafka registers an app-info MBean for every client
 * whatever its configuration.
 */
@WithDevstack
class KafkaPropertiesPassThroughIT {

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @TempDir Path workDir;

  /** Records the client id of every Kafka client configured with it. */
  public static final class RecordingReporter implements MetricsReporter {
    static final Set<String> CLIENT_IDS = ConcurrentHashMap.newKeySet();

    @Override
    public void configure(Map<String, ?> configs) {
      Object id = configs.get("client.id");
      CLIENT_IDS.add(id == null ? "" : id.toString());
    }

    @Override
    public void init(List<KafkaMetric> metrics) {}

    @Override
    public void metricChange(KafkaMetric metric) {}

    @Override
    public void metricRemoval(KafkaMetric metric) {}

    @Override
    public void close() {}
  }

  @Test
  void shouldGiveEveryKafkaClientOfEveryServiceTheConfiguredProperties(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given flywheel.yaml on the test cluster, every service configured, with kafka.properties
    Path yaml = workDir.resolve("flywheel.yaml");
    Files.writeString(yaml, """
        kafka:
          bootstrapServers: %s
          schemaRegistryUrl: %s
          topicPrefix: %s
          partitions: 1
          properties:
            metric.reporters: %s
        stateDir: %s
        ingest:
          producers: 1
        trainingTrigger:
          artifactDir: %s
          workDir: %s
        """.formatted(devstack.bootstrapServers(), devstack.schemaRegistryUrl(), names.prefix(),
        RecordingReporter.class.getName(), workDir.resolve("state"),
        workDir.resolve("artifacts"), workDir.resolve("training"))
        + ServiceCatalogFixtures.EVERY_SERVICE);
    Set<String> before = kafkaClientIds();
    UpCommand up = new UpCommand();
    new CommandLine(up).setOut(new PrintWriter(new StringWriter(), true))
        .parseArgs("-c", yaml.toString(), "--http-port", "0");

    // When 'flywheel up' runs every service on it
    try (UpCommand.Running running = up.start()) {
      String base = "http://127.0.0.1:" + running.runtime().httpPort();
      await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250))
          .until(() -> HTTP.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(),
              HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
      assertThat(running.runtime().services()).extracting(s -> s.name())
          .containsExactlyInAnyOrderElementsOf(ServiceCatalog.START_ORDER);

      // Then every Kafka client created since is one that received the property
      Set<String> created = kafkaClientIds();
      created.removeAll(before);
      assertThat(created).as("Kafka clients the services created").isNotEmpty();
      assertThat(created).allSatisfy(id -> assertThat(RecordingReporter.CLIENT_IDS)
          .as("client %s was created without kafka.properties", id).contains(id));
    }
  }

  /** The client ids of every Kafka producer, consumer and admin client in this JVM. */
  private static Set<String> kafkaClientIds() throws Exception {
    Set<String> ids = new TreeSet<>();
    for (ObjectName name : ManagementFactory.getPlatformMBeanServer()
        .queryNames(new ObjectName("kafka.*:type=app-info,*"), null)) {
      if (name.getKeyProperty("id") != null) {
        ids.add(name.getDomain() + "/" + name.getKeyProperty("id"));
      }
    }
    return ids.stream().map(id -> id.substring(id.indexOf('/') + 1))
        .collect(java.util.stream.Collectors.toCollection(TreeSet::new));
  }
}
