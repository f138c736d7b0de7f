package dev.flywheel.platform.demo;

import java.time.Duration;

/**
 * The demo's event time: it starts {@code lead} in the past and runs {@code speedup} times faster
 * than the wall clock until it has caught up with it, then at the wall clock's pace. So a card's
 * hour of history passes in a minute of the demo, windows of {@code 10m} or {@code 24h} fill as
 * they would in production, and no event time is ever in the future (brokers refuse timestamps
 * too far ahead).
 *
 * @param wallStartMs the wall-clock instant the demo started
 * @param leadMs how far in the past event time starts
 * @param speedup how many event milliseconds pass per wall millisecond while catching up
 */
public record DemoClock(long wallStartMs, long leadMs, int speedup) {

  /** @throws IllegalArgumentException when the lead is negative or the speedup below 1 */
  public DemoClock {
    if (leadMs < 0) {
      throw new IllegalArgumentException("lead must not be negative, got " + leadMs + " ms");
    }
    if (speedup < 1) {
      throw new IllegalArgumentException("speedup must be at least 1, got " + speedup);
    }
  }

  /** A clock that starts {@code lead} in the past now. */
  public static DemoClock startingNow(Duration lead, int speedup) {
    return new DemoClock(System.currentTimeMillis(), lead.toMillis(), speedup);
  }

  /** The event time at wall-clock instant {@code wallMs}. */
  public long eventTimeAt(long wallMs) {
    long elapsed = Math.max(0, wallMs - wallStartMs);
    long lag = Math.max(0, leadMs - elapsed * (speedup - 1L));
    return wallMs - lag;
  }

  /**
   * The event time {@code wallElapsedMs} of sending after {@code eventMs}: {@code speedup} times
   * as far, but never past the wall clock {@code wallNowMs}. A sender that pauses (holds traffic
   * back) does not advance its event time, so a pause leaves no gap in the cards' activity.
   */
  public long advance(long eventMs, long wallElapsedMs, long wallNowMs) {
    return Math.max(eventMs, Math.min(wallNowMs, eventMs + Math.max(0, wallElapsedMs) * speedup));
  }
}
