package dev.flywheel.events;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.avro.JsonProperties;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;
import org.apache.avro.specific.SpecificData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The conventions every event schema follows; see schemas/README.md. */
class EventSchemasTest {

  private static final Path AVRO_DIR = Path.of("src", "main", "avro");
  private static final Pattern SNAKE_CASE = Pattern.compile("[a-z][a-z0-9]*(_[a-z0-9]+)*");
  private static final String NAMESPACE = "dev.flywheel.events";

  /** Every top-level schema: the events, the demo source record and the registry state. */
  static Stream<Class<? extends SpecificRecord>> events() {
    return Stream.of(
        Transaction.class,
        FeatureVector.class,
        Label.class,
        TrainingRequested.class,
        TrainingRun.class,
        RegistryCommand.class,
        ModelEvent.class,
        ModelPromoted.class,
        Prediction.class,
        DriftReport.class,
        DriftAlert.class,
        ModelRegistryState.class);
  }

  @Test
  void shouldTestEveryTopLevelSchemaFile() throws IOException {
    // Given the top-level .avsc files
    Set<String> files = avscNames(AVRO_DIR);

    // When compared with the events this test covers
    Set<String> covered =
        events().map(Class::getSimpleName).collect(Collectors.toCollection(TreeSet::new));

    // Then each file is covered, so a new event cannot escape these checks
    assertThat(covered).isEqualTo(files);
  }

  @Test
  void shouldUseEverySharedSchemaInSomeEvent() throws IOException {
    // Given the shared schema files
    Set<String> shared = avscNames(AVRO_DIR.resolve("common"));

    // When every named type reachable from the events is collected
    Set<String> reachable =
        allNamedTypes().keySet().stream()
            .map(full -> full.substring(full.lastIndexOf('.') + 1))
            .collect(Collectors.toSet());

    // Then no shared schema is orphaned
    assertThat(shared).isNotEmpty();
    assertThat(reachable).containsAll(shared);
  }

  @Test
  void shouldDocumentEveryRecordFieldAndEnum() {
    // Given every record and enum reachable from the events
    List<String> undocumented = new ArrayList<>();

    // When their docs are checked
    for (Schema schema : allNamedTypes().values()) {
      if (blank(schema.getDoc())) {
        undocumented.add(schema.getFullName());
      }
      if (schema.getType() == Schema.Type.RECORD) {
        for (Schema.Field field : schema.getFields()) {
          if (blank(field.doc())) {
            undocumented.add(schema.getFullName() + "." + field.name());
          }
        }
      }
    }

    // Then none lacks one
    assertThat(undocumented).isEmpty();
  }

  @ParameterizedTest
  @MethodSource("events")
  void shouldCarryAStringEventIdAndAMillisecondEventTime(Class<? extends SpecificRecord> type) {
    // Given an event's schema
    Schema schema = schemaOf(type);

    // When its id and time fields are looked up
    Schema.Field id = schema.getField("event_id");
    Schema.Field time = schema.getField("event_time");

    // Then both exist, required, with the agreed types
    assertThat(id).as("event_id of %s", type.getSimpleName()).isNotNull();
    assertThat(id.schema().getType()).isEqualTo(Schema.Type.STRING);
    assertThat(time).as("event_time of %s", type.getSimpleName()).isNotNull();
    assertThat(time.schema().getType()).isEqualTo(Schema.Type.LONG);
    assertThat(time.schema().getLogicalType()).isEqualTo(LogicalTypes.timestampMillis());
  }

  @Test
  void shouldDeclareADefaultSymbolOnEveryEnum() {
    // Given every enum reachable from the events
    List<String> withoutDefault =
        allNamedTypes().values().stream()
            .filter(s -> s.getType() == Schema.Type.ENUM)
            // When their default symbol is looked up
            .filter(s -> s.getEnumDefault() == null || !s.getEnumSymbols().contains(s.getEnumDefault()))
            .map(Schema::getFullName)
            .toList();

    // Then each has one, so readers survive symbols added later
    assertThat(withoutDefault).isEmpty();
  }

  @Test
  void shouldPutNullFirstAndDefaultToNullInEveryOptionalField() {
    // Given every field reachable from the events
    List<String> violations = new ArrayList<>();
    for (Schema record : records()) {
      for (Schema.Field field : record.getFields()) {
        Schema type = field.schema();
        boolean optional =
            type.getType() == Schema.Type.UNION
                && type.getTypes().stream().anyMatch(t -> t.getType() == Schema.Type.NULL);
        // When an optional field (a union with null) is checked
        if (optional
            && (type.getTypes().get(0).getType() != Schema.Type.NULL
                || field.defaultVal() != JsonProperties.NULL_VALUE
                || type.getTypes().size() != 2)) {
          violations.add(record.getName() + "." + field.name());
        }
      }
    }

    // Then it is ["null", T] with default null
    assertThat(violations).isEmpty();
  }

