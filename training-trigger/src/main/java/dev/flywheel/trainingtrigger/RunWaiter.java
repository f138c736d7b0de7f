package dev.flywheel.trainingtrigger;

import dev.flywheel.events.RunStatus;
import dev.flywheel.events.TrainingReason;
import dev.flywheel.events.TrainingRun;
import dev.flywheel.registry.SchemaRegistryException;
import dev.flywheel.topics.ClusterOptions;
import dev.flywheel.topics.Topic;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;

/**
 * {@code flywheel train --wait}: follows {@code flywheel.training.runs} from where it ended before
 * the request was written, so that no run taking the request is missed however fast it is, and
 * prints each attempt of the run whose reasons name the request until one completes or fails.
 */
final class RunWaiter implements AutoCloseable {

  private static final Duration POLL = Duration.ofMillis(500);
  /** How long to wait before reading a record again that failed as the registry did not answer. */
  private static final Duration REGISTRY_RETRY = Duration.ofSeconds(1);

  private final KafkaConsumer<String, TrainingRun> consumer;
  private final String topic;

  private RunWaiter(KafkaConsumer<String, TrainingRun> consumer, String topic) {
    this.consumer = consumer;
    this.topic = topic;
  }

  /**
   * Positions a reader at the end of the runs topic, now.
   *
   * @throws org.apache.kafka.common.KafkaException when Kafka cannot be reached
   */
  static RunWaiter open(ClusterOptions cluster) {
    Topic<String, TrainingRun> runs = cluster.topics(cluster.serdes()).trainingRuns();
    Map<String, Object> props = cluster.kafka();
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 15_000);
    KafkaConsumer<String, TrainingRun> consumer = new KafkaConsumer<>(props,
        runs.keySerde().deserializer(), runs.valueSerde().deserializer());
    try {
      List<TopicPartition> partitions = consumer.partitionsFor(runs.name()).stream()
          .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToEnd(partitions);
      partitions.forEach(consumer::position); // resolve the end now, before the request
      return new RunWaiter(consumer, runs.name());
    } catch (RuntimeException e) {
      consumer.close();
      throw e;
    }
  }

  /**
   * Prints the attempts of the run that took {@code requestId} until it completes (0), its
   * attempt {@code maxAttempts} fails (1), or {@code timeout} passes (1).
   */
  int await(String requestId, int maxAttempts, Duration timeout, PrintWriter out,
      PrintWriter err) {
    out.println("waiting for the run that takes request " + requestId + " (up to "
        + timeout.toMinutes() + " min; Ctrl-C stops waiting, not the run)");
    out.flush();
    long deadline = System.nanoTime() + timeout.toNanos();
    Set<String> startedAttempts = new HashSet<>();
    boolean registryAwayReported = false;
    while (System.nanoTime() < deadline) {
      Iterable<ConsumerRecord<String, TrainingRun>> records;
      try {
        records = consumer.poll(POLL);
        registryAwayReported = false;
      } catch (RecordDeserializationException e) {
        String where = topic + "-" + e.topicPartition().partition() + "@" + e.offset();
        if (SchemaRegistryException.isRetriableCause(e)) {
          // the record is probably fine: read it again (the position is still on it) once the
          // registry answers
          if (!registryAwayReported) {
            err.println("cannot read " + where + " while the schema registry does not answer;"
                + " trying again every " + REGISTRY_RETRY.toSeconds() + " s (check"
                + " --schema-registry-url and that the registry is up): " + e.getMessage());
            err.flush();
            registryAwayReported = true;
          }
          if (!sleep(REGISTRY_RETRY, deadline)) {
            err.println("interrupted while waiting for the run that takes request " + requestId);
            return 1;
          }
          continue;
        }
        registryAwayReported = false;
        err.println("skipping " + where + ": it cannot be read: " + e.getMessage());
        err.flush();
        consumer.seek(e.topicPartition(), e.offset() + 1);
        continue;
      }
      for (ConsumerRecord<String, TrainingRun> record : records) {
        TrainingRun run = record.value();
        if (run == null || !takes(run, requestId)) {
          continue;
        }
        String attempt = run.getRunId() + " attempt " + run.getAttempt();
        if (run.getStatus() == RunStatus.STARTED) {
          if (startedAttempts.add(attempt)) {
            out.println("run " + attempt + " of " + run.getModel() + " started");
            out.flush();
          }
        } else if (run.getStatus() == RunStatus.COMPLETED) {
          out.println("run " + attempt + " of " + run.getModel() + " completed"
              + (run.getDurationMs() == null ? "" : " in " + run.getDurationMs() / 1000.0 + " s")
              + ": " + run.getMetrics() + ". Whether it is registered and promoted:"
              + " flywheel models history " + run.getModel());
          return 0;
        } else if (run.getStatus() == RunStatus.FAILED) {
          err.println("run " + attempt + " of " + run.getModel() + " failed: " + run.getError());
          if (run.getAttempt() >= maxAttempts) {
            if (maxAttempts == 1) {
              err.println("(a retry follows if the model's triggers.retry.maxAttempts allows one;"
                  + " pass -c <flywheel.yaml> to wait for it)");
            }
            return 1;
          }
          err.println("waiting for attempt " + (run.getAttempt() + 1) + " of " + maxAttempts);
          err.flush();
        }
      }
    }
    err.println("no run took request " + requestId + " to an end within " + timeout.toMinutes()
        + " min; it may still run: flywheel watch training.runs");
    return 1;
  }

  /** Sleeps {@code d}, or until the deadline if sooner; false when interrupted. */
  private static boolean sleep(Duration d, long deadline) {
    long nanos = Math.min(d.toNanos(), deadline - System.nanoTime());
    if (nanos <= 0) {
      return true;
    }
    try {
      TimeUnit.NANOSECONDS.sleep(nanos);
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static boolean takes(TrainingRun run, String requestId) {
    if (run.getLineage() == null) {
      return false;
    }
    for (TrainingReason reason : run.getLineage().getReasons()) {
      if (requestId.equals(reason.getRequestId())) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void close() {
    consumer.close(Duration.ofSeconds(5));
  }
}
