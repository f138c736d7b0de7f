package dev.flywheel.featurestreams.lookup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.featurestreams.FeatureStreamsConfig;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
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
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.streams.StreamsMetadata;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two instances of the feature engine in one JVM share the partitions of the {@code
 * card_activity} group: every card is found through either instance's lookup, and when one
 * stops the other answers for all cards after the rebalance.
 */
@WithDevstack
class MultiInstanceLookupIT {

  private static final String GROUP = "card_activity";  // FeatureStreamsConfig.cardActivity()
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
    AvroSerdes serdes = AvroSerdes.fromConfig(Map.of("schema.registry.url",
        devstack.schemaRegistryUrl()));
    Topics topics = Topics.builder(serdes).prefix(names.prefix()).partitions(PARTITIONS).build();
    CardTransactions source = CardTransactions.add(devstack.bootstrapServers(), serdes, topics);
    entities = new ArrayList<>();
    List<GenericRecord> txs = new ArrayList<>();
    for (int i = 0; i < ENTITIES; i++) {
      String card = "card-" + i;
      entities.add(card);
      txs.add(source.tx("event-" + i, card, 10.0 + i, "m-" + i, T0.plusSeconds(i)));
    }
    source.produce(txs);
    FeatureStreamsConfig config = FeatureStreamsConfig.cardActivity();
    String applicationId = names.applicationId("features");
    a = start(LookupInstance.startEngine(config, devstack.bootstrapServers(), serdes, topics,
        applicationId, stateA));
    b = start(LookupInstance.startEngine(config, devstack.bootstrapServers(), serdes, topics,
        applicationId, stateB));
  }

  private LookupInstance start(LookupInstance instance) {
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
        int i = Integer.parseInt(entity.substring(5));
        assertThat(viaA.eventId()).isEqualTo("event-" + i);
        assertThat(viaA.asOf()).isEqualTo(T0.plusSeconds(i));
        assertThat(viaA.features()).containsEntry("tx_count_10m", 1.0)
            .containsEntry("amount_sum_7d", 10.0 + i);
        assertThat(viaB).isEqualTo(viaA);
        owners.add(viaA.servedBy());
      }
      assertThat(owners).containsExactlyInAnyOrder("127.0.0.1:" + a.port,
          "127.0.0.1:" + b.port);
    });

    // And a batch through A gathers the keys of both instances in request order (a 503 while the
    // group still settles is asked again)
    await().atMost(Duration.ofSeconds(30))
        .ignoreExceptionsInstanceOf(LookupUnavailableException.class).untilAsserted(() -> {
      List<FeatureValues> batch = a.client().batch(GROUP, entities);
      assertThat(batch).extracting(FeatureValues::entity).containsExactlyElementsOf(entities);
      assertThat(batch).allMatch(FeatureValues::found);
      assertThat(batch).extracting(FeatureValues::servedBy).containsOnly(
          "127.0.0.1:" + a.port, "127.0.0.1:" + b.port);
    });

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
