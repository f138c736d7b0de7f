package dev.flywheel.featurestreams.lookup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.events.FeatureVector;
import dev.flywheel.serde.AvroSerdes;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsMetadata;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two instances in one JVM share the partitions of the online store: every key is found through
 * either instance, and when one stops the other answers for all keys after the rebalance.
 */
@WithDevstack
class MultiInstanceLookupIT {

  private static final String GROUP = "card_activity";
  private static final int PARTITIONS = 4;
  private static final int ENTITIES = 40;
  private static final Instant T0 = Instant.parse("2026-11-23T10:00:00Z");
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @TempDir Path stateA;
  @TempDir Path stateB;

  private final List<LookupInstance> instances = new ArrayList<>();
  private LookupInstance a;
  private LookupInstance b;
  private List<String> entities;

  @BeforeEach
  void startTwoInstances(Devstack devstack, UniqueNames names) throws Exception {
    String topic = names.topic("vectors");
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
        devstack.bootstrapServers()))) {
      admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 1))).all().get();
    }
    Serde<FeatureVector> serde = AvroSerdes.fromConfig(Map.of("schema.registry.url",
        devstack.schemaRegistryUrl())).specific(FeatureVector.class, false);
    LookupGroup group = new LookupGroup(GROUP, names.prefix() + "-online",
        List.of("count", "mean"), Map.of("count", 0.0), Map.of());
    entities = new ArrayList<>();
    try (KafkaProducer<String, FeatureVector> producer = new KafkaProducer<>(
        Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, devstack.bootstrapServers()),
        new StringSerializer(), serde.serializer())) {
      for (int i = 0; i < ENTITIES; i++) {
        String entity = "card-" + i;
        entities.add(entity);
        producer.send(new ProducerRecord<>(topic, entity, Vectors.vector(GROUP, entity,
            "event-" + i, T0.plusSeconds(i), i, (double) i)));
      }
      producer.flush();
    }
    String applicationId = names.applicationId("lookup");
    a = start(devstack, applicationId, stateA, topic, group, serde);
    b = start(devstack, applicationId, stateB, topic, group, serde);
  }

  private LookupInstance start(Devstack devstack, String applicationId, Path stateDir,
      String topic, LookupGroup group, Serde<FeatureVector> serde) {
    LookupInstance instance = LookupInstance.start(devstack.bootstrapServers(), applicationId,
        stateDir, LookupInstance.onlineStore(topic, group.storeName(), serde), List.of(group));
    instances.add(instance);
    return instance;
  }

  @AfterEach
  void stopInstances() {
    instances.forEach(LookupInstance::close);
  }

  @Test
  void shouldFindEveryKeyThroughEitherInstanceAndAfterOneStops() {
    // Given two running instances that each own some of the partitions
    await().atMost(Duration.ofSeconds(90)).until(() -> a.running() && b.running()
        && ownsPartitions(a) && ownsPartitions(b));

    // When every key is looked up through each instance
    // Then each is found with its own vector, answered by the same owner through either door,
    // and both instances own some of the keys
    await().atMost(Duration.ofSeconds(60))
        .ignoreExceptionsInstanceOf(LookupUnavailableException.class).untilAsserted(() -> {
      Set<String> owners = new HashSet<>();
      for (String entity : entities) {
        FeatureValues viaA = a.client().get(GROUP, entity);
        FeatureValues viaB = b.client().get(GROUP, entity);
        assertThat(viaA.found()).as(entity + " via A").isTrue();
        assertThat(viaB.found()).as(entity + " via B").isTrue();
        assertThat(viaA.eventId()).isEqualTo("event-" + entity.substring(5));
        assertThat(viaB).isEqualTo(viaA);
        owners.add(viaA.servedBy());
      }
      assertThat(owners).containsExactlyInAnyOrder("127.0.0.1:" + a.port,
          "127.0.0.1:" + b.port);
    });

    // And a batch through A gathers the keys of both instances in request order
    List<FeatureValues> batch = a.client().batch(GROUP, entities);
    assertThat(batch).extracting(FeatureValues::entity).containsExactlyElementsOf(entities);
    assertThat(batch).allMatch(FeatureValues::found);
    assertThat(batch).extracting(FeatureValues::servedBy).containsOnly(
        "127.0.0.1:" + a.port, "127.0.0.1:" + b.port);

    // When B stops
    b.close();
    instances.remove(b);

    // Then during the rebalance every lookup through A is a right answer or a 503, never a
    // wrong one, and after it A answers every key itself
    List<String> wrongAnswers = new ArrayList<>();
    await().atMost(Duration.ofSeconds(90)).until(() -> {
      boolean allByA = true;
      for (String entity : entities) {
        FeatureValues values;
        try {
          values = a.client().get(GROUP, entity);
        } catch (LookupUnavailableException e) {
          allByA = false;
          continue;
        }
        if (!values.found() || !values.eventId().equals("event-" + entity.substring(5))) {
          wrongAnswers.add(values.toString());
        }
        allByA &= values.servedBy().equals("127.0.0.1:" + a.port);
      }
      return allByA;
    });
    assertThat(wrongAnswers).isEmpty();
  }

  @Test
  void shouldAnswer503RatherThanForwardAForwardedLookupItDoesNotOwn() throws Exception {
    // Given two running instances and a key that B owns
    await().atMost(Duration.ofSeconds(90)).until(() -> a.running() && b.running()
        && ownsPartitions(a) && ownsPartitions(b));
    String ownedByB = await().atMost(Duration.ofSeconds(60))
        .ignoreExceptionsInstanceOf(LookupUnavailableException.class).until(() -> entities.stream()
        .filter(e -> {
          FeatureValues v = b.client().get(GROUP, e);
          return v.found() && v.servedBy().equals("127.0.0.1:" + b.port);
        }).findFirst().orElse(null), e -> e != null);

    // When A receives a lookup of it marked as already forwarded
    HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(
            a.url + "/features/" + GROUP + "/" + ownedByB))
        .header(FeatureLookupHttpApi.FORWARDED_BY, "127.0.0.1:" + b.port).build(),
        HttpResponse.BodyHandlers.ofString());

    // Then it answers 503 with Retry-After instead of forwarding again or answering "not found"
    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(response.headers().firstValue("Retry-After")).isPresent();
    assertThat(response.body()).contains("rebalance");
  }

  private static boolean ownsPartitions(LookupInstance instance) {
    for (StreamsMetadata metadata : instance.streams.metadataForAllStreamsClients()) {
      if (metadata.hostInfo().port() == instance.port && !metadata.topicPartitions().isEmpty()) {
        return true;
      }
    }
    return false;
  }
}
