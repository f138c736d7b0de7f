package dev.flywheel.ingest.http;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Each topic's effective {@code max.message.bytes}, read with the Admin client ({@code
 * describeConfigs}) and cached, so that ingest can refuse a record the broker would refuse before
 * it opens a transaction for the batch. The value Kafka reports for a topic is the topic's own
 * setting or, when it has none, the broker's {@code message.max.bytes} default (the entry's
 * {@link ConfigEntry#source()} says which); either is what the broker checks a record batch
 * against.
 *
 * <p>A limit is read on the first {@link #get} for its topic and again once it is older than the
 * time to live, so a limit changed meanwhile is learnt within that time; {@link #refresh} reads it
 * at once, for when a cached value is about to refuse a record (the limit may have been raised)
 * or did not predict the broker's refusal (it may have been lowered). A limit that cannot be read
 * (Kafka unreachable, no {@code DESCRIBE_CONFIGS} permission on the topic) is unknown: the caller
 * goes on without it and the broker decides, and it is read again after a shorter while. A
 * topic's first failure is logged as a warning, later ones only at debug level until a read of it
 * succeeds.
 *
 * <p>Thread-safe. Reads of one topic are made one at a time. A {@link #get} that finds one under
 * way answers the value it replaces, when there is one, rather than wait: only the batch that
 * reads waits for the read (at most about 3 s, while Kafka does not answer), once per time to
 * live. The first read of a topic is waited for by every batch that needs it. A {@link #refresh}
 * within the retry interval of a read that failed answers unknown without reading, so that while
 * Kafka does not answer, batches are not each held up by a read that cannot succeed; a read that
 * succeeds is cheap, and is made again for every refresh, so a limit raised meanwhile counts at
 * once.
 */
public final class TopicMessageLimits {

  /** How long a limit that was read is used before it is read again. */
  public static final Duration DEFAULT_TTL = Duration.ofMinutes(5);

  /** How long after a failed read the limit is read again; until then it is unknown. */
  public static final Duration DEFAULT_RETRY = Duration.ofSeconds(30);

  /** How long a read may take: it delays the batch that needs it. */
  private static final Duration READ_TIMEOUT = Duration.ofSeconds(2);

  private static final Logger log = LoggerFactory.getLogger(TopicMessageLimits.class);

  /** Reads a topic's {@code max.message.bytes}: empty when Kafka reports none. */
  @FunctionalInterface
  interface Lookup {
    OptionalInt maxMessageBytes(String topic) throws Exception;
  }

  private final Lookup lookup;
  private final long ttlNanos;
  private final long retryNanos;
  private final LongSupplier nanoTime;
  private final Map<String, Entry> entries = new ConcurrentHashMap<>();

  TopicMessageLimits(Lookup lookup, Duration ttl, Duration retry, LongSupplier nanoTime) {
    this.lookup = Objects.requireNonNull(lookup, "lookup");
    this.ttlNanos = ttl.toNanos();
    this.retryNanos = retry.toNanos();
    this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
  }

  /**
   * The limits of topics as {@code admin} describes them, each read again after {@link
   * #DEFAULT_TTL}, or after {@link #DEFAULT_RETRY} when it could not be read. {@code admin} stays
   * the caller's to close.
   */
  public static TopicMessageLimits of(Admin admin) {
    Objects.requireNonNull(admin, "admin");
    return new TopicMessageLimits(topic -> describe(admin, topic), DEFAULT_TTL, DEFAULT_RETRY,
        System::nanoTime);
  }

  /** Limits that are never known: every record goes to the broker, which decides. */
  public static TopicMessageLimits unknown() {
    return new TopicMessageLimits(topic -> OptionalInt.empty(), Duration.ofDays(365),
        Duration.ofDays(365), System::nanoTime);
  }

  /**
   * The topic's {@code max.message.bytes} as last read, read now when it never was, or is older
   * than the time to live (or than the retry interval, after a failed read). Empty when it
   * cannot be read: the broker decides.
   */
  public OptionalInt get(String topic) {
    Entry entry = entries.computeIfAbsent(topic, t -> new Entry());
    Read last = entry.last;
    long now = nanoTime.getAsLong();
    if (last != null && !stale(last, now)) {
      return last.limit;
    }
    if (last == null) {
      entry.lock.lock();
    } else if (!entry.lock.tryLock()) {
      return last.limit; // another caller reads it: answer the value it replaces meanwhile
    }
    try {
      last = entry.last;
      if (last != null && !stale(last, nanoTime.getAsLong())) {
        return last.limit; // read by another caller meanwhile
      }
      return read(topic, entry).limit;
    } finally {
      entry.lock.unlock();
    }
  }

  /**
   * The topic's {@code max.message.bytes} read now, and cached for the next {@link #get}. Empty
   * when it cannot be read.
   */
  public OptionalInt refresh(String topic) {
    Entry entry = entries.computeIfAbsent(topic, t -> new Entry());
    entry.lock.lock();
    try {
      Read last = entry.last;
      if (last != null && last.failed && nanoTime.getAsLong() - last.at < retryNanos) {
        return last.limit; // unknown: it could not be read a moment ago
      }
      return read(topic, entry).limit;
    } finally {
      entry.lock.unlock();
    }
  }

  private boolean stale(Read read, long now) {
    return now - read.at >= (read.failed ? retryNanos : ttlNanos);
  }

  /** Reads the limit into {@code entry}; the caller holds its lock. */
  private Read read(String topic, Entry entry) {
    long started = nanoTime.getAsLong();
    Read read;
    try {
      read = new Read(lookup.maxMessageBytes(topic), started, false);
      if (entry.warned) {
        entry.warned = false;
        log.info("max.message.bytes of topic {} read again: {}", topic,
            read.limit.isPresent() ? read.limit.getAsInt() + " bytes" : "none reported");
      }
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      read = new Read(OptionalInt.empty(), started, true);
      if (!entry.warned) {
        // once per topic: while Kafka is unreachable, every retry would say it again
        entry.warned = true;
        log.warn("cannot read max.message.bytes of topic {} ({}); ingest goes on without it,"
                + " so a record over it is refused by the broker instead (the batch's transaction"
                + " aborted). Read again every {} s; check that ingest's principal may describe"
                + " the topic's configs (DESCRIBE_CONFIGS)", topic, reason(e),
            TimeUnit.NANOSECONDS.toSeconds(retryNanos));
      } else {
        log.debug("cannot read max.message.bytes of topic {}", topic, e);
      }
    }
    entry.last = read;
    return read;
  }

  private static String reason(Exception e) {
    Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
    return cause.getClass().getSimpleName() + ": " + cause.getMessage();
  }

  /** A topic's effective {@code max.message.bytes} as {@code admin} describes it. */
  private static OptionalInt describe(Admin admin, String topic) throws Exception {
    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    Config config = admin.describeConfigs(List.of(resource),
            new DescribeConfigsOptions().timeoutMs((int) READ_TIMEOUT.toMillis()))
        .values().get(resource).get(READ_TIMEOUT.toMillis() + 1_000, TimeUnit.MILLISECONDS);
    ConfigEntry entry = config.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
    if (entry == null || entry.value() == null) {
      return OptionalInt.empty();
    }
    return OptionalInt.of(Integer.parseInt(entry.value()));
  }

  /** One topic's last read; its lock orders the reads of that topic. */
  private static final class Entry {
    final ReentrantLock lock = new ReentrantLock();
    volatile Read last;
    /** Whether a failure to read was logged as a warning since the last read that succeeded. */
    boolean warned;
  }

  /** What a read found, and when it began ({@link System#nanoTime()}). */
  private record Read(OptionalInt limit, long at, boolean failed) {}
}
