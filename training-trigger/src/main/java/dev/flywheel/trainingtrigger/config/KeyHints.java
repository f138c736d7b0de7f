package dev.flywheel.trainingtrigger.config;

import java.util.Collection;
import java.util.Locale;
import java.util.Optional;

/**
 * "Did you mean" for a misspelt key: the known key closest to it by edit distance. The same rule
 * as the platform's check of {@code flywheel.yaml}'s keys ({@code ConfigKeys}), which this module
 * cannot use: the platform depends on training-trigger.
 */
public final class KeyHints {

  private KeyHints() {}

  /**
   * The known key closest to {@code key} (ignoring case), when it is at most 2 edits away, or a
   * third of the key's length for longer keys; the first in iteration order on a tie.
   */
  public static Optional<String> closest(String key, Collection<String> known) {
    String lower = key.toLowerCase(Locale.ROOT);
    int limit = Math.max(2, key.length() / 3);
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String candidate : known) {
      int d = editDistance(lower, candidate.toLowerCase(Locale.ROOT));
      if (d < bestDistance) {
        best = candidate;
        bestDistance = d;
      }
    }
    return bestDistance <= limit ? Optional.ofNullable(best) : Optional.empty();
  }

  /** Levenshtein distance: insertions, deletions and substitutions. */
  static int editDistance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitute, Math.min(previous[j], current[j - 1]) + 1);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }
}
