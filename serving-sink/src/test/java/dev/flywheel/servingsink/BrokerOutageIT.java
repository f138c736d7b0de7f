package dev.flywheel.servingsink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.ModelArtifact;
import dev.flywheel.events.ModelFormat;
import dev.flywheel.events.Prediction;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The broker away for longer than serving's {@code max.block.ms} while it scores: a commit that
 * times out is still pending in the producer, which refuses to abort it or to begin another
 * transaction until the same commit is called again. Serving must call it again, and carry on
 * once the broker is back, with every vector scored exactly once. The timeout is 2 s here so a
 * 10 s outage is enough (by default it is 60 s). Half the vectors are sent only once the broker
 * is down, so serving always has work left when it returns.
 */
@WithDevstack
class BrokerOutageIT {

  private static final int VECTORS = 2000;
  private static final int DOWN_SECONDS = 10;

  @TempDir Path artifacts;

  @Test
  void shouldScoreEveryVectorOnceWhenTheBrokerIsAwayLongerThanTheCommitMayBlock(
      Devstack devstack, UniqueNames names) throws Exception {
    // Given v1 promoted and serving with a 2 s max.block.ms
    Topics topics = Topics.builder(AvroSerdes.fromConfig(Map.of("schema.registry.url",
        devstack.schemaRegistryUrl()))).prefix(names.prefix()).build();
    Kafka.createTopics(devstack, topics);
    ModelArtifact v1 = TestModels.artifact(TestModels.writeXgboost(artifacts, 1, 0.5),
        ModelFormat.XGBOOST);
    Kafka.send(devstack, topics.modelPromoted(), "fraud", TestModels.promoted("fraud",
        "champion", 1, v1, TestModels.signature(TestModels.FEATURES)));
    ServingSinkConfig config = ServingSinkConfig.defaults()
        .withIds(names.applicationId("serving"), "it")
        .withStartFrom("earliest")
        .withFeatureGroups(Map.of(TestModels.GROUP, TestModels.FEATURES));
    AtomicInteger sent = new AtomicInteger();
    try (ServingSinkService serving = ServingSinkService.builder().config(config)
        .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers(),
            "max.block.ms", 2000, "session.timeout.ms", 6000, "heartbeat.interval.ms", 1500))
        .topics(topics).meters(new SimpleMeterRegistry()).build().start();
        KafkaProducer<String, FeatureVector> producer = Kafka.producer(devstack,
            topics.features())) {
      // and vectors flowing, 20 every 10 ms, the producer retrying through the outage; the
      // second half only once the broker is down, so there is always work after it
      CountDownLatch brokerStopped = new CountDownLatch(1);
      CompletableFuture<Void> traffic = CompletableFuture.runAsync(() -> {
        for (int i = 0; i < VECTORS; i++) {
          if (i == VECTORS / 2) {
            await().atMost(Duration.ofMinutes(2)).until(() -> brokerStopped.getCount() == 0);
          }
          FeatureVector v = Kafka.vector(i);
          producer.send(new ProducerRecord<>(topics.features().name(), v.getEntityId(), v));
          sent.incrementAndGet();
          if (i % 20 == 19) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
          }
        }
        producer.flush();
      });

      // When the broker stops a quarter of the way in, stays down 10 s, and starts again
      await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(50))
          .until(() -> Kafka.readAll(devstack, topics.predictions()).size() >= VECTORS / 4);
      devstack.kafka().outage(Duration.ofSeconds(DOWN_SECONDS), () -> {
        brokerStopped.countDown();
        System.out.println("broker stopped after " + sent.get() + " vectors were sent");
      });
      traffic.get(2, TimeUnit.MINUTES);

      // Then serving scores every vector, without anyone restarting it
      await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
          .until(() -> Kafka.readAll(devstack, topics.predictions()).size() >= VECTORS);
    }
    // and exactly once
    List<Prediction> predictions = Kafka.readAll(devstack, topics.predictions());
    Set<String> truth = IntStream.range(0, VECTORS).mapToObj(i -> Kafka.vector(i).getEventId())
        .collect(Collectors.toSet());
    assertThat(predictions).hasSize(VECTORS);
    assertThat(predictions.stream().map(Prediction::getEventId).collect(Collectors.toSet()))
        .isEqualTo(truth);
  }
}
