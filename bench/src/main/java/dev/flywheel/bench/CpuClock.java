package dev.flywheel.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.function.Predicate;

/**
 * CPU time consumed by this JVM, and by the live threads whose names match (a Streams application
 * id names its stream threads), read between two points of a benchmark.
 */
final class CpuClock {

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private CpuClock() {}

  /** CPU nanoseconds of every thread of this JVM so far, user and system. */
  static long processNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory
        .getOperatingSystemMXBean()).getProcessCpuTime();
  }

  /**
   * CPU nanoseconds of the live threads whose names match {@code name}; threads that have ended
   * are not counted, so read it before the job closes.
   */
  static long threadNanos(Predicate<String> name) {
    long total = 0;
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (name.test(t.getName())) {
        long nanos = THREADS.getThreadCpuTime(t.getId());
        if (nanos > 0) {
          total += nanos;
        }
      }
    }
    return total;
  }
}
