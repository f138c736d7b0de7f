package dev.flywheel.featurestreams;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The window a feature aggregates over: a sliding duration ending at the event ({@code 10m},
 * {@code 1h}, {@code 24h}, {@code 7d}) or the entity's whole life ({@code lifetime}).
 *
 * <p>A sliding window is evaluated over time tiles of {@link #tileMs()} milliseconds: 1-hour tiles
 * for windows over an hour, 1-minute tiles for windows from a minute to an hour, 1-second tiles
 * below (each the largest of those that divides the window). At an event of time {@code t} the
 * window holds the events with {@code tileStart(t) - (length - tile) <= time <= t}: exact at the
 * event's own instant, aligned to a tile boundary at its far end (so it spans between {@code
 * length - tile} and {@code length}).
 *
 * @param lengthMs the window length in milliseconds; {@link Long#MAX_VALUE} for lifetime
 */
public record FeatureWindow(long lengthMs) {

  /** The entity's whole life. */
  public static final FeatureWindow LIFETIME = new FeatureWindow(Long.MAX_VALUE);

  private static final long SECOND = 1_000;
  private static final long MINUTE = 60 * SECOND;
  private static final long HOUR = 60 * MINUTE;
  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d|w)");

  /** @throws IllegalArgumentException when the length is not positive */
  public FeatureWindow {
    if (lengthMs <= 0) {
      throw new IllegalArgumentException("a window must be longer than 0 ms, got " + lengthMs);
    }
  }

  /** A sliding window of {@code length}. */
  public static FeatureWindow of(Duration length) {
    return new FeatureWindow(length.toMillis());
  }

  /** Whether this is the lifetime window. */
  public boolean lifetime() {
    return lengthMs == Long.MAX_VALUE;
  }

  /** Tile length in milliseconds; {@link Long#MAX_VALUE} (one tile) for lifetime. */
  public long tileMs() {
    if (lifetime()) {
      return Long.MAX_VALUE;
    }
    long[] candidates = lengthMs > HOUR ? new long[] {HOUR, MINUTE, SECOND, 1}
        : lengthMs >= MINUTE ? new long[] {MINUTE, SECOND, 1} : new long[] {SECOND, 1};
    for (long tile : candidates) {
      if (lengthMs % tile == 0) {
        return tile;
      }
    }
    return 1;
  }

  /** Number of tiles the window spans, the event's own tile included. */
  public long tiles() {
    return lifetime() ? 1 : lengthMs / tileMs();
  }

  /** The YAML spelling: {@code 10m}, {@code 7d}, {@code lifetime}. */
  @Override
  public String toString() {
    return lifetime() ? "lifetime" : format(lengthMs);
  }

  /**
   * Parses {@code 500ms}, {@code 30s}, {@code 10m}, {@code 1h}, {@code 7d}, {@code 1w}, an ISO-8601
   * duration ({@code PT10M}) or {@code lifetime}.
   *
   * @throws IllegalArgumentException saying what is accepted
   */
  public static FeatureWindow parse(String text) {
    Objects.requireNonNull(text, "window");
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (t.equals("lifetime") || t.equals("all") || t.equals("forever")) {
      return LIFETIME;
    }
    return new FeatureWindow(parseMillis(text, "window"));
  }

  /**
   * Parses a duration the way windows are written ({@code 5m}, {@code 1h}, {@code PT5M}).
   *
   * @param what names the setting in the error message
   * @throws IllegalArgumentException saying what is accepted
   */
  public static long parseMillis(String text, String what) {
    Objects.requireNonNull(text, what);
    String t = text.trim().toLowerCase(Locale.ROOT);
    Matcher m = DURATION.matcher(t);
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      return switch (m.group(2)) {
        case "ms" -> n;
        case "s" -> n * SECOND;
        case "m" -> n * MINUTE;
        case "h" -> n * HOUR;
        case "d" -> n * 24 * HOUR;
        default -> n * 7 * 24 * HOUR;
      };
    }
    if (t.startsWith("p")) {
      try {
        return Duration.parse(text.trim().toUpperCase(Locale.ROOT)).toMillis();
      } catch (RuntimeException e) {
        // fall through to the message below
      }
    }
    throw new IllegalArgumentException(what + " '" + text + "' is not a duration; write e.g. 500ms,"
        + " 30s, 10m, 1h, 7d or PT10M" + (what.equals("window") ? ", or lifetime" : ""));
  }

  /** {@code 90000} → {@code 90s}: the largest unit that divides the length. */
  static String format(long ms) {
    if (ms % (24 * HOUR) == 0) {
      return ms / (24 * HOUR) + "d";
    }
    if (ms % HOUR == 0) {
      return ms / HOUR + "h";
    }
    if (ms % MINUTE == 0) {
      return ms / MINUTE + "m";
    }
    if (ms % SECOND == 0) {
      return ms / SECOND + "s";
    }
    return ms + "ms";
  }
}
