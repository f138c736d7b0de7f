package dev.flywheel.client;

import dev.flywheel.registry.SchemaRegistryException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One handler's background consumer of one topic, reading only committed events ({@code
 * read_committed}). Without a consumer group it is assigned every partition of the topic and is
 * positioned before {@link FlywheelClient#onPromoted} (and the others) return, so every event
 * written after that is delivered. With a group ({@link FlywheelClient.Builder#groupId}) it resumes
 * where the group left off and commits after each handled batch; a commit that fails (the group
 * coordinator away, or a rebalance) is tried again after the next poll, whether or not that poll
 * brought events.
 *
 * <p>Events that cannot be decoded are logged and skipped; a handler that throws is logged and
 * the next event is delivered. An event that cannot be decoded because the schema registry does
 * not answer is not skipped: it is decoded again every second until the registry answers, and
 * the events after it wait. {@link #close()} stops the thread and closes the consumer; it is
 * idempotent and waits up to ten seconds.
 */
public final class Subscription implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Subscription.class);
  private static final Duration POLL = Duration.ofMillis(200);
  private static final long CLOSE_WAIT_SECONDS = 10;
  /** How long an event waits before it is decoded again while the schema registry is away. */
  private static final Duration REGISTRY_RETRY = Duration.ofSeconds(1);
  /**
   * How long one commit of the group's position may take. The thread that commits also delivers
   * the events: with the client's default.api.timeout.ms (60 s) a group coordinator that is away
   * would hold every following event back a minute per attempt. A reachable coordinator answers
   * in milliseconds, and a commit that times out loses nothing: it is tried again after the next
   * poll.
   */
  static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(5);

  private final String topic;
  private final Consumer<String, byte[]> consumer;
  private final Deserializer<?> values;
  private final EventHandler<Object> handler;
  private final boolean grouped;
  private final Thread thread;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicLong delivered = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();

  Subscription(String topic, Map<String, Object> kafka, String groupId, StartPosition start,
      Deserializer<?> values, EventHandler<?> handler) {
    this(topic, kafka, groupId, start, values, handler,
        props -> new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer()));
  }

  /** As above, with the consumer {@code consumers} makes from the consumer properties. */
  @SuppressWarnings("unchecked")
  Subscription(String topic, Map<String, Object> kafka, String groupId, StartPosition start,
      Deserializer<?> values, EventHandler<?> handler,
      Function<Map<String, Object>, Consumer<String, byte[]>> consumers) {
    this.topic = topic;
    this.values = values;
    this.handler = (EventHandler<Object>) Objects.requireNonNull(handler, "handler");
    this.grouped = groupId != null;
    Map<String, Object> props = new HashMap<>(kafka);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
        start == StartPosition.EARLIEST ? "earliest" : "latest");
    if (grouped) {
      props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    }
    this.consumer = consumers.apply(props);
    try {
      if (grouped) {
        consumer.subscribe(List.of(topic));
      } else {
        List<PartitionInfo> infos = consumer.partitionsFor(topic);
        if (infos == null || infos.isEmpty()) {
          throw new FlywheelClientException("topic " + topic + " does not exist on "
              + kafka.get(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG) + "; start the platform"
              + " (flywheel up) or check the client's topicPrefix");
        }
        List<TopicPartition> partitions = new ArrayList<>();
        infos.forEach(i -> partitions.add(new TopicPartition(topic, i.partition())));
        consumer.assign(partitions);
        if (start == StartPosition.EARLIEST) {
          consumer.seekToBeginning(partitions);
        } else {
          consumer.seekToEnd(partitions);
        }
        // resolve the positions now, so events written after registration are all delivered
        partitions.forEach(consumer::position);
      }
    } catch (RuntimeException e) {
      consumer.close(Duration.ZERO);
      throw e;
    }
    this.thread = new Thread(this::run, "flywheel-client-" + topic);
    thread.setDaemon(true);
    thread.start();
  }

  /** The full name of the topic this subscription reads. */
  public String topic() {
    return topic;
  }

  /** Events handed to the handler so far (including those it threw on). */
  public long delivered() {
    return delivered.get();
  }

  /** Events that could not be decoded or whose handler threw, so far. */
  public long failures() {
    return failures.get();
  }

  private void run() {
    boolean commitPending = false;
    try {
      while (!closed.get()) {
        ConsumerRecords<String, byte[]> records;
        try {
          records = consumer.poll(POLL);
        } catch (WakeupException e) {
          break;
        } catch (RuntimeException e) {
          if (closed.get()) {
            break;
          }
          warn("polling " + topic + " failed; retrying", e);
          continue;
        }
        boolean complete = true;
        for (ConsumerRecord<String, byte[]> record : records) {
          if (!deliver(record)) {
            complete = false;
            break;
          }
        }
        if (!complete) {
          break; // closed: nothing past the undelivered event is committed
        }
        if (grouped && !records.isEmpty()) {
          commitPending = true;
        }
        if (commitPending) {
          try {
            consumer.commitSync(COMMIT_TIMEOUT);
            commitPending = false;
          } catch (WakeupException e) {
            break;
          } catch (RuntimeException e) {
            // as a failed poll: carry on, and commit the position after the next poll
            warn("committing the position on " + topic + " failed; committing it again after"
                + " the next poll", e);
          }
        }
      }
    } finally {
      try {
        consumer.close(Duration.ofSeconds(5));
      } catch (RuntimeException e) {
        log.debug("closing the consumer of {} failed", topic, e);
      }
    }
  }

  /**
   * Decodes the record and hands it to the handler. Returns false only when the subscription was
   * closed while the record waited for the schema registry: it was not delivered.
   */
  private boolean deliver(ConsumerRecord<String, byte[]> record) {
    if (record.value() == null) {
      return true;
    }
    Object event = null;
    for (boolean decoded = false; !decoded; ) {
      try {
        event = values.deserialize(record.topic(), record.headers(), record.value());
        decoded = true;
      } catch (RuntimeException e) {
        if (SchemaRegistryException.isRetriableCause(e)) {
          // the registry did not answer: the event may well be fine, so it is not skipped
          if (closed.get()) {
            return false; // not delivered, not committed: read again by the next subscription
          }
          log.warn("cannot decode {}-{}@{} while the schema registry does not answer; trying"
              + " again in {} ms: {}", record.topic(), record.partition(), record.offset(),
              REGISTRY_RETRY.toMillis(), e.getMessage());
          pause(REGISTRY_RETRY);
          continue;
        }
        failures.incrementAndGet();
        warn("skipping " + record.topic() + "-" + record.partition() + "@" + record.offset()
            + ": it does not decode: " + e.getMessage(), null);
        return true;
      }
    }
    delivered.incrementAndGet();
    try {
      handler.handle(event, new EventPosition(record.topic(), record.partition(),
          record.offset(), record.key()));
    } catch (Exception e) {
      failures.incrementAndGet();
      warn("the handler of " + topic + " threw on offset " + record.offset()
          + "; continuing with the next event", e);
    }
    return true;
  }

  private static void pause(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void warn(String message, Throwable e) {
    // loudly the first time, then quietly
    if (failures.get() <= 1) {
      log.warn(message, e);
    } else {
      log.debug(message, e);
    }
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    consumer.wakeup();
    if (Thread.currentThread() != thread) {
      try {
        // joined, not only signalled: once close returns, the thread has ended
        thread.join(TimeUnit.SECONDS.toMillis(CLOSE_WAIT_SECONDS));
        if (thread.isAlive()) {
          log.warn("the consumer of {} did not stop within {} s", topic, CLOSE_WAIT_SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
