package dev.flywheel.registryprojector;

import dev.flywheel.events.ModelEvent;
import dev.flywheel.registry.SchemaRegistryException;
import dev.flywheel.topics.Topic;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.ExponentialBackoff;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a {@link ModelHistory} filled from {@code flywheel.model.events}: on a background thread,
 * reads every partition from the beginning (committed records only) and then follows the topic.
 * No consumer group and no committed offsets: the index is rebuilt from the audit log at each
 * start, which is what makes it a replay.
 *
 * <p>An unreadable record is skipped and logged. Any other error, at start (Kafka not reachable
 * yet, the topic not created yet, its end offsets not known in time) or while following, is
 * retried after a pause that grows from 200 ms to 5 s, until it succeeds or the indexer is
 * closed: the thread never stops on its own. Meanwhile {@link #problem()} says what is wrong (for
 * {@code /health}); the problem is logged once when it begins, and again when it is over. {@link
 * #close()} is idempotent.
 */
public final class HistoryIndexer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(HistoryIndexer.class);
  private static final Duration POLL = Duration.ofMillis(200);
  /** How long one look-up of the topic's partitions or end offsets may take. */
  private static final Duration LOOKUP_TIMEOUT = Duration.ofSeconds(10);
  /** The pause after the n-th failure in a row. */
  private static final ExponentialBackoff BACKOFF = new ExponentialBackoff(200, 2, 5_000, 0.2);
  /** The pause while the schema registry does not answer. */
  private static final Duration SCHEMA_REGISTRY_PAUSE = Duration.ofSeconds(1);

  private final ModelHistory history;
  private final Topic<String, ModelEvent> topic;
  private final Map<String, Object> kafka;
  private final Thread thread;
  private final CountDownLatch closing = new CountDownLatch(1);
  private volatile KafkaConsumer<String, ModelEvent> consumer;
  private volatile boolean running = true;
  private volatile boolean caughtUp;
  private volatile String problem;
  /** Failures in a row, for the pause; on the indexer's thread only. */
  private long failures;
  /** The kind of problem last logged as a warning, null once over; on the indexer's thread. */
  private String reported;

  /**
   * @param history where events go
   * @param topic the model-events topic
   * @param kafka consumer properties ({@code bootstrap.servers} and any client setting)
   */
  public HistoryIndexer(ModelHistory history, Topic<String, ModelEvent> topic,
      Map<String, ?> kafka) {
    this.history = Objects.requireNonNull(history, "history");
    this.topic = Objects.requireNonNull(topic, "topic");
    this.kafka = new HashMap<>(kafka);
    this.thread = new Thread(this::run, "registry-history-indexer");
    this.thread.setDaemon(true);
  }

  /** Starts the background thread. */
  public HistoryIndexer start() {
    thread.start();
    return this;
  }

  /** Whether the index has read the audit log up to where it ended when the indexer started. */
  public boolean caughtUp() {
    return caughtUp;
  }

  /**
   * What keeps the index from reading the audit log now, while it retries (Kafka not reachable,
   * the topic missing, ...), with what to check; empty while it reads.
   */
  public Optional<String> problem() {
    return Optional.ofNullable(problem);
  }

  private void run() {
    Map<String, Object> props = new HashMap<>(kafka);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.remove(ConsumerConfig.GROUP_ID_CONFIG);
    props.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "flywheel-registry-history");
    props.putIfAbsent(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
    while (running) {
      try (KafkaConsumer<String, ModelEvent> c = new KafkaConsumer<>(props,
          new StringDeserializer(), topic.valueSerde().deserializer())) {
        consumer = c;
        if (running) {
          follow(c);
        }
        return;
      } catch (WakeupException e) {
        return; // closing
      } catch (RuntimeException e) {
        // the consumer could not be made, or failed in a way follow() does not expect: make it
        // again after a pause
        failed("cannot read the audit log with its Kafka consumer", e);
        if (!pause(BACKOFF.backoff(failures++))) {
          return;
        }
      }
    }
  }

  /** Finds the partitions and where they end, then reads them from the start until closed. */
  private void follow(KafkaConsumer<String, ModelEvent> c) {
    List<TopicPartition> partitions = List.of();
    Map<TopicPartition, Long> ends = null;
    while (ends == null) {
      try {
        partitions = partitions(c);
        if (partitions.isEmpty()) {
          report("finds no topic " + topic.name(), " (the registry projector creates it at"
              + " start; create it again if it was deleted)", null);
        } else {
          ends = c.endOffsets(partitions, LOOKUP_TIMEOUT);
        }
      } catch (WakeupException e) {
        throw e;
      } catch (RuntimeException e) {
        failed("cannot learn the partitions of the audit log and where they end", e);
      }
      if (ends == null && !pause(BACKOFF.backoff(failures++))) {
        return;
      }
    }
    c.assign(partitions);
    c.seekToBeginning(partitions);
    while (running) {
      try {
        for (ConsumerRecord<String, ModelEvent> r : c.poll(POLL)) {
          if (r.value() != null) {
            history.add(r.value());
          }
        }
        if (!caughtUp) {
          boolean done = true;
          for (TopicPartition tp : partitions) {
            if (c.position(tp) < ends.get(tp)) {
              done = false;
            }
          }
          if (done) {
            caughtUp = true;
            log.info("registry history rebuilt from {}: {} events", topic.name(),
                history.size());
          }
        }
        recovered();
      } catch (RecordDeserializationException e) {
        if (SchemaRegistryException.isRetriableCause(e)) {
          // not a bad record: the position stays on it, and the next poll reads it again
          report("cannot read the audit log while the schema registry does not answer", " ("
              + e.topicPartition() + " at offset " + e.offset() + "); check that the schema"
              + " registry is up and reachable", e);
          if (!pause(SCHEMA_REGISTRY_PAUSE.toMillis())) {
            return;
          }
          continue;
        }
        log.error("skipping unreadable record {}/{}/{} of the audit log: {}", e.topicPartition()
            .topic(), e.topicPartition().partition(), e.offset(), e.getMessage());
        c.seek(e.topicPartition(), e.offset() + 1);
      } catch (WakeupException e) {
        throw e;
      } catch (RuntimeException e) {
        failed("cannot read the audit log", e);
        if (!pause(BACKOFF.backoff(failures++))) {
          return;
        }
      }
    }
  }

  /** The topic's partitions; empty while it does not exist. */
  private List<TopicPartition> partitions(KafkaConsumer<String, ModelEvent> c) {
    List<PartitionInfo> infos = c.partitionsFor(topic.name(), LOOKUP_TIMEOUT);
    List<TopicPartition> out = new ArrayList<>();
    if (infos != null) {
      infos.forEach(p -> out.add(new TopicPartition(p.topic(), p.partition())));
    }
    return out;
  }

  /** Reports a failure of Kafka or of the consumer, saying what to check. */
  private void failed(String what, RuntimeException e) {
    report(what, " (" + e + "); check that Kafka at " + kafka.get(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG) + " is up and reachable, and that the registry"
        + " may read " + topic.name(), e);
  }

  /**
   * Sets {@link #problem()} to {@code what} and {@code detail}; logs it as a warning when {@code
   * what} is not the problem already reported, else at debug.
   */
  private void report(String what, String detail, Throwable cause) {
    problem = "the registry history " + what + detail + "; retrying";
    if (!what.equals(reported)) {
      reported = what;
      log.warn("{}", problem);
    }
    log.debug("{}", problem, cause);
  }

  /** Clears {@link #problem()} after a success. */
  private void recovered() {
    failures = 0;
    if (reported != null) {
      reported = null;
      problem = null;
      log.info("the registry history reads {} again", topic.name());
    }
  }

  /** Waits {@code millis}, or until closed; false when closing. */
  private boolean pause(long millis) {
    try {
      return !closing.await(millis, TimeUnit.MILLISECONDS) && running;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Stops the thread and closes the consumer. Idempotent. */
  @Override
  public void close() {
    running = false;
    closing.countDown();
    KafkaConsumer<String, ModelEvent> c = consumer;
    if (c != null) {
      c.wakeup();
    }
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
