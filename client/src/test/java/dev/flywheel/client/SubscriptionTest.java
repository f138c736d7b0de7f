package dev.flywheel.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A grouped subscription's commits, with Kafka's {@link MockConsumer}: each is bounded by {@link
 * Subscription#COMMIT_TIMEOUT}, and one that times out is made again later, even when no further
 * event arrives.
 */
class SubscriptionTest {

  private static final String TOPIC = "flywheel.model.promoted";
  private final TopicPartition tp = new TopicPartition(TOPIC, 0);
  private final List<String> handled = new CopyOnWriteArrayList<>();
  /** The timeout of each commit the subscription made with one. */
  private final List<Duration> commitTimeouts = new CopyOnWriteArrayList<>();
  private Subscription subscription;

  @AfterEach
  void tearDown() {
    if (subscription != null) {
      subscription.close();
    }
  }

  @Test
  void shouldCommitThePositionAgainAfterACommitTimedOutThoughNoFurtherEventArrives() {
    // Given a group consumer whose first commit times out (the group coordinator away), and one
    // event, after which nothing arrives
    AtomicBoolean coordinatorAway = new AtomicBoolean(true);
    MockConsumer<String, byte[]> consumer = consumer(coordinatorAway);
    consumer.schedulePollTask(() -> {
      consumer.rebalance(List.of(tp));
      consumer.addRecord(record(0, "v1"));
    });

    // When the subscription delivers it
    subscribe(consumer);
    await().atMost(Duration.ofSeconds(10)).until(() -> handled.equals(List.of("v1")));

    // Then the position past it is committed after all
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
        consumer.committed(Set.of(tp))).extractingByKey(tp)
        .extracting(OffsetAndMetadata::offset).isEqualTo(1L));
    assertThat(coordinatorAway).as("the first commit failed").isFalse();
  }

  @Test
  void shouldBoundEveryCommitByTheCommitTimeout() {
    // Given a group consumer and one event
    MockConsumer<String, byte[]> consumer = consumer(new AtomicBoolean());
    consumer.schedulePollTask(() -> {
      consumer.rebalance(List.of(tp));
      consumer.addRecord(record(0, "v1"));
    });

    // When the subscription delivers it and commits
    subscribe(consumer);
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
        consumer.committed(Set.of(tp))).containsKey(tp));

    // Then the commit was bounded by COMMIT_TIMEOUT, not by the client's 60 s default
    assertThat(commitTimeouts).isNotEmpty().containsOnly(Subscription.COMMIT_TIMEOUT);
  }

  private void subscribe(MockConsumer<String, byte[]> consumer) {
    subscription = new Subscription(TOPIC, Map.of("bootstrap.servers", "127.0.0.1:1"),
        "app", StartPosition.EARLIEST, new StringDeserializer(),
        (String event, EventPosition position) -> handled.add(event), props -> consumer);
  }

  /**
   * A consumer of partition 0 from offset 0 whose first commit times out while {@code away} is
   * true. Its polls wait a little when they return nothing, as a real consumer's do.
   */
  private MockConsumer<String, byte[]> consumer(AtomicBoolean away) {
    MockConsumer<String, byte[]> c = new MockConsumer<>("earliest") {
      @Override
      public synchronized void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets) {
        if (away.getAndSet(false)) {
          throw new TimeoutException("Timeout of 5000ms expired before successfully committing"
              + " offsets " + offsets);
        }
        super.commitSync(offsets);
      }

      @Override
      public synchronized void commitSync(Duration timeout) {
        commitTimeouts.add(timeout);
        super.commitSync(timeout); // MockConsumer: the commitSync above
      }

      @Override
      public ConsumerRecords<String, byte[]> poll(Duration timeout) {
        ConsumerRecords<String, byte[]> records = super.poll(timeout);
        if (records.isEmpty()) {
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        return records;
      }
    };
    c.updateBeginningOffsets(Map.of(tp, 0L));
    return c;
  }

  private static ConsumerRecord<String, byte[]> record(long offset, String value) {
    return new ConsumerRecord<>(TOPIC, 0, offset, "k", value.getBytes(StandardCharsets.UTF_8));
  }
}
