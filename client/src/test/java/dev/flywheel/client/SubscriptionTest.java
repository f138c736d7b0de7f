package dev.flywheel.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import dev.flywheel.devstack.junit.LogLines;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A grouped subscription's loop, with Kafka's {@link MockConsumer}: each commit is bounded by
 * {@link Subscription#COMMIT_TIMEOUT} and one that times out is made again later, even when no
 * further event arrives; nothing is delivered once it is closed; a handler's {@link Error} does
 * not end it silently; and a poll that keeps failing is not logged loudly on every retry.
 */
class SubscriptionTest {

  private static final String TOPIC = "flywheel.model.promoted";
  private final TopicPartition tp = new TopicPartition(TOPIC, 0);
  private final List<String> handled = new CopyOnWriteArrayList<>();
  /** The timeout of each commit the subscription made with one. */
  private final List<Duration> commitTimeouts = new CopyOnWriteArrayList<>();
  /** Counted down when the consumer is woken up, as {@link Subscription#close()} does. */
  private final CountDownLatch wokenUp = new CountDownLatch(1);
  /** How many of the next polls fail, as when the broker is away. */
  private final AtomicInteger pollsToFail = new AtomicInteger();
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

  @Test
  void shouldDeliverNoMoreOfTheBatchNorCommitItOnceClosed() {
    // Given a batch of three events, and a handler still handling the first when the
    // subscription is closed
    MockConsumer<String, byte[]> consumer = consumer(new AtomicBoolean());
    consumer.schedulePollTask(() -> {
      consumer.rebalance(List.of(tp));
      consumer.addRecord(record(0, "v1"));
      consumer.addRecord(record(1, "v2"));
      consumer.addRecord(record(2, "v3"));
    });
    subscribe(consumer, (event, at) -> {
      handled.add(event);
      if (event.equals("v1")) {
        wokenUp.await(); // returns once close() has begun
      }
    });
    await().atMost(Duration.ofSeconds(10)).until(() -> handled.equals(List.of("v1")));

    // When it is closed (close returns once the thread has ended)
    subscription.close();

    // Then the other two were not delivered, and nothing was committed: the group reads the
    // whole batch again after a restart, rather than losing the two undelivered events
    assertThat(handled).containsExactly("v1");
    assertThat(commitTimeouts).as("commits made").isEmpty();
    assertThat(subscription.isRunning()).isFalse();
  }

  @Test
  void shouldCountAndCarryOnAfterAHandlerThrowsAnError() {
    // Given a handler that fails an assertion on its first event
    MockConsumer<String, byte[]> consumer = consumer(new AtomicBoolean());
    consumer.schedulePollTask(() -> {
      consumer.rebalance(List.of(tp));
      consumer.addRecord(record(0, "v1"));
      consumer.addRecord(record(1, "v2"));
    });

    // When two events arrive
    subscribe(consumer, (event, at) -> {
      handled.add(event);
      if (event.equals("v1")) {
        throw new AssertionError("the application's check failed on " + event);
      }
    });

    // Then the second is delivered too, and the first counted as a failure
    await().atMost(Duration.ofSeconds(10)).until(() -> handled.size() == 2);
    assertThat(handled).containsExactly("v1", "v2");
    assertThat(subscription.failures()).isEqualTo(1);
    assertThat(subscription.isRunning()).isTrue();
  }

  @Test
  void shouldShowItStoppedWhenTheHandlerThrowsAVirtualMachineError() {
    try (LogLines log = LogLines.of(Subscription.class)) {
      // Given a handler that overflows its stack on its first event
      MockConsumer<String, byte[]> consumer = consumer(new AtomicBoolean());
      consumer.schedulePollTask(() -> {
        consumer.rebalance(List.of(tp));
        consumer.addRecord(record(0, "v1"));
        consumer.addRecord(record(1, "v2"));
      });

      // When the event arrives
      subscribe(consumer, (event, at) -> {
        handled.add(event);
        throw new StackOverflowError();
      });

      // Then the subscription says it is no longer running, counts the failure, and logs an
      // error saying what to do
      await().atMost(Duration.ofSeconds(10)).dontCatchUncaughtExceptions()
          .until(() -> !subscription.isRunning());
      assertThat(handled).containsExactly("v1");
      assertThat(subscription.failures()).isEqualTo(1);
      assertThat(log.count(Level.ERROR, "the consumer of " + TOPIC + " stopped")).isEqualTo(1);
      assertThat(log.count(Level.ERROR, "register the handler again")).isEqualTo(1);
    }
  }

  @Test
  void shouldWarnTheFirstAndTenthTimeNotEveryTimeAPollFailsAgain() {
    try (LogLines log = LogLines.of(Subscription.class)) {
      // Given a consumer whose first eleven polls fail, then brings one event
      MockConsumer<String, byte[]> consumer = consumer(new AtomicBoolean());
      pollsToFail.set(11);
      consumer.schedulePollTask(() -> {
        consumer.rebalance(List.of(tp));
        consumer.addRecord(record(0, "v1"));
      });

      // When the subscription retries until the poll succeeds
      subscribe(consumer);
      await().atMost(Duration.ofSeconds(30)).until(() -> handled.equals(List.of("v1")));

      // Then the failures were logged at WARN the first and the tenth time only
      assertThat(log.count(Level.WARN, "polling " + TOPIC + " failed")).isEqualTo(2);
      assertThat(subscription.failures()).as("failures of events").isZero();
    }
  }

  @Test
  void shouldStillWarnOfAFailedPollAfterTheHandlerFailedTwice() {
    try (LogLines log = LogLines.of(Subscription.class)) {
      // Given a handler that throws on its first two events, after which one poll fails
      MockConsumer<String, byte[]> consumer = consumer(new AtomicBoolean());
      consumer.schedulePollTask(() -> {
        consumer.rebalance(List.of(tp));
        consumer.addRecord(record(0, "v1"));
        consumer.addRecord(record(1, "v2"));
      });
      consumer.schedulePollTask(() -> consumer.addRecord(record(2, "v3")));
      subscribe(consumer, (event, at) -> {
        handled.add(event);
        if (event.equals("v2")) {
          pollsToFail.set(1);
        }
        if (!event.equals("v3")) {
          throw new IllegalStateException("the application failed on " + event);
        }
      });

      // When the next event is delivered after that failed poll
      await().atMost(Duration.ofSeconds(10)).until(() -> handled.size() == 3);

      // Then the failed poll was logged at WARN, though the handler's failures are quiet by now
      assertThat(log.count(Level.WARN, "polling " + TOPIC + " failed")).isEqualTo(1);
      assertThat(subscription.failures()).isEqualTo(2);
    }
  }

  private void subscribe(MockConsumer<String, byte[]> consumer) {
    subscribe(consumer, (event, position) -> handled.add(event));
  }

  private void subscribe(MockConsumer<String, byte[]> consumer, EventHandler<String> handler) {
    subscription = new Subscription(TOPIC, Map.of("bootstrap.servers", "127.0.0.1:1"),
        "app", StartPosition.EARLIEST, new StringDeserializer(), handler, props -> consumer);
  }

  /**
   * A consumer of partition 0 from offset 0 whose first commit times out while {@code away} is
   * true, and whose polls fail while {@link #pollsToFail} says so. Its polls wait a little when
   * they return nothing, as a real consumer's do.
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
        if (pollsToFail.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
          throw new KafkaException("the broker is away");
        }
        ConsumerRecords<String, byte[]> records = super.poll(timeout);
        if (records.isEmpty()) {
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        return records;
      }

      @Override
      public synchronized void wakeup() {
        super.wakeup();
        wokenUp.countDown();
      }
    };
    c.updatePartitions(TOPIC, List.of(new PartitionInfo(TOPIC, 0, null, null, null)));
    c.updateBeginningOffsets(Map.of(tp, 0L));
    return c;
  }

  private static ConsumerRecord<String, byte[]> record(long offset, String value) {
    return new ConsumerRecord<>(TOPIC, 0, offset, "k", value.getBytes(StandardCharsets.UTF_8));
  }
}
