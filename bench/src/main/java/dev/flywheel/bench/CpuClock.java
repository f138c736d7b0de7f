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
   * /proc/self/task} in 10 ms ticks; empty where there is no {@code /proc}. Threads that have ended
   * are not counted, so a difference of two readings under-counts threads that came and went.
   */
  static Map<String, Long> nanosByThreadKind() {
    Map<String, Long> byKind = new TreeMap<>();
    if (!Files.isDirectory(TASKS)) {
      return byKind;
    }
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(TASKS)) {
      for (Path task : tasks) {
        String stat;
        try {
          stat = Files.readString(task.resolve("stat"));
        } catch (IOException ended) {
          continue;
        }
        int open = stat.indexOf('(');
        int close = stat.lastIndexOf(')');
        String comm = stat.substring(open + 1, close);
        String[] fields = stat.substring(close + 2).split(" ");
        long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
        byKind.merge(kind(comm), ticks * NANOS_PER_TICK, Long::sum);
      }
    } catch (IOException e) {
      return Map.of();
    }
    return byKind;
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
