package dev.flywheel.bench;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.tools.ConsumerPerformance;
import org.apache.kafka.tools.ProducerPerformance;

/**
 * Kafka's own performance tools, run in this JVM against the benchmark's broker as the ceiling a
 * Flywheel figure is compared with, and their printed totals read back.
 */
final class KafkaPerfTools {

  private static final Pattern PRODUCER_TOTAL = Pattern.compile(
      "(\\d+) records sent, ([0-9.]+) records/sec");

  private KafkaPerfTools() {}

  /**
   * Runs {@code ProducerPerformance} ({@code count} records of {@code recordSize} bytes, as fast
   * as it can) with {@code producerProps} besides {@code bootstrap.servers}; returns its total
   * records/s.
   *
   * @throws IllegalStateException when it does not report all {@code count} records sent
   */
  static double producerPerformance(String bootstrap, String topic, int count, int recordSize,
      Map<String, ?> producerProps) throws Exception {
    List<String> args = new ArrayList<>(List.of("--topic", topic,
        "--num-records", Integer.toString(count),
        "--record-size", Integer.toString(recordSize),
        "--throughput", "-1",
        "--producer-props", "bootstrap.servers=" + bootstrap));
    producerProps.forEach((key, value) -> args.add(key + "=" + value));
    String output = capturingStdout(() -> ProducerPerformance.main(args.toArray(String[]::new)));
    Matcher total = null;
    for (String line : output.lines().toList()) {
      Matcher m = PRODUCER_TOTAL.matcher(line);
      if (m.find()) {
        total = m; // the last such line is the total
      }
    }
    if (total == null || Long.parseLong(total.group(1)) != count) {
      throw new IllegalStateException("ProducerPerformance did not report " + count
          + " records sent:\n" + output);
    }
    return Double.parseDouble(total.group(2));
  }

  /**
   * Runs {@code ConsumerPerformance} over {@code records} records of {@code topic} in consumer
   * group {@code group}; returns its fetch rate (records/s, rebalance excluded).
   */
  static double consumerPerformance(String bootstrap, String topic, int records, String group)
      throws Exception {
    String[] args = {"--bootstrap-server", bootstrap, "--topic", topic, "--messages",
        Integer.toString(records), "--group", group, "--timeout", "60000", "--hide-header"};
    String output = capturingStdout(() -> ConsumerPerformance.main(args));
    String last = null;
    for (String line : output.lines().toList()) {
      if (line.split(",").length >= 10) {
        last = line;
      }
    }
    if (last == null) {
      throw new IllegalStateException("ConsumerPerformance printed no result: " + output);
    }
    // start.time, end.time, MB, MB.sec, nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms,
    // fetch.MB.sec, fetch.nMsg.sec
    return Double.parseDouble(last.split(",")[9].trim());
  }

  /** Waits up to 30 s until every partition of {@code topic} has a leader that answers. */
  static void awaitLeadersServing(Admin admin, String topic, int partitions)
      throws InterruptedException {
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    for (int p = 0; p < partitions; p++) {
      latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        admin.listOffsets(latest).all().get();
        return;
      } catch (ExecutionException notYet) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("topic " + topic + " is not served", notYet);
        }
        Thread.sleep(50);
      }
    }
  }

  private interface Tool {
    void run() throws Exception;
  }

  /** What {@code tool} printed to standard output, which it does not show meanwhile. */
  private static String capturingStdout(Tool tool) throws Exception {
    PrintStream console = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      tool.run();
    } finally {
      System.setOut(console);
    }
    return captured.toString(StandardCharsets.UTF_8);
  }
}