  @Test
  void shouldKeepOptionalLogicalTypesOutOfRecordsNestedInArrays() {
    // Given every record reachable through an array (Avro compares those with GenericData, which
    // has no logical-type conversions and cannot resolve a union holding an Instant, so equals()
    // of the enclosing record would throw)
    Map<String, Schema> inArrays = new LinkedHashMap<>();
    for (Schema record : records()) {
      for (Schema.Field field : record.getFields()) {
        arrayElements(field.schema()).forEach(element -> collect(element, inArrays));
      }
    }

    // When their fields are checked for a union with a logical-type branch
    List<String> violations = new ArrayList<>();
    for (Schema record : inArrays.values()) {
      if (record.getType() != Schema.Type.RECORD) {
        continue;
      }
      for (Schema.Field field : record.getFields()) {
        if (field.schema().getType() == Schema.Type.UNION
            && field.schema().getTypes().stream().anyMatch(t -> t.getLogicalType() != null)) {
          violations.add(record.getName() + "." + field.name());
        }
      }
    }

    // Then there is none
    assertThat(inArrays).isNotEmpty();
    assertThat(violations).isEmpty();
  }

  @Test
  void shouldNameEveryFieldInSnakeCase() {
    // Given every field reachable from the events
    List<String> notSnake =
        records().stream()
            .flatMap(r -> r.getFields().stream().map(f -> r.getName() + "." + f.name()))
            // When its name is checked
            .filter(qualified -> !SNAKE_CASE.matcher(qualified.substring(qualified.indexOf('.') + 1)).matches())
            .toList();

    // Then it is snake_case
    assertThat(notSnake).isEmpty();
  }

  @Test
  void shouldPutEveryNamedTypeInTheEventsNamespace() {
    // Given every named type reachable from the events
    // When their namespaces are collected
    Set<String> namespaces =
        allNamedTypes().values().stream().map(Schema::getNamespace).collect(Collectors.toSet());

    // Then there is exactly one
    assertThat(namespaces).containsExactly(NAMESPACE);
  }

  @Test
  void shouldOfferTheSameCommandsOnTheCommandTopicAndInTheAuditLog() {
    // Given the command union of RegistryCommand and of ModelEvent
    Schema commands = RegistryCommand.SCHEMA$.getField("command").schema();
    Schema audited = ModelEvent.SCHEMA$.getField("command").schema();

    // Then they list the same command records in the same order
    assertThat(audited).isEqualTo(commands);
    assertThat(commands.getTypes()).extracting(Schema::getName)
        .containsExactly("RegisterVersion", "SetAlias", "RemoveAlias", "ApproveVersion",
            "RejectVersion", "PromoteVersion", "RollbackAlias", "ArchiveVersion",
            "UnarchiveVersion", "SetTags", "ReportServingFailure");
  }

  @Test
  void shouldKeepTransactionAmountADoubleInMajorUnits() {
    // Given the demo source record
    Schema.Field amount = Transaction.SCHEMA$.getField("amount");

    // Then its amount is a plain double (documented choice: every consumer aggregates doubles)
    assertThat(amount.schema().getType()).isEqualTo(Schema.Type.DOUBLE);
    assertThat(amount.schema().getLogicalType()).isNull();
    assertThat(amount.doc()).contains("major units");
  }

  private static Schema schemaOf(Class<? extends SpecificRecord> type) {
    return SpecificData.get().getSchema(type);
  }

  private static Map<String, Schema> allNamedTypes() {
    Map<String, Schema> found = new LinkedHashMap<>();
    events().forEach(type -> collect(schemaOf(type), found));
    return found;
  }

  private static List<Schema> records() {
    return allNamedTypes().values().stream().filter(s -> s.getType() == Schema.Type.RECORD).toList();
  }

  private static void collect(Schema schema, Map<String, Schema> found) {
    switch (schema.getType()) {
      case RECORD -> {
        if (found.putIfAbsent(schema.getFullName(), schema) == null) {
          schema.getFields().forEach(f -> collect(f.schema(), found));
        }
      }
      case ENUM, FIXED -> found.putIfAbsent(schema.getFullName(), schema);
      case ARRAY -> collect(schema.getElementType(), found);
      case MAP -> collect(schema.getValueType(), found);
      case UNION -> schema.getTypes().forEach(t -> collect(t, found));
      default -> {
        // primitive: nothing to collect
      }
    }
  }

  private static List<Schema> arrayElements(Schema schema) {
    return switch (schema.getType()) {
      case ARRAY -> List.of(schema.getElementType());
      case MAP -> arrayElements(schema.getValueType());
      case UNION -> schema.getTypes().stream().flatMap(t -> arrayElements(t).stream()).toList();
      default -> List.of();
    };
  }

  private static Set<String> avscNames(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".avsc"))
          .map(n -> n.substring(0, n.length() - ".avsc".length()))
          .collect(Collectors.toCollection(TreeSet::new));
    }
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }
}
