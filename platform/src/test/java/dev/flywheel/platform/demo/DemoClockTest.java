package dev.flywheel.platform.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DemoClockTest {

  @Test
  void shouldRunFasterThanTheWallClockUntilItCatchesUp() {
    // Given a clock 3 hours behind at 60x
    DemoClock clock = new DemoClock(1_000_000, Duration.ofHours(3).toMillis(), 60);

    // Then it starts 3 hours in the past
    assertThat(clock.eventTimeAt(1_000_000)).isEqualTo(1_000_000 - 3 * 3_600_000L);
    // And one wall second later an event minute has passed
    assertThat(clock.eventTimeAt(1_001_000) - clock.eventTimeAt(1_000_000)).isEqualTo(60_000);
    // And once caught up it is the wall clock, never ahead of it
    long caughtUp = 1_000_000 + 3 * 3_600_000L / 59 + 1;
    assertThat(clock.eventTimeAt(caughtUp)).isEqualTo(caughtUp);
    assertThat(clock.eventTimeAt(caughtUp + 5_000)).isEqualTo(caughtUp + 5_000);
  }

  @Test
  void shouldAdvanceBySendingTimeButNeverPastTheWallClock() {
    // Given a clock at 60x
    DemoClock clock = new DemoClock(0, Duration.ofHours(3).toMillis(), 60);

    // Then 100 ms of sending advance event time by 6 s
    assertThat(clock.advance(1_000_000, 100, 10_000_000)).isEqualTo(1_006_000);
    // And a pause (no sending time) does not advance it
    assertThat(clock.advance(1_000_000, 0, 10_000_000)).isEqualTo(1_000_000);
    // And it stops at the wall clock
    assertThat(clock.advance(9_999_000, 100, 10_000_000)).isEqualTo(10_000_000);
  }
}
