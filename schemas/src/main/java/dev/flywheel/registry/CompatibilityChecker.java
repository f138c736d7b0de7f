package dev.flywheel.registry;

import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.Incompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityResult;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;

/**
 * Checks a candidate schema against the earlier versions of a subject with Avro's own {@link
 * SchemaCompatibility}, following the semantics of the Confluent Schema Registry.
 */
public final class CompatibilityChecker {

  private CompatibilityChecker() {}

  /**
   * Checks {@code candidate} against {@code previous}.
   *
   * @param level the subject's compatibility level
   * @param candidate the schema to be registered
   * @param previous the subject's earlier versions in registration order, oldest first
   * @return an empty list when compatible; otherwise one message per incompatibility, naming the
   *     direction, the version index, the kind of problem and the location in the schema
   */
  public static List<String> check(CompatibilityLevel level, Schema candidate, List<Schema> previous) {
    List<String> messages = new ArrayList<>();
    if (level == CompatibilityLevel.NONE || previous.isEmpty()) {
      return messages;
    }
    int from = level.transitive() ? 0 : previous.size() - 1;
    for (int i = previous.size() - 1; i >= from; i--) {
      Schema earlier = previous.get(i);
      String which = i == previous.size() - 1 ? "the latest schema" : "earlier schema #" + (i + 1);
      if (level.backward()) {
        describe(SchemaCompatibility.checkReaderWriterCompatibility(candidate, earlier).getResult(),
            "BACKWARD: the new schema cannot read data written with " + which, messages);
      }
      if (level.forward()) {
        describe(SchemaCompatibility.checkReaderWriterCompatibility(earlier, candidate).getResult(),
            "FORWARD: " + which + " cannot read data written with the new schema", messages);
      }
    }
    return messages;
  }

  private static void describe(SchemaCompatibilityResult result, String prefix, List<String> out) {
    if (result.getCompatibility() == SchemaCompatibilityType.COMPATIBLE) {
      return;
    }
    for (Incompatibility incompatibility : result.getIncompatibilities()) {
      out.add(prefix + ": " + incompatibility.getType() + " at '" + incompatibility.getLocation()
          + "': " + incompatibility.getMessage());
    }
  }
}
