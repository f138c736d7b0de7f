package dev.flywheel.topics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.EmbeddedKafka;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** TopicBootstrap against a real KRaft broker. Each test uses its own topic prefix. */
class TopicBootstrapIT {

  private static final AtomicInteger TENANTS = new AtomicInteger();
  private static EmbeddedKafka kafka;

  private Admin admin;

  @BeforeAll
  static void startBroker() {
    kafka = EmbeddedKafka.builder().build().start();
  }

  @AfterAll
  static void stopBroker() {
    if (kafka != null) {
      kafka.close();
    }
  }

  @BeforeEach
  void openAdmin() {
    admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
        kafka.bootstrapServers()));
  }

  @AfterEach
  void closeAdmin() {
    admin.close();
  }

  @Test
  void shouldReturnOnlyOnceEveryPartitionCreatedHasALeader() throws Exception {
    // Given a catalogue with 4 partitions per topic, none of which exists yet
    Topics topics = catalogue(4);
    List<String> names = names(topics.all());

    // When the bootstrap returns
    TopicBootstrap.Result result = new TopicBootstrap(admin).ensure(topics.all());

    // Then every partition of every topic it created is already led, without waiting further
    assertThat(result.created()).containsExactlyElementsOf(names);
    Map<String, TopicDescription> described =
        admin.describeTopics(names).allTopicNames().get(5, TimeUnit.SECONDS);
    assertThat(described.values()).allSatisfy(d -> assertThat(d.partitions()).hasSize(4)
        .allSatisfy(p -> assertThat(p.leader()).as(d.name() + "/" + p.partition()).isNotNull()));
  }

  @Test
  void shouldCreateEveryMissingTopicWithTheCataloguePartitionsAndConfigs() throws Exception {
    // Given a catalogue with 2 partitions, and its fixed, data and dead-letter topics
    Topics topics = catalogue(2);
    List<Topic<?, ?>> wanted = new ArrayList<>(topics.all());
    wanted.add(topics.data("transactions"));
    wanted.add(topics.dlq(topics.features()));

    // When the bootstrap runs on a cluster that has none of them
    TopicBootstrap.Result result = new TopicBootstrap(admin).ensure(wanted);

    // Then it created each, and each has the catalogue's partitions, replication and configs
    assertThat(result.created()).containsExactlyElementsOf(names(wanted));
    assertThat(result.alreadyPresent()).isEmpty();
    assertThat(result.mismatches()).isEmpty();
    // (a topic created a moment ago may not be in every metadata cache yet: wait until it is)
    Map<String, TopicDescription> descriptions = await().atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> admin.describeTopics(names(wanted)).allTopicNames().get(5, TimeUnit.SECONDS),
            found -> found.size() == wanted.size());
    Map<String, Config> configs = await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
        .until(() -> configs(names(wanted)), found -> found.size() == wanted.size());
    for (Topic<?, ?> topic : wanted) {
      TopicDescription description = descriptions.get(topic.name());
      assertThat(description.partitions()).as(topic.name()).hasSize(2);
      assertThat(description.partitions().get(0).replicas()).as(topic.name()).hasSize(1);
      topic.configs().forEach((key, value) ->
          assertThat(configs.get(topic.name()).get(key).value()).as(topic.name() + " " + key)
              .isEqualTo(value));
    }
    assertThat(configs.get(topics.modelEvents().name()).get("retention.ms").value())
        .isEqualTo("-1");
    assertThat(configs.get(topics.registryState().name()).get("cleanup.policy").value())
        .isEqualTo("compact");
  }

  @Test
  void shouldCreateNothingWhenRunAgain() {
    // Given a cluster where the bootstrap already ran
    Topics topics = catalogue(1);
    TopicBootstrap bootstrap = new TopicBootstrap(admin);
    bootstrap.ensure(topics.all());

    // When it runs again
    TopicBootstrap.Result second = bootstrap.ensure(topics.all());

    // Then it creates nothing and finds every topic present and as catalogued
    assertThat(second.created()).isEmpty();
    assertThat(second.alreadyPresent()).containsExactlyElementsOf(names(topics.all()));
    assertThat(second.consistent()).isTrue();
  }

  @Test
  void shouldReportButNotChangeATopicPreCreatedWithOtherSettings() throws Exception {
    // Given predictions already exist with 1 partition instead of 3 and a 1-minute retention
    Topics topics = catalogue(3);
    String predictions = topics.predictions().name();
    admin.createTopics(List.of(new NewTopic(predictions, 1, (short) 1)
            .configs(Map.of("retention.ms", "60000"))))
        .all().get(30, TimeUnit.SECONDS);

    // When the bootstrap runs
    TopicBootstrap.Result result = new TopicBootstrap(admin).ensure(topics.all());

    // Then it creates the others, and reports the two differences of predictions
    assertThat(result.created()).hasSize(topics.all().size() - 1).doesNotContain(predictions);
    assertThat(result.alreadyPresent()).containsExactly(predictions);
    assertThat(result.mismatches()).containsExactlyInAnyOrder(
        new TopicBootstrap.Mismatch(predictions, "partitions", "3", "1"),
        new TopicBootstrap.Mismatch(predictions, "retention.ms",
            topics.predictions().configs().get("retention.ms"), "60000"));
    assertThat(result.describe())
        .contains(predictions + ": partitions is 1, the catalogue expects 3");

    // And the topic on the broker is unchanged
    TopicDescription description =
        admin.describeTopics(List.of(predictions)).allTopicNames().get(30, TimeUnit.SECONDS)
            .get(predictions);
    assertThat(description.partitions()).hasSize(1);
    assertThat(configs(List.of(predictions)).get(predictions).get("retention.ms").value())
        .isEqualTo("60000");
  }

  @Test
  void shouldLetSeveralProcessesBootstrapAtOnceAndCreateEachTopicOnce() throws Exception {
    // Given four bootstraps, each with its own Admin client, for the same catalogue
    Topics topics = catalogue(1);
    int processes = 4;
    ExecutorService pool = Executors.newFixedThreadPool(processes);
    List<TopicBootstrap.Result> results = new ArrayList<>();
    try {
      List<Callable<TopicBootstrap.Result>> runs = new ArrayList<>();
      for (int i = 0; i < processes; i++) {
        runs.add(() -> {
          try (Admin own = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
              kafka.bootstrapServers()))) {
            return new TopicBootstrap(own).ensure(topics.all());
          }
        });
      }

      // When they run at the same time
      for (Future<TopicBootstrap.Result> future : pool.invokeAll(runs, 60, TimeUnit.SECONDS)) {
        results.add(future.get());
      }
    } finally {
      pool.shutdownNow();
    }

    // Then none fails, each topic was created by exactly one of them, and all agree
    List<String> created = results.stream().flatMap(r -> r.created().stream()).toList();
    assertThat(created).doesNotHaveDuplicates()
        .containsExactlyInAnyOrderElementsOf(names(topics.all()));
    assertThat(results).allSatisfy(r -> {
      assertThat(r.consistent()).isTrue();
      Set<String> seen = new java.util.HashSet<>(r.created());
      seen.addAll(r.alreadyPresent());
      assertThat(seen).containsExactlyInAnyOrderElementsOf(names(topics.all()));
    });
  }

  private Map<String, Config> configs(List<String> topics) throws Exception {
    List<ConfigResource> resources = topics.stream()
        .map(name -> new ConfigResource(ConfigResource.Type.TOPIC, name)).toList();
    return admin.describeConfigs(resources).all().get(30, TimeUnit.SECONDS).entrySet().stream()
        .collect(Collectors.toMap(e -> e.getKey().name(), Map.Entry::getValue));
  }

  /** A catalogue under a prefix no other test uses. */
  private static Topics catalogue(int partitions) {
    return Topics.builder(new UnusedSerdes())
        .prefix("bootstrap-it-" + TENANTS.incrementAndGet())
        .partitions(partitions)
        .build();
  }

  private static List<String> names(List<Topic<?, ?>> topics) {
    return topics.stream().map(Topic::name).toList();
  }

  /** Serdes for a catalogue whose records this test never reads or writes. */
  private static final class UnusedSerdes implements AvroSerdeFactory {

    @Override
    public <T extends SpecificRecord> Serde<T> specific(Class<T> type, boolean isKey) {
      return unusable(type.getName());
    }

    @Override
    public Serde<GenericRecord> generic(boolean isKey) {
      return unusable("generic records");
    }

    private static <T> Serde<T> unusable(String what) {
      return Serdes.serdeFrom(
          (topic, data) -> {
            throw new UnsupportedOperationException("this test does not serialize " + what);
          },
          (topic, data) -> {
            throw new UnsupportedOperationException("this test does not deserialize " + what);
          });
    }
  }
}
