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
import org.apache.kafka.clients.consumer.InvalidOffsetException;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
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
 * where the group left off and commits after each handled batch; a group with no position yet
 * starts, with {@link StartPosition#LATEST}, where the topic ended when the handler was
 * registered, so there too every event written after the call is delivered, though the group is
 * joined later, on the background thread. A commit that fails (the group coordinator away, or a
 * rebalance) is tried again after the next poll, whether or not that poll brought events.
 *
 * <p>Events that cannot be decoded are logged and skipped; a handler that throws (an exception or
 * an {@link Error} such as {@link AssertionError}) is logged and the next event is delivered; both
 * are counted in {@link #failures()}. A {@link VirtualMachineError} thrown by the handler ({@link
 * OutOfMemoryError}, {@link StackOverflowError}) stops the subscription: it is logged at ERROR and
 * {@link #isRunning()} turns false. An event that cannot be decoded because the schema registry
 * does not answer is not skipped: it is decoded again every second until the registry answers,
 * and the events after it wait. A poll or commit that keeps failing is logged at WARN the first,
 * tenth and hundredth time in a row and every thousandth after that, and at INFO once it works
 * again.
 *
 * <p>{@link #close()} stops the thread and closes the consumer; it is idempotent and waits up to
 * ten seconds. No event is handed to the handler once it was called: the rest of the batch being
 * handled is dropped and that batch is not committed, so a group reads it again after a restart.
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
  /** Set when the thread has ended, closed or not. */
  private volatile boolean stopped;
  private final AtomicLong delivered = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  /**
   * Where a group with no position starts on each partition, with {@link StartPosition#LATEST}:
   * the end when the handler was registered. Empty otherwise.
   */
  private final Map<TopicPartition, Long> groupStart;
  private final java.util.function.Consumer<Subscription> onClose;
  private final FailureStreak pollFailures;
  private final FailureStreak commitFailures;

  /** A subscription with the consumer {@code consumers} makes from the consumer properties. */
  Subscription(String topic, Map<String, Object> kafka, String groupId, StartPosition start,
      Deserializer<?> values, EventHandler<?> handler,
      Function<Map<String, Object>, Consumer<String, byte[]>> consumers) {
    this(topic, kafka, groupId, start, values, handler, consumers, s -> { });
  }

  /** As above, calling {@code onClose} with it when it is closed. */
  @SuppressWarnings("unchecked")
  Subscription(String topic, Map<String, Object> kafka, String groupId, StartPosition start,
      Deserializer<?> values, EventHandler<?> handler,
      Function<Map<String, Object>, Consumer<String, byte[]>> consumers,
      java.util.function.Consumer<Subscription> onClose) {
    this.topic = topic;
    this.values = values;
    this.handler = (EventHandler<Object>) Objects.requireNonNull(handler, "handler");
    this.onClose = Objects.requireNonNull(onClose, "onClose");
    this.grouped = groupId != null;
    this.pollFailures = new FailureStreak("polling " + topic);
    this.commitFailures = new FailureStreak("committing the position on " + topic);
    Map<String, Object> props = new HashMap<>(kafka);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    // a group with no position starts where the topic ended at registration (position(), on
    // the thread), not where it ends when the group is joined, later
    boolean groupStartsAtRegistration = grouped && start == StartPosition.LATEST;
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, groupStartsAtRegistration ? "none"
        : start == StartPosition.EARLIEST ? "earliest" : "latest");
    if (grouped) {
      props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    }
    this.consumer = consumers.apply(props);
    try {
      List<PartitionInfo> infos = consumer.partitionsFor(topic);
      if (infos == null || infos.isEmpty()) {
        throw new FlywheelClientException("topic " + topic + " does not exist on "
            + kafka.get(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG) + "; start the platform"
            + " (flywheel up) or check the client's topicPrefix");
      }
      List<TopicPartition> partitions = new ArrayList<>();
      infos.forEach(i -> partitions.add(new TopicPartition(topic, i.partition())));
      if (grouped) {
        this.groupStart = groupStartsAtRegistration ? ends(partitions) : Map.of();
        consumer.subscribe(List.of(topic));
      } else {
        this.groupStart = Map.of();
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

  /**
   * Where the partitions end now (read_committed: their last stable offsets), read as the
   * ungrouped subscription reads its positions: on partitions assigned for the moment, for the
   * consumer warns of end offsets read for partitions it does not hold. The consumer has not
   * joined its group yet, so unsubscribing leaves nothing.
   */
  private Map<TopicPartition, Long> ends(List<TopicPartition> partitions) {
    consumer.assign(partitions);
    consumer.seekToEnd(partitions);
    Map<TopicPartition, Long> ends = new HashMap<>();
    partitions.forEach(tp -> ends.put(tp, consumer.position(tp)));
    consumer.unsubscribe();
    return Map.copyOf(ends);
  }

  /** The handlers' consumer: Kafka's, reading keys as strings and values as bytes. */
  static Consumer<String, byte[]> kafkaConsumer(Map<String, Object> props) {
    return new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
  }

  /** The full name of the topic this subscription reads. */
  public String topic() {
    return topic;
  }

  /** Events handed to the handler so far (including those it threw on). */
  public long delivered() {
    return delivered.get();
  }

  /**
   * Events that could not be decoded or whose handler threw (an exception or an error), so far.
   * Failed polls and commits are not events, and are not counted.
   */
  public long failures() {
    return failures.get();
  }

  /**
   * Whether the handler is still given events: true from registration until {@link #close()},
   * or until the subscription stopped on an error it cannot carry on after, such as a {@link
   * VirtualMachineError} ({@link StackOverflowError}, {@link OutOfMemoryError}) thrown by the
   * handler, which is logged at ERROR. A subscription that stopped delivers nothing more: close
   * it and register the handler again. Failing polls, commits, events and handlers do not stop
   * it.
   */
  public boolean isRunning() {
    return !closed.get() && !stopped;
  }

  private void run() {
    try {
      consume();
    } catch (RuntimeException | Error e) {
      log.error("the consumer of {} stopped on {}: no further events are delivered and"
          + " isRunning() is false; fix the cause, then close this subscription and register the"
          + " handler again", topic, e, e);
      if (e instanceof VirtualMachineError) {
        throw e;
      }
    } finally {
      stopped = true;
      try {
        consumer.close(Duration.ofSeconds(5));
      } catch (RuntimeException e) {
        log.debug("closing the consumer of {} failed", topic, e);
      }
    }
  }

  private void consume() {
    boolean commitPending = false;
    while (!closed.get()) {
      ConsumerRecords<String, byte[]> records;
      try {
        records = consumer.poll(POLL);
        pollFailures.ended();
      } catch (WakeupException e) {
        break;
      } catch (InvalidOffsetException e) {
        if (closed.get()) {
          break;
        }
        position(e);
        continue;
      } catch (RuntimeException e) {
        if (closed.get()) {
          break;
        }
        pollFailures.failed("polling " + topic + " failed; retrying", e);
        pause(POLL); // a poll that fails at once (an authorization error) must not spin
        continue;
      }
      boolean complete = true;
      for (ConsumerRecord<String, byte[]> record : records) {
        // closed: not one more event, once close() was called (it may have given up waiting)
        if (closed.get() || !deliver(record)) {
          complete = false;
          break;
        }
      }
      if (!complete) {
        break; // closed: nothing of this batch is committed, so the group reads it again
      }
      if (grouped && !records.isEmpty()) {
        commitPending = true;
      }
      if (commitPending) {
        try {
          consumer.commitSync(COMMIT_TIMEOUT);
          commitPending = false;
          commitFailures.ended();
        } catch (WakeupException e) {
          break;
        } catch (RuntimeException e) {
          // as a failed poll: carry on, and commit the position after the next poll
          commitFailures.failed("committing the position on " + topic + " failed; committing"
              + " it again after the next poll", e);
        }
      }
    }
  }

  /**
   * Positions a grouped consumer (whose offset reset is "none") on the partitions the group has
   * no valid position on: where the topic ended at registration, or, for a partition added
   * since, or a position the log no longer holds, the end (as offset reset "latest" would).
   */
  private void position(InvalidOffsetException e) {
    if (e instanceof OffsetOutOfRangeException outOfRange) {
      log.warn("the group's positions {} on {} are no longer on the log (deleted by retention,"
          + " say); continuing from the end", outOfRange.offsetOutOfRangePartitions(), topic);
      consumer.seekToEnd(e.partitions());
      return;
    }
    List<TopicPartition> unknown = new ArrayList<>();
    for (TopicPartition tp : e.partitions()) {
      Long atRegistration = groupStart.get(tp);
      if (atRegistration == null) {
        unknown.add(tp);
      } else {
        consumer.seek(tp, atRegistration);
      }
    }
    if (!unknown.isEmpty()) {
      consumer.seekToEnd(unknown);
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
    } catch (VirtualMachineError e) {
      failures.incrementAndGet();
      throw e; // the JVM may not carry on: run() logs it and the subscription stops
    } catch (Throwable e) {
      // an Error too (AssertionError, NoClassDefFoundError): it is the handler's, not ours
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

  /** Logs a failed event: loudly the first time, then quietly. */
  private void warn(String message, Throwable e) {
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
    onClose.accept(this);
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

  /**
   * The failures in a row of one of the consumer's calls (poll or commit), apart from the
   * events' failures: logged at WARN the 1st, 10th and 100th time and every 1000th after that, at
   * DEBUG in between, and at INFO when the call works again. Used by the subscription's thread
   * only.
   */
  private static final class FailureStreak {
    private final String call;
    private long inARow;

    FailureStreak(String call) {
      this.call = call;
    }

    void failed(String message, Exception e) {
      inARow++;
      if (inARow == 1 || inARow == 10 || inARow == 100 || inARow % 1000 == 0) {
        log.warn(inARow == 1 ? message : message + " (" + inARow + " times in a row)", e);
      } else {
        log.debug(message + " (" + inARow + " times in a row)", e);
      }
    }

    void ended() {
      if (inARow > 0) {
        log.info("{} works again, after {} failures in a row", call, inARow);
        inARow = 0;
      }
    }
  }
}
