package dev.flywheel.serde;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.avro.Conversions;
import org.apache.avro.Schema;
import org.apache.avro.data.TimeConversions;
import org.apache.avro.generic.GenericData;
import org.apache.avro.specific.SpecificData;

/**
 * The Avro data models the serde uses with {@value AvroSerdeConfig#USE_LOGICAL_TYPE_CONVERTERS},
 * and the schema clean-up of {@value AvroSerdeConfig#REMOVE_JAVA_PROPERTIES}: what Confluent's
 * {@code AvroSchemaUtils} does, with Avro's own classes.
 */
final class AvroModels {

  /**
   * Generic data with Avro's logical-type conversions, as Confluent's serde registers them:
   * decimal ({@code BigDecimal}), uuid ({@code UUID}), date ({@code LocalDate}), time-millis and
   * time-micros ({@code LocalTime}), timestamp-millis and timestamp-micros ({@code Instant}),
   * local-timestamp-millis and local-timestamp-micros ({@code LocalDateTime}).
   */
  static final GenericData GENERIC_WITH_CONVERSIONS = withConversions(new GenericData());

  /**
   * The same conversions on a {@link SpecificData}, for data that has no generated class of its
   * own (generated classes carry their conversions in their own {@code SpecificData}).
   */
  static final SpecificData SPECIFIC_WITH_CONVERSIONS = withConversions(new SpecificData());

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String JAVA_PROPERTY_PREFIX = "avro.java.";

  private AvroModels() {}

  private static <M extends GenericData> M withConversions(M model) {
    model.addLogicalTypeConversion(new Conversions.DecimalConversion());
    model.addLogicalTypeConversion(new Conversions.UUIDConversion());
    model.addLogicalTypeConversion(new TimeConversions.DateConversion());
    model.addLogicalTypeConversion(new TimeConversions.TimeMillisConversion());
    model.addLogicalTypeConversion(new TimeConversions.TimeMicrosConversion());
    model.addLogicalTypeConversion(new TimeConversions.TimestampMillisConversion());
    model.addLogicalTypeConversion(new TimeConversions.TimestampMicrosConversion());
    model.addLogicalTypeConversion(new TimeConversions.LocalTimestampMillisConversion());
    model.addLogicalTypeConversion(new TimeConversions.LocalTimestampMicrosConversion());
    return model;
  }

  /**
   * {@code schema} without the {@code avro.java.*} properties (such as {@code
   * "avro.java.string": "String"}) that the Avro compiler adds to generated classes' schemas and
   * that schemas registered by other languages lack; {@code schema} itself when it has none. The
   * properties only choose Java types: the binary encoding is the same with or without them.
   */
  static Schema withoutJavaProperties(Schema schema) {
    String text = schema.toString();
    if (!text.contains("\"" + JAVA_PROPERTY_PREFIX)) {
      return schema;
    }
    try {
      JsonNode tree = JSON.readTree(text);
      removeJavaProperties(tree);
      return new Schema.Parser().parse(JSON.writeValueAsString(tree));
    } catch (IOException e) {
      throw new IllegalStateException("cannot rewrite schema " + schema.getFullName(), e);
    }
  }

  private static void removeJavaProperties(JsonNode node) {
    if (node instanceof ObjectNode object) {
      List<String> javaProperties = new ArrayList<>();
      for (Iterator<String> names = object.fieldNames(); names.hasNext(); ) {
        String name = names.next();
        if (name.startsWith(JAVA_PROPERTY_PREFIX)) {
          javaProperties.add(name);
        }
      }
      object.remove(javaProperties);
      object.fields().forEachRemaining(field -> {
        if (!field.getKey().equals("default")) { // a field's default value is data, not schema
          removeJavaProperties(field.getValue());
        }
      });
    } else if (node.isArray()) {
      node.elements().forEachRemaining(AvroModels::removeJavaProperties);
    }
  }
}
