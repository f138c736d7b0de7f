package dev.flywheel.registryprojector;

import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A metric gate of a promotion policy, such as {@code auc >= 0.75}: a version may move to a
 * promotion alias only if its holdout metric compares with the threshold as the operator says. A
 * version without the metric fails the gate.
 *
 * @param metric the metric name, e.g. {@code auc}
 * @param operator one of {@code >=}, {@code >}, {@code <=}, {@code <}
 * @param threshold the value the metric is compared with
 */
public record MetricGate(String metric, String operator, double threshold) {

  private static final Pattern FORM =
      Pattern.compile("\\s*([A-Za-z0-9_.\\-]+)\\s*(>=|<=|>|<)\\s*([-+]?[0-9]*\\.?[0-9]+([eE][-+]?[0-9]+)?)\\s*");

  /** @throws IllegalArgumentException when the operator is not one of the four */
  public MetricGate {
    Objects.requireNonNull(metric, "metric");
    Objects.requireNonNull(operator, "operator");
    if (!operator.equals(">=") && !operator.equals(">") && !operator.equals("<=")
        && !operator.equals("<")) {
      throw new IllegalArgumentException("gate operator must be >=, >, <= or <, got '" + operator
          + "'");
    }
  }

  /**
   * Parses {@code <metric> <op> <number>}, e.g. {@code auc >= 0.75} or {@code log_loss < 0.4}.
   *
   * @throws IllegalArgumentException saying the expected form when {@code text} does not fit it
   */
  public static MetricGate parse(String text) {
    Matcher m = FORM.matcher(text == null ? "" : text);
    if (!m.matches()) {
      throw new IllegalArgumentException("gate '" + text + "' is not of the form"
          + " '<metric> <op> <number>' with <op> one of >=, >, <=, < (e.g. 'auc >= 0.75')");
    }
    return new MetricGate(m.group(1), m.group(2), Double.parseDouble(m.group(3)));
  }

  /** Whether a higher value of the metric is what the gate asks for. */
  public boolean higherIsBetter() {
    return operator.startsWith(">");
  }

  /** Whether {@code metrics} pass the gate; false when the metric is missing. */
  public boolean passes(Map<String, Double> metrics) {
    Double value = metrics.get(metric);
    if (value == null || value.isNaN()) {
      return false;
    }
    return switch (operator) {
      case ">=" -> value >= threshold;
      case ">" -> value > threshold;
      case "<=" -> value <= threshold;
      default -> value < threshold;
    };
  }

  /** The gate as written in the policy, e.g. {@code auc >= 0.75}. */
  @Override
  public String toString() {
    return metric + " " + operator + " " + format(threshold);
  }

  static String format(double value) {
    if (value == Math.rint(value) && Math.abs(value) < 1e15) {
      return String.format(Locale.ROOT, "%.1f", value);
    }
    return String.format(Locale.ROOT, "%s", value);
  }
}
