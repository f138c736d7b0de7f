package dev.flywheel.platform.demo;

import dev.flywheel.platform.UntilStopped;
import java.time.Duration;

/**
 * A child JVM for {@link DemoKeepTest}: what {@code flywheel demo --keep} does after a loop that
 * ended with status {@code args[0]}, with a stand-in for the demo's stack.
 */
final class KeepProbe {

  private KeepProbe() {}

  public static void main(String[] args) throws Exception {
    int status = Integer.parseInt(args[0]);
    int exit = DemoCommand.keepUntilStopped(new UntilStopped(Duration.ofSeconds(30)), status,
        () -> System.out.println("stack closed"),
        () -> System.out.println("Still running (--keep); Ctrl-C stops everything."));
    System.exit(exit);
  }
}
