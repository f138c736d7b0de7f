package dev.flywheel.topics;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the catalogue's topics that are missing on a cluster, and reports the ones that exist
 * with other partitions, replication factor or configs than the catalogue's.
 *
 * <p>Idempotent and safe to run from several processes at once: a topic another process creates
 * at the same moment counts as already present. It never alters an existing topic; a mismatch is
 * reported, for an operator to decide.
 *
 * <pre>{@code
 * try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, servers))) {
 *   TopicBootstrap.Result result = new TopicBootstrap(admin).ensure(topics.all());
 *   if (!result.mismatches().isEmpty()) {
 *     log.warn(result.describe());
 *   }
 * }
 * }</pre>
 *
 * <p>The Admin client belongs to the caller, which closes it.
 */
public final class TopicBootstrap {

  /** How long {@link #ensure(Collection)} waits for the cluster unless told otherwise. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  /** Setting name a partition-count {@link Mismatch} reports. */
  public static final String PARTITIONS = "partitions";

  /** Setting name a replication-factor {@link Mismatch} reports. */
  public static final String REPLICATION_FACTOR = "replication.factor";

  private static final Logger LOG = LoggerFactory.getLogger(TopicBootstrap.class);
  private static final long RETRY_BACKOFF_MS = 100;

  private final Admin admin;
  private final Duration timeout;

  /** A bootstrap that waits up to {@link #DEFAULT_TIMEOUT} for the cluster. */
  public TopicBootstrap(Admin admin) {
    this(admin, DEFAULT_TIMEOUT);
  }

