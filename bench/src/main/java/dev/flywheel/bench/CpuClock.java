package dev.flywheel.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * CPU time consumed by this JVM, and by the live threads whose names match (a Streams application
 * id names its stream threads), read between two points of a benchmark.
 */
final class CpuClock {

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private static final Path TASKS = Path.of("/proc/self/task");
  /** Linux's USER_HZ: the unit of a thread's times in {@code /proc}; 100 on every common kernel. */
  private static final long NANOS_PER_TICK = 10_000_000L;

  private CpuClock() {}

  /**
   * CPU nanoseconds so far of each kind of thread of this JVM, the JVM's own threads included (the
   * JIT compiler, the garbage collector, RocksDB's background threads), read from {@code
   * /proc/self/task} in 10 ms ticks; empty where there is no {@code /proc}. The threads that have
   * ended count as one kind, the process's own total less its live threads'.
   */
  static Map<String, Long> nanosByThreadKind() {
    Map<String, Long> byKind = new TreeMap<>();
    if (!Files.isDirectory(TASKS)) {
      return byKind;
    }
    long live = 0;
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(TASKS)) {
      for (Path task : tasks) {
        String stat;
        try {
          stat = Files.readString(task.resolve("stat"));
        } catch (IOException ended) {
          continue;
        }
        String comm = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        long nanos = ticks(stat) * NANOS_PER_TICK;
        byKind.merge(kind(comm), nanos, Long::sum);
        live += nanos;
      }
    } catch (IOException e) {
      return Map.of();
    }
    // what the process spent minus what its live threads did: the threads that have ended (the
    // JVM starts and stops compiler threads as it needs them); a difference of two readings is
    // what threads that ended in between spent, give or take a tick per thread
    try {
      byKind.put("threads that ended", ticks(Files.readString(Path.of("/proc/self/stat")))
          * NANOS_PER_TICK - live);
    } catch (IOException e) {
      return Map.of();
    }
    return byKind;
  }

  /** User and system ticks of a {@code stat} line of {@code /proc} (fields 14 and 15). */
  private static long ticks(String stat) {
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
  }

  /** The kind of a thread from its name as the kernel keeps it (the first 15 characters). */
  private static String kind(String comm) {
    if (comm.startsWith("C1 Compiler") || comm.startsWith("C2 Compiler")) {
      return "JIT compiler";
    }
    if (comm.startsWith("GC Thread") || comm.startsWith("G1 ") || comm.equals("VM Thread")) {
      return "garbage collector and VM";
    }
    if (comm.startsWith("data-plane-kaf")) {
      return "broker request handlers and network";
    }
    if (comm.startsWith("kafka-producer")) {
      return "producer network threads";
    }
    if (comm.startsWith("rocksdb")) {
      return "RocksDB flushes and compactions";
    }
    if (comm.startsWith("bench-features") || comm.startsWith("bench-passthro")
        || comm.startsWith("bench-io-")) {
      return "Streams threads of the jobs";
    }
    return "other";
  }

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
