package dev.flywheel.featurestreams.lookup;

import java.util.List;
import java.util.Objects;

/** A lookup named a feature group that is not declared; over HTTP a 404. */
public class UnknownGroupException extends FeatureLookupException {

  private static final long serialVersionUID = 1L;

  private final String group;
  private final List<String> knownGroups;

  /**
   * @param group the name asked for
   * @param knownGroups the groups that are declared, sorted
   */
  public UnknownGroupException(String group, List<String> knownGroups) {
    super(message(group, knownGroups));
    this.group = Objects.requireNonNull(group, "group");
    this.knownGroups = List.copyOf(knownGroups);
  }

  static String message(String group, List<String> knownGroups) {
    return "unknown feature group '" + group + "'; known groups: "
        + (knownGroups.isEmpty() ? "(none declared)" : String.join(", ", knownGroups));
  }

  /** The name that was asked for. */
  public String group() {
    return group;
  }

  /** The declared groups, sorted. */
  public List<String> knownGroups() {
    return knownGroups;
  }
}
