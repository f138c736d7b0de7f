package dev.flywheel.platform.cli;

import java.util.Set;
import java.util.TreeSet;

/**
 * Resolves a topic name as a user types it: the full name ({@code acme.flywheel.predictions}), the
 * catalogue name without prefix and platform ({@code predictions}, {@code model.promoted}), or a
 * source name ({@code transactions} for {@code flywheel.data.transactions}).
 */
final class TopicNames {

  private TopicNames() {}

  /**
   * @param existing every topic on the cluster
   * @param namePrefix {@code [prefix.]flywheel.}
   * @throws IllegalArgumentException naming the Flywheel topics that exist when none matches
   */
  static String resolve(String given, Set<String> existing, String namePrefix) {
    for (String candidate : new String[] {given, namePrefix + given, namePrefix + "data." + given}) {
      if (existing.contains(candidate)) {
        return candidate;
      }
    }
    Set<String> flywheel = new TreeSet<>();
    existing.stream().filter(t -> t.startsWith(namePrefix)).forEach(flywheel::add);
    throw new IllegalArgumentException("no topic '" + given + "' (nor " + namePrefix + given
        + ", nor " + namePrefix + "data." + given + ") on the cluster; "
        + (flywheel.isEmpty() ? "there are no " + namePrefix + "* topics: start flywheel up, or"
            + " pass the --prefix the platform runs with"
            : "the Flywheel topics are: " + String.join(", ", flywheel)));
  }
}
