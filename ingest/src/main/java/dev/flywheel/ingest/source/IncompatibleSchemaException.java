package dev.flywheel.ingest.source;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.avro.Schema;

/**
 * A schema change the schema registry refused as incompatible with the source's registered
 * schema. {@link #fields()} names the fields that broke compatibility (dotted paths such as {@code
 * amount} or {@code merchant.country}), found from the locations in the registry's messages;
 * {@link #registryMessages()} keeps the registry's own words.
 */
public final class IncompatibleSchemaException extends RuntimeException {

  private static final Pattern LOCATION = Pattern.compile("(/fields/[^'\"\\s,}]*)");
  private static final Pattern ADDITIONAL_INFO = Pattern.compile("additionalInfo:'([^']*)'");

  private final String source;
  private final String subject;
  private final List<String> fields;
  private final List<String> registryMessages;

  /**
   * @param source the source name
   * @param subject the registry subject, e.g. {@code flywheel.data.card-tx-value}
   * @param fields the fields that broke compatibility; may be empty when the registry said nothing
   *     that points at a field
   * @param registryMessages the registry's messages, as given
   */
  public IncompatibleSchemaException(String source, String subject, List<String> fields,
      List<String> registryMessages) {
    super(message(source, subject, fields, registryMessages));
    this.source = source;
    this.subject = subject;
    this.fields = List.copyOf(fields);
    this.registryMessages = List.copyOf(registryMessages);
  }

  /** The source whose schema change was refused. */
  public String source() {
    return source;
  }

  /** The registry subject that refused it. */
  public String subject() {
    return subject;
  }

  /** The fields that broke compatibility, as dotted paths; empty when unknown. */
  public List<String> fields() {
    return fields;
  }

  /** The registry's messages, one per problem. */
  public List<String> registryMessages() {
    return registryMessages;
  }

  /**
   * The fields the registry's compatibility messages point at. Locations are JSON pointers into
   * the reader's schema ({@code /fields/3/type/fields/0}); a BACKWARD problem is located in the
   * new schema, a FORWARD one in the registered schema, and a location that does not resolve in
   * the expected one is tried in the other. Confluent's {@code additionalInfo} names a field when
   * there is no location.
   *
   * @param messages the registry's messages
   * @param candidate the schema that was refused
   * @param registered the subject's latest schema; null when unknown
   */
  public static List<String> fieldsOf(List<String> messages, Schema candidate, Schema registered) {
    Set<String> fields = new LinkedHashSet<>();
    for (String message : messages) {
      Matcher location = LOCATION.matcher(message);
      boolean found = false;
      while (location.find()) {
        boolean forward = message.contains("in the new schema") ? false
            : message.startsWith("FORWARD") || message.contains("in the old schema");
        Schema first = forward && registered != null ? registered : candidate;
        Schema second = first == candidate ? registered : candidate;
        String path = resolve(location.group(1), first);
        if (path == null && second != null) {
          path = resolve(location.group(1), second);
        }
        if (path != null) {
          fields.add(path);
          found = true;
        }
      }
      if (!found) {
        Matcher info = ADDITIONAL_INFO.matcher(message);
        if (info.find() && !info.group(1).isBlank()) {
          fields.add(info.group(1));
        }
      }
    }
    return new ArrayList<>(fields);
  }

  /** The dotted field path a JSON pointer names in {@code schema}, or null when it names none. */
  static String resolve(String pointer, Schema schema) {
    String[] steps = pointer.split("/");
    List<String> names = new ArrayList<>();
    Schema current = schema;
    for (int i = 1; i < steps.length; i++) {
      String step = steps[i];
      if (current == null) {
        break;
      }
      if (step.equals("fields") && i + 1 < steps.length && current.getType() == Schema.Type.RECORD) {
        int index;
        try {
          index = Integer.parseInt(steps[++i]);
        } catch (NumberFormatException e) {
          return null;
        }
        if (index < 0 || index >= current.getFields().size()) {
          return null;
        }
        Schema.Field field = current.getFields().get(index);
        names.add(field.name());
        current = field.schema();
      } else if (step.equals("type")) {
        continue;
      } else if (step.equals("items") && current.getType() == Schema.Type.ARRAY) {
        current = current.getElementType();
      } else if (step.equals("values") && current.getType() == Schema.Type.MAP) {
        current = current.getValueType();
      } else if (current.getType() == Schema.Type.UNION && step.matches("\\d+")) {
        int index = Integer.parseInt(step);
        current = index < current.getTypes().size() ? current.getTypes().get(index) : null;
      } else {
        break;
      }
    }
    return names.isEmpty() ? null : String.join(".", names);
  }

  private static String message(String source, String subject, List<String> fields,
      List<String> messages) {
    String what = fields.isEmpty()
        ? "the new schema"
        : (fields.size() == 1 ? "field " : "fields ")
            + String.join(", ", fields.stream().map(f -> "'" + f + "'").toList());
    return "schema change of source '" + source + "' is incompatible with " + subject
        + " (" + what + " broke compatibility): " + String.join("; ", messages);
  }
}
