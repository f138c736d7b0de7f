package dev.flywheel.topics;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.serialization.Serde;

/**
 * A Kafka topic as a typed, immutable value: its full name, the serdes of its keys and values,
 * and the partitions, replication factor and topic configs it is created with.
 *
 * <p>Instances come from the catalogue ({@link Topics}); code that reads or writes a topic takes
 * its name and serdes from here, so that a topic name never appears as a string literal
 * elsewhere:
 *
 * <pre>{@code
 * Topic<String, Prediction> out = topics.predictions();
 * builder.stream(in.name(), Consumed.with(in.keySerde(), in.valueSerde()))
 *     ...
 *     .to(out.name(), Produced.with(out.keySerde(), out.valueSerde()));
 * }</pre>
 *
 * <p>Every component is non-null. {@code configs} is an unmodifiable copy sorted by key; it holds
 * only the settings the catalogue decides (such as {@code cleanup.policy} and {@code
 * retention.ms}), everything else is left to the broker's defaults. Equality compares every
 * component, serdes by identity.
 *
 * @param name the full topic name, prefix included
 * @param keySerde serde of the record keys
 * @param valueSerde serde of the record values
 * @param partitions number of partitions the topic is created with, at least 1
 * @param replicationFactor replication factor the topic is created with, at least 1
 * @param configs topic-level configs the topic is created with, e.g. {@code cleanup.policy}
 * @param <K> key type
 * @param <V> value type
 */
public record Topic<K, V>(
    String name,
    Serde<K> keySerde,
    Serde<V> valueSerde,
    int partitions,
    short replicationFactor,
    Map<String, String> configs) {

  /** Longest topic name Kafka accepts. */
  public static final int MAX_NAME_LENGTH = 249;

  /**
   * Checks and copies the components.
   *
   * @throws IllegalArgumentException if the name is not a legal Kafka topic name, or partitions or
   *     replication factor are below 1
   * @throws NullPointerException if any component or config key or value is null
   */
  public Topic {
    checkName(name);
    Objects.requireNonNull(keySerde, "keySerde");
    Objects.requireNonNull(valueSerde, "valueSerde");
    Objects.requireNonNull(configs, "configs");
    if (partitions < 1) {
      throw new IllegalArgumentException(
          "topic '" + name + "' needs at least 1 partition, got " + partitions);
    }
    if (replicationFactor < 1) {
      throw new IllegalArgumentException(
          "topic '" + name + "' needs a replication factor of at least 1, got " + replicationFactor);
    }
    TreeMap<String, String> copy = new TreeMap<>();
    configs.forEach(
        (key, value) ->
            copy.put(
                Objects.requireNonNull(key, "config key"),
                Objects.requireNonNull(value, () -> "value of config '" + key + "'")));
    configs = Collections.unmodifiableMap(copy);
  }

  /** The Admin-client description this topic is created from. */
  public NewTopic toNewTopic() {
    return new NewTopic(name, partitions, replicationFactor).configs(configs);
  }

  /** Whether the topic keeps only the latest value per key ({@code cleanup.policy} has compact). */
  public boolean compacted() {
    String policy = configs.get(TopicConfigs.CLEANUP_POLICY);
    return policy != null && TopicConfigs.listValue(policy).contains(TopicConfigs.COMPACT);
  }

  @Override
  public String toString() {
    return "Topic[" + name + ", partitions=" + partitions + ", replicationFactor="
        + replicationFactor + ", configs=" + configs + "]";
  }

  /**
   * Checks that {@code name} is a legal Kafka topic name: 1 to 249 characters from {@code
   * [a-zA-Z0-9._-]}, and neither {@code "."} nor {@code ".."}.
   *
   * @throws IllegalArgumentException naming the problem, if it is not
   * @throws NullPointerException if {@code name} is null
   */
  static void checkName(String name) {
    Objects.requireNonNull(name, "topic name");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("topic name is empty");
    }
    if (name.equals(".") || name.equals("..")) {
      throw new IllegalArgumentException("topic name cannot be '" + name + "'");
    }
    if (name.length() > MAX_NAME_LENGTH) {
      throw new IllegalArgumentException(
          "topic name '" + name + "' is " + name.length() + " characters long; Kafka allows at most "
              + MAX_NAME_LENGTH);
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (!legal(c)) {
        throw new IllegalArgumentException(
            "topic name '" + name + "' contains '" + c + "' at index " + i
                + "; use only ASCII letters, digits, '.', '_' and '-'");
      }
    }
  }

  static boolean legal(char c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || c == '.'
        || c == '_'
        || c == '-';
  }
}
