package dev.flywheel.topics;

import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/** Names and values of the topic-level configs the catalogue sets, and how to compare them. */
final class TopicConfigs {

  static final String CLEANUP_POLICY = "cleanup.policy";
  static final String RETENTION_MS = "retention.ms";
  static final String DELETE = "delete";
  static final String COMPACT = "compact";
  /** {@code retention.ms} value that keeps records forever. */
  static final String INFINITE = "-1";

  private TopicConfigs() {}

  /** {@code retention.ms} value for {@code retention}. */
  static String retentionMs(Duration retention) {
    return Long.toString(retention.toMillis());
  }

  /** The elements of a comma-separated list config, trimmed and sorted. */
  static Set<String> listValue(String value) {
    return Arrays.stream(value.split(","))
        .map(String::trim)
        .filter(s -> !s.isEmpty())
        .collect(Collectors.toCollection(TreeSet::new));
  }

  /**
   * Whether an actual config value means the same as the expected one. List configs such as
   * {@code cleanup.policy} compare as sets ({@code "compact,delete"} equals {@code
   * "delete, compact"}); every other value compares as trimmed text.
   */
  static boolean sameValue(String key, String expected, String actual) {
    if (actual == null) {
      return false;
    }
    if (CLEANUP_POLICY.equals(key)) {
      return listValue(expected).equals(listValue(actual));
    }
    return expected.trim().equals(actual.trim());
  }
}