  /**
   * A bootstrap that waits up to {@code timeout} for the cluster in each {@link
   * #ensure(Collection)}.
   *
   * @throws IllegalArgumentException if {@code timeout} is not positive
   */
  public TopicBootstrap(Admin admin, Duration timeout) {
    this.admin = Objects.requireNonNull(admin, "admin");
    this.timeout = Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive, got " + timeout);
    }
  }

  /**
   * Creates every topic of {@code topics} that does not exist, with its partitions, replication
   * factor and configs, and compares the ones that exist with the catalogue.
   *
   * @param topics the topics that should exist; a name listed twice must have the same settings
   * @return the topics created, those already present and every difference found
   * @throws IllegalArgumentException if a name is listed twice with different settings
   * @throws TimeoutException if the cluster did not answer within the timeout
   * @throws KafkaException if a topic could not be created or described, naming it and the cause
   * @throws InterruptException if the thread was interrupted while waiting
   */
  public Result ensure(Collection<? extends Topic<?, ?>> topics) {
    long deadline = System.nanoTime() + timeout.toNanos();
    Map<String, Topic<?, ?>> wanted = byName(topics);
    if (wanted.isEmpty()) {
      return new Result(List.of(), List.of(), List.of());
    }

    Set<String> existing =
        await(admin.listTopics(new ListTopicsOptions().listInternal(true)).names(), deadline,
            "listing topics");

    List<String> created = new ArrayList<>();
    List<String> present = new ArrayList<>();
    List<NewTopic> toCreate = new ArrayList<>();
    for (Topic<?, ?> topic : wanted.values()) {
      if (existing.contains(topic.name())) {
        present.add(topic.name());
      } else {
        toCreate.add(topic.toNewTopic());
      }
    }

    if (!toCreate.isEmpty()) {
      Map<String, KafkaFuture<Void>> results = admin.createTopics(toCreate).values();
      List<String> failures = new ArrayList<>();
      for (NewTopic newTopic : toCreate) {
        String name = newTopic.name();
        try {
          awaitUnwrapped(results.get(name), deadline, "creating topic '" + name + "'");
          created.add(name);
        } catch (TopicExistsException raced) {
          // Another process created it between our listing and our request: that is fine.
          present.add(name);
        } catch (TimeoutException | InterruptException e) {
          throw e;
        } catch (RuntimeException e) {
          failures.add("'" + name + "': " + e.getMessage());
        }
      }
      if (!failures.isEmpty()) {
        throw new KafkaException("could not create " + failures.size() + " topic(s): "
            + String.join("; ", failures));
      }
      if (!created.isEmpty()) {
        awaitLeaders(created, wanted, deadline);
        LOG.info("Created {} topic(s): {}", created.size(), created);
      }
    }

    List<Mismatch> mismatches = new ArrayList<>();
    if (!present.isEmpty()) {
      Map<String, TopicDescription> descriptions = describeTopics(present, deadline);
      Map<String, Config> configs = describeConfigs(present, deadline);
      for (String name : present) {
        compare(wanted.get(name), descriptions.get(name), configs.get(name), mismatches);
      }
    }
    Result result = new Result(created, present, mismatches);
    if (!mismatches.isEmpty()) {
      LOG.warn("{}", result.describe());
    }
    return result;
  }

  private static Map<String, Topic<?, ?>> byName(Collection<? extends Topic<?, ?>> topics) {
    Objects.requireNonNull(topics, "topics");
    Map<String, Topic<?, ?>> byName = new LinkedHashMap<>();
    for (Topic<?, ?> topic : topics) {
      Objects.requireNonNull(topic, "topic");
      Topic<?, ?> earlier = byName.putIfAbsent(topic.name(), topic);
      if (earlier != null && !sameSettings(earlier, topic)) {
        throw new IllegalArgumentException(
            "topic '" + topic.name() + "' is listed twice with different settings: " + earlier
                + " and " + topic);
      }
    }
    return byName;
  }

  private static boolean sameSettings(Topic<?, ?> a, Topic<?, ?> b) {
    return a.partitions() == b.partitions()
        && a.replicationFactor() == b.replicationFactor()
        && a.configs().equals(b.configs());
  }

  /**
   * Waits until every partition of the topics just created has a leader, so that a producer
   * started right after {@link #ensure} does not meet {@code NOT_LEADER_OR_FOLLOWER} retries.
   */
  private void awaitLeaders(List<String> names, Map<String, Topic<?, ?>> wanted, long deadline) {
    while (true) {
      Map<String, TopicDescription> descriptions = describeTopics(names, deadline);
      boolean served = names.stream().allMatch(name -> {
        TopicDescription d = descriptions.get(name);
        return d != null && d.partitions().size() == wanted.get(name).partitions()
            && d.partitions().stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty());
      });
      if (served) {
        return;
      }
      pause(deadline, "waiting for leaders of topics " + names);
    }
  }

  /** Describes topics, retrying while a topic just created elsewhere is not yet known. */
  private Map<String, TopicDescription> describeTopics(List<String> names, long deadline) {
    while (true) {
      try {
        return awaitUnwrapped(
            admin.describeTopics(names).allTopicNames(), deadline, "describing topics " + names);
      } catch (UnknownTopicOrPartitionException notYetVisible) {
        pause(deadline, "describing topics " + names);
      }
    }
  }

  private Map<String, Config> describeConfigs(List<String> names, long deadline) {
    List<ConfigResource> resources =
        names.stream().map(n -> new ConfigResource(ConfigResource.Type.TOPIC, n)).toList();
    while (true) {
      try {
        Map<ConfigResource, Config> byResource =
            awaitUnwrapped(admin.describeConfigs(resources).all(), deadline,
                "describing the configs of topics " + names);
        return byResource.entrySet().stream()
            .collect(Collectors.toMap(e -> e.getKey().name(), Map.Entry::getValue));
      } catch (UnknownTopicOrPartitionException notYetVisible) {
        pause(deadline, "describing the configs of topics " + names);
      }
    }
  }

  private static void compare(
      Topic<?, ?> topic, TopicDescription description, Config config, List<Mismatch> out) {
    String name = topic.name();
    List<TopicPartitionInfo> partitions = description.partitions();
    if (partitions.size() != topic.partitions()) {
      out.add(new Mismatch(name, PARTITIONS, Integer.toString(topic.partitions()),
          Integer.toString(partitions.size())));
    }
    int replicas = partitions.stream().mapToInt(p -> p.replicas().size()).min().orElse(0);
    if (!partitions.isEmpty() && replicas != topic.replicationFactor()) {
      out.add(new Mismatch(name, REPLICATION_FACTOR, Short.toString(topic.replicationFactor()),
          Integer.toString(replicas)));
    }
    topic.configs().forEach((key, expected) -> {
      ConfigEntry entry = config == null ? null : config.get(key);
      String actual = entry == null ? null : entry.value();
      if (!TopicConfigs.sameValue(key, expected, actual)) {
        out.add(new Mismatch(name, key, expected, actual == null ? "(unset)" : actual));
      }
    });
  }

  private static <T> T await(KafkaFuture<T> future, long deadline, String what) {
    try {
      return awaitUnwrapped(future, deadline, what);
    } catch (TimeoutException | InterruptException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new KafkaException(what + " failed: " + e.getMessage(), e);
    }
  }

  /**
   * Waits for {@code future} and rethrows the cause of a failure as is when it is unchecked, so
   * callers can catch {@link TopicExistsException} and friends.
   */
  private static <T> T awaitUnwrapped(KafkaFuture<T> future, long deadline, String what) {
    try {
      return future.get(remainingNanos(deadline, what), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptException("interrupted while " + what, e);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new TimeoutException("timed out while " + what, e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new KafkaException(what + " failed: " + cause, cause);
    }
  }

  private static void pause(long deadline, String what) {
    if (remainingNanos(deadline, what) <= TimeUnit.MILLISECONDS.toNanos(RETRY_BACKOFF_MS)) {
      throw new TimeoutException("timed out while " + what);
    }
    try {
      Thread.sleep(RETRY_BACKOFF_MS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptException("interrupted while " + what, e);
    }
  }

  private static long remainingNanos(long deadline, String what) {
    long remaining = deadline - System.nanoTime();
    if (remaining <= 0) {
      throw new TimeoutException("timed out while " + what);
    }
    return remaining;
  }

  /**
   * What {@link #ensure(Collection)} found and did.
   *
   * @param created names of the topics it created, in catalogue order
   * @param alreadyPresent names of the topics that existed (including any another process created
   *     meanwhile)
   * @param mismatches every difference between an existing topic and the catalogue; empty when all
   *     agree
   */
  public record Result(List<String> created, List<String> alreadyPresent,
      List<Mismatch> mismatches) {

    /** Copies the lists. */
    public Result {
      created = List.copyOf(created);
      alreadyPresent = List.copyOf(alreadyPresent);
      mismatches = List.copyOf(mismatches);
    }

    /** Whether every existing topic agrees with the catalogue. */
    public boolean consistent() {
      return mismatches.isEmpty();
    }

    /**
     * A report for a person, one fact a line, e.g.
     *
     * <pre>
     * created 2 topics: flywheel.labels, flywheel.features
     * 1 topic already present: flywheel.predictions
     * 1 difference from the catalogue (existing topics are never changed):
     *   flywheel.predictions: partitions is 1, the catalogue expects 3
     * </pre>
     */
    public String describe() {
      StringBuilder out = new StringBuilder();
      out.append(created.isEmpty()
          ? "created no topics"
          : "created " + count(created.size(), "topic") + ": " + String.join(", ", created));
      out.append('\n');
      out.append(alreadyPresent.isEmpty()
          ? "no topic already present"
          : count(alreadyPresent.size(), "topic") + " already present: "
              + String.join(", ", alreadyPresent));
      out.append('\n');
      if (mismatches.isEmpty()) {
        out.append("every existing topic agrees with the catalogue");
      } else {
        out.append(count(mismatches.size(), "difference"))
            .append(" from the catalogue (existing topics are never changed):");
        for (Mismatch mismatch : mismatches) {
          out.append("\n  ").append(mismatch.describe());
        }
      }
      return out.toString();
    }

    @Override
    public String toString() {
      return describe();
    }

    private static String count(int n, String noun) {
      return n + " " + noun + (n == 1 ? "" : "s");
    }
  }

  /**
   * One setting of an existing topic that differs from the catalogue.
   *
   * @param topic the topic's full name
   * @param setting {@link #PARTITIONS}, {@link #REPLICATION_FACTOR} or a topic config name such as
   *     {@code retention.ms}
   * @param expected the catalogue's value
   * @param actual the topic's value, or {@code (unset)}
   */
  public record Mismatch(String topic, String setting, String expected, String actual) {

    /** Checks that no component is null. */
    public Mismatch {
      Objects.requireNonNull(topic, "topic");
      Objects.requireNonNull(setting, "setting");
      Objects.requireNonNull(expected, "expected");
      Objects.requireNonNull(actual, "actual");
    }

    /** {@code <topic>: <setting> is <actual>, the catalogue expects <expected>}. */
    public String describe() {
      return topic + ": " + setting + " is " + actual + ", the catalogue expects " + expected;
    }

    @Override
    public String toString() {
      return describe();
    }
  }
}
