package dev.flywheel.text;

import java.util.Collection;
import java.util.Locale;
import java.util.Optional;
import org.apache.commons.text.similarity.LevenshteinDistance;

/**
 * "Did you mean" for a misspelt key — of {@code flywheel.yaml}, of an HTTP body, of XGBoost's
 * parameters: the known key closest to it by edit distance (Levenshtein, ignoring case), when it
 * is close enough to be the one meant.
 */
public final class KeyHints {

  private static final LevenshteinDistance DISTANCE = LevenshteinDistance.getDefaultInstance();

  private KeyHints() {}

  /**
   * The known key closest to {@code key}, when it is at most 2 edits away, or a third of the key's
   * length for longer keys; the first in iteration order on a tie.
   */
  public static Optional<String> closest(String key, Collection<String> known) {
    String lower = key.toLowerCase(Locale.ROOT);
    int limit = Math.max(2, key.length() / 3);
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String candidate : known) {
      int d = DISTANCE.apply(lower, candidate.toLowerCase(Locale.ROOT));
      if (d < bestDistance) {
        best = candidate;
        bestDistance = d;
      }
    }
    return bestDistance <= limit ? Optional.ofNullable(best) : Optional.empty();
  }

  /** {@code "; did you mean 'k'?"} with the closest known key, or empty when none is close. */
  public static String didYouMean(String key, Collection<String> known) {
    return closest(key, known).map(k -> "; did you mean '" + k + "'?").orElse("");
  }
}
