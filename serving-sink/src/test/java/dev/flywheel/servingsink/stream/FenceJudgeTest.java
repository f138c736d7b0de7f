package dev.flywheel.servingsink.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** When a fenced scorer starts a new producer, and when it stops. */
class FenceJudgeTest {

  private static final long TIMEOUT_MS = 60_000;
  /** A transaction open briefly: younger than the timeout, so only another instance fenced it. */
  private static final long BRIEF = Duration.ofMillis(50).toNanos();
  /** A transaction open past the timeout: the broker may have aborted it. */
  private static final long STALLED = Duration.ofSeconds(90).toNanos();

  private static long at(Duration d) {
    return d.toNanos();
  }

  @Test
  void shouldNeverStopALoneScorerWhoseModelStallsPastTheTimeoutAgainAndAgain() {
    // Given a lone scorer whose transactions time out after 2 s
    FenceJudge judge = new FenceJudge(2_000);
    long stalled = Duration.ofSeconds(3).toNanos();

    // When the broker aborts its stalled transactions three times in ten seconds
    // Then it starts a new producer each time
    assertThat(judge.stopOnFence(at(Duration.ofSeconds(0)), stalled)).isFalse();
    assertThat(judge.stopOnFence(at(Duration.ofSeconds(5)), stalled)).isFalse();
    assertThat(judge.stopOnFence(at(Duration.ofSeconds(10)), stalled)).isFalse();
  }

  @Test
  void shouldStopTheOlderOfTwoInstancesThatFenceEachOtherInTurn() {
    // Given a running instance A, and B started with the same id, whose start fences A
    FenceJudge a = new FenceJudge(TIMEOUT_MS);
    FenceJudge b = new FenceJudge(TIMEOUT_MS);

    // When each finds out at its next (brief) transaction, batches minutes apart
    boolean aFirst = a.stopOnFence(at(Duration.ofMinutes(0)), BRIEF); // renews, fencing B
    boolean bFirst = b.stopOnFence(at(Duration.ofMinutes(3)), BRIEF); // renews, fencing A
    boolean aSecond = a.stopOnFence(at(Duration.ofMinutes(6)), BRIEF);

    // Then A renews once and then stops; B renewed once and goes on
    assertThat(aFirst).isFalse();
    assertThat(bFirst).isFalse();
    assertThat(aSecond).isTrue();
  }

  @Test
  void shouldStopAZombieThatWokeFromAPauseAndFencedItsReplacement() {
    // Given A paused past the timeout while B replaced it: A's stalled transaction is fenced
    FenceJudge zombie = new FenceJudge(TIMEOUT_MS);
    FenceJudge replacement = new FenceJudge(TIMEOUT_MS);
    assertThat(zombie.stopOnFence(at(Duration.ofSeconds(0)), STALLED)).isFalse();

    // When A's new producer fences B, and B's new producer fences A again
    boolean replacementStops = replacement.stopOnFence(at(Duration.ofSeconds(1)), BRIEF);
    boolean zombieStops = zombie.stopOnFence(at(Duration.ofSeconds(2)), BRIEF);

    // Then the zombie stops, not its replacement
    assertThat(replacementStops).isFalse();
    assertThat(zombieStops).isTrue();
  }

  @Test
  void shouldStopALoneScorerThatStalledOnceWhenAnotherInstanceThenStarts() {
    // Given a lone scorer whose stalled transaction the broker aborted
    FenceJudge judge = new FenceJudge(TIMEOUT_MS);
    assertThat(judge.stopOnFence(at(Duration.ofSeconds(0)), STALLED)).isFalse();

    // When an instance with its id starts and fences a brief transaction, Then it stops
    assertThat(judge.stopOnFence(at(Duration.ofSeconds(30)), BRIEF)).isTrue();
  }

  @Test
  void shouldForgetAFenceOlderThanTheWindow() {
    // Given a scorer fenced once by another instance
    FenceJudge judge = new FenceJudge(TIMEOUT_MS);
    assertThat(judge.stopOnFence(at(Duration.ofMinutes(0)), BRIEF)).isFalse();

    // When the next fence comes after the window, Then it starts a new producer again
    assertThat(judge.stopOnFence(at(FenceJudge.WINDOW.plusSeconds(1)), BRIEF)).isFalse();
  }
}
