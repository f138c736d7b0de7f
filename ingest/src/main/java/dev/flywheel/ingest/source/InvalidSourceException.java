package dev.flywheel.ingest.source;

import java.util.List;

/**
 * A source definition a user can fix: a bad name, or a key or event-time field that the schema
 * does not have or cannot serve as one. {@link #problems()} lists every problem found, each naming
 * the field and the schema; {@link #getMessage()} joins them.
 */
public final class InvalidSourceException extends IllegalArgumentException {

  private final String source;
  private final List<String> problems;

  /**
   * @param source the source name as given; may be null when the name itself was missing
   * @param problems what is wrong, one entry per problem; not empty
   */
  public InvalidSourceException(String source, List<String> problems) {
    super("source '" + source + "' is invalid: " + String.join("; ", problems));
    this.source = source;
    this.problems = List.copyOf(problems);
  }

  /** The source name as given; may be null. */
  public String source() {
    return source;
  }

  /** Every problem found, never empty. */
  public List<String> problems() {
    return problems;
  }
}
