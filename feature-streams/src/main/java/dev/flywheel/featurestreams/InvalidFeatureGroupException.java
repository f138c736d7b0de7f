package dev.flywheel.featurestreams;

import java.util.List;

/**
 * A feature group whose declaration does not fit its source: a field the source schema lacks, an
 * aggregation the field's type cannot take, a missing source. Thrown when the topology is built,
 * so a bad declaration is refused at start. The message names the group, each feature, the field
 * and the schema, and says what to fix.
 */
public final class InvalidFeatureGroupException extends IllegalArgumentException {

  private final String group;
  private final List<String> problems;

  /** A refusal of {@code group} for {@code problems} (each a sentence). */
  public InvalidFeatureGroupException(String group, List<String> problems) {
    super("feature group '" + group + "' is refused: " + String.join("; ", problems));
    this.group = group;
    this.problems = List.copyOf(problems);
  }

  /** The refused group. */
  public String group() {
    return group;
  }

  /** Every problem found, each naming the feature, the field and the schema. */
  public List<String> problems() {
    return problems;
  }
}
