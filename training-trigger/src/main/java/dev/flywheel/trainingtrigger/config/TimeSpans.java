package dev.flywheel.trainingtrigger.config;

import java.time.Duration;
import java.time.Period;
import java.time.format.DateTimeParseException;

/** Parses the ISO-8601 time spans of {@code flywheel.yaml}: {@code PT30M}, {@code P1D}, {@code P1W}. */
public final class TimeSpans {

  private TimeSpans() {}

  /**
   * A positive or zero span.
   *
   * @param where the YAML path, for the error, e.g. {@code models[fraud].triggers.schedule}
   * @param text an ISO-8601 duration ({@code PT6H}) or a period of days or weeks ({@code P1D})
   * @return the span, or null when text is null
   * @throws InvalidConfigException naming the key and the accepted forms
   */
  public static Duration parse(String where, String text) {
    if (text == null) {
      return null;
    }
    String t = text.trim().toUpperCase();
    Duration d;
    try {
      if (t.contains("T")) {
        d = Duration.parse(t);
      } else {
        Period p = Period.parse(t);
        if (p.getYears() != 0 || p.getMonths() != 0) {
          throw new InvalidConfigException(where + " is '" + text + "': months and years have no"
              + " fixed length; write the span in days or weeks, e.g. P30D");
        }
        d = Duration.ofDays(p.getDays());
      }
    } catch (DateTimeParseException e) {
      throw new InvalidConfigException(where + " is '" + text + "', which is not an ISO-8601 span;"
          + " write e.g. PT30M, PT6H, P1D or P1W");
    }
    if (d.isNegative()) {
      throw new InvalidConfigException(where + " is '" + text + "': it must not be negative");
    }
    return d;
  }
}
