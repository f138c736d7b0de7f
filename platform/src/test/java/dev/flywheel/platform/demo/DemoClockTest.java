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
}
