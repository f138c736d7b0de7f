package dev.flywheel.ingest.http;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.flywheel.devstack.junit.LogLines;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.Test;

class TopicMessageLimitsTest {

  private static final Duration TTL = Duration.ofMinutes(5);
  private static final Duration RETRY = Duration.ofSeconds(30);

  /** The clock the limits read: nanoseconds, moved by the test only. */
  private final AtomicLong now = new AtomicLong(1_000);
  /** The topics read, in order. */
  private final List<String> reads = new ArrayList<>();
  /** What the next read of a limit answers. */
  private int limit = 2048;
  /** When set, every read fails with it. */
  private Exception refuse;

  private final TopicMessageLimits limits = new TopicMessageLimits(topic -> {
    reads.add(topic);
    if (refuse != null) {
      throw refuse;
    }
    return OptionalInt.of(limit);
  }, TTL, RETRY, now::get);

  private void advance(Duration by) {
    now.addAndGet(by.toNanos());
  }

  @Test
  void shouldReadATopicsLimitOnceAndAnswerFromTheCacheUntilItsTimeToLivePasses() {
    // Given a topic's limit read once
    assertThat(limits.get("t")).hasValue(2048);

    // When it changes on the broker, and is asked for again within the time to live
    limit = 4096;
    advance(TTL.minusNanos(1));

    // Then the cached value answers, without a read
    assertThat(limits.get("t")).hasValue(2048);
    assertThat(reads).containsExactly("t");

    // When the time to live has passed
    advance(Duration.ofNanos(1));

    // Then it is read again
    assertThat(limits.get("t")).hasValue(4096);
    assertThat(reads).containsExactly("t", "t");
  }

  @Test
  void shouldKeepEachTopicsLimitApart() {
    // Given two topics' limits read
    limits.get("a");
    limit = 4096;

    // When both are asked for again
    // Then each has its own
    assertThat(limits.get("b")).hasValue(4096);
    assertThat(limits.get("a")).hasValue(2048);
    assertThat(reads).containsExactly("a", "b");
  }

  @Test
  void shouldReadTheLimitAtOnceOnRefreshAndCacheWhatItRead() {
    // Given a cached limit that the broker no longer has
    limits.get("t");
    limit = 8192;

    // When it is refreshed
    OptionalInt refreshed = limits.refresh("t");

    // Then it is read at once, within the time to live
    assertThat(refreshed).hasValue(8192);
    assertThat(reads).containsExactly("t", "t");

    // and the next batches take what it read, without reading again
    assertThat(limits.get("t")).hasValue(8192);
    assertThat(reads).hasSize(2);
  }

  @Test
  void shouldGoOnWithoutALimitThatCannotBeReadAndReadItAgainAfterTheRetryInterval() {
    // Given a topic whose limit cannot be read (no DESCRIBE_CONFIGS permission, Kafka away)
    refuse = new TopicAuthorizationException("not authorized to describe configs of t");

    // When it is asked for
    // Then it is unknown, without an error: the broker decides
    assertThat(limits.get("t")).isEmpty();

    // and it is not read again on every batch, but only after the retry interval
    advance(RETRY.minusNanos(1));
    assertThat(limits.get("t")).isEmpty();
    assertThat(reads).hasSize(1);

    // When the permission is given and the retry interval has passed
    refuse = null;
    advance(Duration.ofNanos(1));

    // Then the limit is read
    assertThat(limits.get("t")).hasValue(2048);
    assertThat(reads).hasSize(2);
  }

  @Test
  void shouldAnswerARefreshThatCannotReadAsUnknown() {
    // Given a cached limit
    limits.get("t");

    // When a refresh cannot read it
    refuse = new TimeoutException("timed out");

    // Then it is unknown (a record is not refused on a value that may be out of date) until it
    // can be read again
    assertThat(limits.refresh("t")).isEmpty();
    assertThat(limits.get("t")).isEmpty();
  }

  @Test
  void shouldWarnOnceWhileATopicsLimitCannotBeReadAndAgainAfterItCouldBe() {
    try (LogLines log = LogLines.of(TopicMessageLimits.class)) {
      // Given a topic whose limit cannot be read
      refuse = new TimeoutException("timed out");

      // When it is read and fails three times
      for (int i = 0; i < 3; i++) {
        advance(RETRY);
        limits.refresh("t");
      }

      // Then that is said once, with what to check
      assertThat(log.count(Level.WARN, "cannot read max.message.bytes of topic t")).isEqualTo(1);
      assertThat(log.count(Level.WARN, "DESCRIBE_CONFIGS")).isEqualTo(1);

      // When it is read again, then fails again
      refuse = null;
      advance(RETRY);
      limits.refresh("t");
      refuse = new TimeoutException("timed out");
      limits.refresh("t");

      // Then the new failure is said again
      assertThat(log.count(Level.WARN, "cannot read max.message.bytes of topic t")).isEqualTo(2);
    }
  }

  @Test
  void shouldNotReadAgainOnRefreshWithinTheRetryIntervalOfAFailedRead() {
    // Given a limit that could not be read (Kafka away)
    refuse = new TimeoutException("timed out");
    assertThat(limits.refresh("t")).isEmpty();

    // When refreshes follow within the retry interval (batches with records near the limit)
    for (int i = 0; i < 5; i++) {
      assertThat(limits.refresh("t")).isEmpty();
    }

    // Then none tries to read, and the first after it does
    assertThat(reads).hasSize(1);
    refuse = null;
    advance(RETRY);
    assertThat(limits.refresh("t")).hasValue(2048);
    assertThat(reads).hasSize(2);
  }

  @Test
  void shouldAnswerTheValueItReplacesWhileAnotherCallerReadsAnExpiredLimit() throws Exception {
    // Given a limit whose time to live has passed, and a read of it that hangs
    java.util.concurrent.CountDownLatch reading = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    int[] calls = {0};
    TopicMessageLimits slow = new TopicMessageLimits(topic -> {
      if (calls[0]++ > 0) {
        reading.countDown();
        release.await();
        return OptionalInt.of(4096);
      }
      return OptionalInt.of(2048);
    }, TTL, RETRY, now::get);
    slow.get("t");
    advance(TTL);
    Thread reader = new Thread(() -> slow.get("t"));
    reader.start();
    reading.await();

    // When another batch asks for it meanwhile
    OptionalInt meanwhile = slow.get("t");

    // Then it gets the value being replaced at once, and the new one once read
    assertThat(meanwhile).hasValue(2048);
    release.countDown();
    reader.join();
    assertThat(slow.get("t")).hasValue(4096);
  }
}
