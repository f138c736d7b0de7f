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
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a {@link ModelHistory} filled from {@code flywheel.model.events}: on a background thread,
 * reads every partition from the beginning (committed records only) and then follows the topic.
 * No consumer group and no committed offsets: the index is rebuilt from the audit log at each
 * start, which is what makes it a replay.
 *
 * <p>An unreadable record is skipped and logged; other errors are logged once loudly, then
 * quietly, and the loop keeps going. {@link #close()} is idempotent.
 */
public final class HistoryIndexer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(HistoryIndexer.class);
  private static final Duration POLL = Duration.ofMillis(200);

  private final ModelHistory history;
  private final Topic<String, ModelEvent> topic;
  private final Map<String, Object> kafka;
  private final Thread thread;
  private volatile KafkaConsumer<String, ModelEvent> consumer;
  private volatile boolean running = true;
  private volatile boolean caughtUp;
  private boolean failedBefore;

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

  private void run() {
    Map<String, Object> props = new HashMap<>(kafka);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.remove(ConsumerConfig.GROUP_ID_CONFIG);
    props.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "flywheel-registry-history");
    props.putIfAbsent(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
    try (KafkaConsumer<String, ModelEvent> c = new KafkaConsumer<>(props,
        new StringDeserializer(), topic.valueSerde().deserializer())) {
      consumer = c;
      if (!running) {
        return;
      }
      List<TopicPartition> partitions = partitions(c);
      c.assign(partitions);
      c.seekToBeginning(partitions);
      Map<TopicPartition, Long> ends = c.endOffsets(partitions);
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
        } catch (RecordDeserializationException e) {
          if (SchemaRegistryException.isRetriableCause(e)) {
            // not a bad record: the position stays on it, and the next poll reads it again
            log.warn("cannot read {}/{} of the audit log while the schema registry does not"
                + " answer; trying again in 1 s", e.topicPartition(), e.offset());
            try {
              Thread.sleep(1_000);
            } catch (InterruptedException interrupted) {
              Thread.currentThread().interrupt();
              return;
            }
            continue;
          }
          log.error("skipping unreadable record {}/{}/{} of the audit log: {}", e.topicPartition()
              .topic(), e.topicPartition().partition(), e.offset(), e.getMessage());
          c.seek(e.topicPartition(), e.offset() + 1);
        } catch (WakeupException e) {
          if (running) {
            throw e;
          }
        } catch (RuntimeException e) {
          if (!failedBefore) {
            log.error("the registry history indexer failed; retrying", e);
            failedBefore = true;
          } else {
            log.debug("the registry history indexer failed again", e);
          }
        }
      }
    } catch (WakeupException e) {
      // closing
    } catch (RuntimeException e) {
      log.error("the registry history indexer stopped", e);
    }
  }

  private List<TopicPartition> partitions(KafkaConsumer<String, ModelEvent> c) {
    while (running) {
      List<PartitionInfo> infos = c.partitionsFor(topic.name(), Duration.ofSeconds(10));
      if (infos != null && !infos.isEmpty()) {
        List<TopicPartition> out = new ArrayList<>();
        infos.forEach(p -> out.add(new TopicPartition(p.topic(), p.partition())));
        return out;
      }
      log.warn("topic {} does not exist yet; waiting for it", topic.name());
      try {
        Thread.sleep(1_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return List.of();
      }
    }
    return List.of();
  }

  /** Stops the thread and closes the consumer. Idempotent. */
  @Override
  public void close() {
    running = false;
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
