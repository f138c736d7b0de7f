package dev.flywheel.streams;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler
    .StreamThreadExceptionResponse;
import org.junit.jupiter.api.Test;

/** Failed stream threads are replaced after a pause that grows while failures follow in a row. */
class ReplaceFailedThreadsTest {

  private final AtomicLong clock = new AtomicLong();
  private final List<Long> pauses = new ArrayList<>();
  private final ReplaceFailedThreads handler =
      new ReplaceFailedThreads("test", clock::get, pauses::add);

  @Test
  void shouldReplaceAfterAPauseDoublingFromOneSecondUpToFive() {
    // When seven threads fail one after the other, a second apart
    for (int i = 0; i < 7; i++) {
      assertThat(handler.handle(new IllegalStateException("registry away")))
          .isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
      clock.addAndGet(Duration.ofSeconds(1).toNanos());
    }

    // Then each is replaced after 1, 2, 4, 5, 5, 5, 5 s (±20%): never near the transaction timeout
    long[] expected = {1_000, 2_000, 4_000, 5_000, 5_000, 5_000, 5_000};
    assertThat(pauses).hasSize(expected.length);
    for (int i = 0; i < expected.length; i++) {
      assertThat(pauses.get(i)).as("pause %d", i)
          .isBetween((long) (expected[i] * 0.8), (long) (expected[i] * 1.2));
    }
  }

  @Test
  void shouldStartAgainFromOneSecondAfterFiveQuietMinutes() {
    // Given three failures in a row
    for (int i = 0; i < 3; i++) {
      handler.handle(new IllegalStateException("x"));
    }

    // When the next comes more than five minutes after the last
    clock.addAndGet(ReplaceFailedThreads.QUIET.plusSeconds(1).toNanos());
    handler.handle(new IllegalStateException("x"));

    // Then it is replaced after about a second again
    assertThat(pauses.get(3)).isBetween(800L, 1_200L);
  }
}
