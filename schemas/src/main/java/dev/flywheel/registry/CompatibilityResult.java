package dev.flywheel.registry;

import java.util.List;

/**
 * The registry's answer to a compatibility check of a candidate schema against a subject.
 *
 * @param compatible true when the candidate may be registered under the subject
 * @param messages why the candidate is incompatible, one entry per problem; empty when compatible
 *     or when the registry gave no reasons; never null
 */
public record CompatibilityResult(boolean compatible, List<String> messages) {

  /** @throws NullPointerException when {@code messages} is null */
  public CompatibilityResult {
    messages = List.copyOf(messages);
  }
}
