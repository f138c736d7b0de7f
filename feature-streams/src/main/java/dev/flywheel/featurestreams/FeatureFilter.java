package dev.flywheel.featurestreams;

import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A simple filter {@code field op value} on the source record: only events it accepts count for
 * the feature. {@code op} is one of {@code == != < <= > >=}; {@code value} a number, {@code true},
 * {@code false}, or a string (quoted with {@code '} or {@code "}, or bare). Order comparisons need
 * a numeric field; strings, enums and booleans compare with {@code ==} and {@code !=}. A record
 * whose field is null passes only {@code != value}.
 *
 * @param field the source field
 * @param op the comparison
 * @param literal the value as written, unquoted
 * @param number the value as a number, or null when it is not one
 */
public record FeatureFilter(String field, Op op, String literal, Double number) {

  private static final Pattern SYNTAX =
      Pattern.compile("\\s*([A-Za-z_][A-Za-z0-9_]*)\\s*(==|!=|<=|>=|=|<|>)\\s*(.+?)\\s*");

  /** A comparison. */
  public enum Op {
    EQ("=="), NE("!="), LT("<"), LE("<="), GT(">"), GE(">=");

    private final String symbol;

    Op(String symbol) {
      this.symbol = symbol;
    }

    /** {@code ==}, {@code <=}, … */
    public String symbol() {
      return symbol;
    }

    /** Whether the comparison orders values (needs a numeric field). */
    public boolean ordering() {
      return this != EQ && this != NE;
    }
  }

  /** Checks the components. */
  public FeatureFilter {
    Objects.requireNonNull(field, "field");
    Objects.requireNonNull(op, "op");
    Objects.requireNonNull(literal, "literal");
  }

  /**
   * Parses {@code field op value}.
   *
   * @throws IllegalArgumentException showing the expected form
   */
  public static FeatureFilter parse(String text) {
    Matcher m = SYNTAX.matcher(text == null ? "" : text);
    if (!m.matches()) {
      throw new IllegalArgumentException("filter '" + text + "' is not 'field op value'; write e.g."
          + " \"channel == ECOMMERCE\" or \"amount > 100\" (op: == != < <= > >=)");
    }
    String opText = m.group(2);
    Op op = switch (opText) {
      case "==", "=" -> Op.EQ;
      case "!=" -> Op.NE;
      case "<" -> Op.LT;
      case "<=" -> Op.LE;
      case ">" -> Op.GT;
      default -> Op.GE;
    };
    String raw = m.group(3);
    boolean quoted = raw.length() >= 2
        && ((raw.startsWith("'") && raw.endsWith("'")) || (raw.startsWith("\"") && raw.endsWith("\"")));
    String literal = quoted ? raw.substring(1, raw.length() - 1) : raw;
    Double number = null;
    if (!quoted) {
      try {
        number = Double.parseDouble(literal);
      } catch (NumberFormatException e) {
        number = null;
      }
    }
    if (op.ordering() && number == null) {
      throw new IllegalArgumentException("filter '" + text + "' compares with " + op.symbol()
          + " against '" + literal + "', which is not a number; order comparisons need a number");
    }
    return new FeatureFilter(m.group(1), op, literal, number);
  }

  /** Whether a numeric field value passes. */
  boolean test(Double value) {
    if (value == null) {
      return op == Op.NE;
    }
    if (number == null) {
      return op == Op.NE;
    }
    int c = Double.compare(value, number);
    return switch (op) {
      case EQ -> value.doubleValue() == number.doubleValue();
      case NE -> value.doubleValue() != number.doubleValue();
      case LT -> c < 0;
      case LE -> c <= 0;
      case GT -> c > 0;
      case GE -> c >= 0;
    };
  }

  /** Whether a string, enum or boolean field value (as text) passes; only == and != apply. */
  boolean test(String value) {
    if (value == null) {
      return op == Op.NE;
    }
    boolean equal = value.equals(literal);
    return op == Op.NE ? !equal : equal;
  }

  /** {@code field op value}, as written. */
  @Override
  public String toString() {
    return field + " " + op.symbol() + " " + (number == null ? "'" + literal + "'" : literal);
  }
}
