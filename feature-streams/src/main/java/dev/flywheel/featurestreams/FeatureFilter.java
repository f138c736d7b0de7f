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
 * <p>An int or long value compares with a value written as an integer exactly, as 64-bit
 * integers: a double holds integers exactly only up to 2^53, so 64-bit ids that differ by less
 * than 256 around 2^60 would compare equal as doubles. Other numbers compare as doubles.
 *
 * @param field the source field
 * @param op the comparison
 * @param literal the value as written, unquoted
 * @param number the value as a number, or null when it is not one
 * @param integer the value as a 64-bit integer, when written as one (digits, an optional sign),
 *     else null
 */
public record FeatureFilter(String field, Op op, String literal, Double number, Long integer) {

  private static final Pattern SYNTAX =
      Pattern.compile("\\s*([A-Za-z_][A-Za-z0-9_]*)\\s*(==|!=|<=|>=|=|<|>)\\s*(.+?)\\s*");
  private static final Pattern INTEGER = Pattern.compile("[+-]?[0-9]+");

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
    Long integer = null;
    if (number != null && INTEGER.matcher(literal).matches()) {
      try {
        integer = Long.parseLong(literal);
      } catch (NumberFormatException e) {
        integer = null; // beyond 64 bits: compared as a double
      }
    }
    return new FeatureFilter(m.group(1), op, literal, number, integer);
  }

  /**
   * Whether a numeric field value passes: a Double, or a Long (an int or long value a double
   * cannot hold exactly, see {@link FeatureEvent#number}).
   */
  boolean testNumber(Object value) {
    if (value == null || number == null) {
      return op == Op.NE;
    }
    if (value instanceof Long l) {
      return passes(integer != null ? Long.compare(l, integer) : compare(l, number));
    }
    double d = (Double) value;
    if (integer != null && !Double.isNaN(d)) {
      // exactly, not against the literal rounded to a double (an integral d may be a long value)
      return passes(-compare(integer, d));
    }
    int c = Double.compare(d, number);
    return switch (op) {
      case EQ -> d == number;
      case NE -> d != number;
      default -> passes(c);
    };
  }

  private boolean passes(int c) {
    return switch (op) {
      case EQ -> c == 0;
      case NE -> c != 0;
      case LT -> c < 0;
      case LE -> c <= 0;
      case GT -> c > 0;
      case GE -> c >= 0;
    };
  }

  /** {@code v} compared with {@code d} exactly (not {@code v} rounded to a double); NaN above all. */
  static int compare(long v, double d) {
    if (Double.isNaN(d) || d >= 0x1p63) {
      return -1;
    }
    if (d < -0x1p63) {
      return 1;
    }
    long whole = (long) Math.floor(d); // exact: |d| < 2^63
    if (v != whole) {
      return Long.compare(v, whole);
    }
    return d > whole ? -1 : 0;
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
