package dev.flywheel.featurestreams;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;

/**
 * A feature group checked against its source schema and compiled into what the engine updates:
 * the source fields it reads, its filters, its columns (one per field, filter and tile size, so
 * that {@code sum}, {@code mean} and {@code max} of {@code amount} over {@code 1h} share one set
 * of tiles), the windows over them, and the features.
 *
 * <p>Built by {@link #of(FeatureGroupConfig, Schema, String)}, which refuses a declaration naming
 * a field the schema lacks or an aggregation the field's type cannot take, with a message naming
 * both.
 */
public final class FeatureGroupPlan {

  /** The record property in which ingest stores a source's event-time field. */
  public static final String SOURCE_TIME_PROPERTY = "flywheel.source.time";

  /** The record property in which ingest stores a source's key field. */
  public static final String SOURCE_KEY_PROPERTY = "flywheel.source.key";

  /** The event-id field used when the group does not name one and the source has it. */
  public static final String DEFAULT_EVENT_ID_FIELD = "event_id";

  /** A source field the group reads: numeric values become doubles, others their text. */
  record FieldSlot(String name, boolean numeric) {}

  /**
   * A set of tiles: events of one field (or none) passing one filter (or none), tiled by {@code
   * tileMs} ({@link Long#MAX_VALUE}: one lifetime tile), keeping at most {@code keepTiles} tiles.
   */
  record Column(int field, int filter, long tileMs, long keepTiles, boolean numeric,
      boolean firstLast, boolean distinct) {

    /**
     * The most distinct values a tile of this column keeps exactly before it becomes a sketch:
     * the group's {@code distinctExactUpTo}, but at most what keeps the column's exact values
     * within {@link #DISTINCT_EXACT_BYTES_PER_COLUMN} over all its tiles, and never fewer than a
     * sketch's size in values (below that, the exact form is the smaller one anyway).
     */
    int distinctExactPerTile(int distinctExactUpTo) {
      long budget = DISTINCT_EXACT_BYTES_PER_COLUMN / (Long.BYTES * keepTiles);
      return (int) Math.min(distinctExactUpTo, Math.max(Tile.HLL_BYTES / Long.BYTES, budget));
    }

    /**
     * How many tiles of this column an entity may hold at most: those its longest window reaches
     * back from the acceptance floor (the grace period's boundary, or the early seal if later),
     * which no sealed event is after.
     */
    long maxTiles() {
      return tileMs == Long.MAX_VALUE ? 1 : keepTiles;
    }
  }

  /** The bytes of exact distinct values a column's tiles keep at most, together: 64 KiB. */
  static final long DISTINCT_EXACT_BYTES_PER_COLUMN = 64 * 1024;

  /**
   * The most an entity's state may take, estimated for its worst case at start: 768 KiB, to keep
   * it (with text values longer than estimated, the key and the record's overhead) within the
   * 1 MiB that producers ({@code max.request.size}) and the changelog topic ({@code
   * max.message.bytes}) accept by default. A state record refused there would fail its task on
   * every retry, stalling its partitions.
   */
  static final long MAX_STATE_BYTES = 768 * 1024;

  /** The bytes a text value is estimated at in the worst case of {@link #estimateMaxStateBytes}. */
  static final int TEXT_ESTIMATE_BYTES = 24;

  /** A window over a column. */
  record WindowedColumn(int column, FeatureWindow window) {}

  /** A feature: its aggregation over a windowed column, or a ratio of two other features. */
  record PlannedFeature(String name, Aggregation aggregation, int windowed, boolean categorical,
      int numerator, int denominator) {}

  private final FeatureGroupConfig config;
  private final String schemaDescription;
  private final String entityKeyField;
  private final String timeField;
  private final boolean timeMicros;
  private final String eventIdField;
  private final boolean entityKeyIsSourceKey;
  private final List<FieldSlot> fields;
  private final List<FeatureFilter> filters;
  private final List<Integer> filterFields;
  private final List<Column> columns;
  private final List<WindowedColumn> windowed;
  private final List<PlannedFeature> features;
  private final int layout;

  private FeatureGroupPlan(FeatureGroupConfig config, String schemaDescription,
      String entityKeyField, String timeField, boolean timeMicros, String eventIdField,
      boolean entityKeyIsSourceKey, List<FieldSlot> fields, List<FeatureFilter> filters,
      List<Integer> filterFields, List<Column> columns, List<WindowedColumn> windowed,
      List<PlannedFeature> features) {
    this.config = config;
    this.schemaDescription = schemaDescription;
    this.entityKeyField = entityKeyField;
    this.timeField = timeField;
    this.timeMicros = timeMicros;
    this.eventIdField = eventIdField;
    this.entityKeyIsSourceKey = entityKeyIsSourceKey;
    this.fields = List.copyOf(fields);
    this.filters = List.copyOf(filters);
    this.filterFields = List.copyOf(filterFields);
    this.columns = List.copyOf(columns);
    this.windowed = List.copyOf(windowed);
    this.features = List.copyOf(features);
    // From the text of the declaration's parts, never from identity hash codes (an enum's
    // hashCode differs between JVMs): the same declaration gives the same layout in every run.
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update((fields + "|" + filters + "|" + columns)
        .getBytes(java.nio.charset.StandardCharsets.UTF_8));
    this.layout = (int) crc.getValue();
  }

  /**
   * Checks {@code config} against the source schema and compiles it.
   *
   * @param schema the latest value schema of the source topic
   * @param schemaDescription how messages name the schema, e.g. {@code
   *     flywheel.data.transactions-value v3}
   * @throws InvalidFeatureGroupException with every problem found
   */
  public static FeatureGroupPlan of(FeatureGroupConfig config, Schema schema,
      String schemaDescription) {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(schema, "schema");
    List<String> problems = new ArrayList<>();
    String group = config.name();
    if (schema.getType() != Schema.Type.RECORD) {
      throw new InvalidFeatureGroupException(group, List.of("schema " + schemaDescription + " is a "
          + schema.getType().getName() + ", not a record; a source must be an Avro record"));
    }
    String fieldList = schema.getFields().stream().map(Schema.Field::name).toList().toString();

    // entity key
    Schema keyType = fieldType(schema, config.entityKey());
    if (keyType == null) {
      problems.add("entityKey '" + config.entityKey() + "' is a field which schema "
          + schemaDescription + " does not have (it has " + fieldList + ")");
    } else if (!keyType(keyType)) {
      problems.add("entityKey '" + config.entityKey() + "' is a " + describe(keyType) + " in "
          + schemaDescription + "; an entity key must be a string, int, long or enum field");
    }
    // event time
    String timeField = config.eventTime() != null ? config.eventTime()
        : schema.getProp(SOURCE_TIME_PROPERTY);
    boolean micros = false;
    if (timeField == null) {
      problems.add("no eventTime is given and schema " + schemaDescription + " declares no time"
          + " field (record property " + SOURCE_TIME_PROPERTY + "); add eventTime: <field>");
    } else {
      Schema t = fieldType(schema, timeField);
      if (t == null) {
        problems.add("eventTime '" + timeField + "' is a field which schema " + schemaDescription
            + " does not have (it has " + fieldList + ")");
      } else if (t.getType() != Schema.Type.LONG) {
        problems.add("eventTime '" + timeField + "' is a " + describe(t) + " in "
            + schemaDescription + "; event time must be a long (timestamp-millis,"
            + " timestamp-micros or epoch milliseconds)");
      } else {
        LogicalType lt = t.getLogicalType();
        micros = lt instanceof LogicalTypes.TimestampMicros
            || lt instanceof LogicalTypes.LocalTimestampMicros;
      }
    }
    // event id
    String eventId = config.eventId();
    if (eventId != null) {
      Schema t = fieldType(schema, eventId);
      if (t == null) {
        problems.add("eventId '" + eventId + "' is a field which schema " + schemaDescription
            + " does not have (it has " + fieldList + ")");
      } else if (!keyType(t)) {
        problems.add("eventId '" + eventId + "' is a " + describe(t) + " in " + schemaDescription
            + "; an event id must be a string, int, long or enum field");
      }
    } else if (fieldType(schema, DEFAULT_EVENT_ID_FIELD) != null
        && keyType(fieldType(schema, DEFAULT_EVENT_ID_FIELD))) {
      eventId = DEFAULT_EVENT_ID_FIELD;
    }

    List<FieldSlot> fields = new ArrayList<>();
    List<FeatureFilter> filters = new ArrayList<>();
    List<Integer> filterFields = new ArrayList<>();
    List<Column> columns = new ArrayList<>();
    List<WindowedColumn> windowed = new ArrayList<>();
    List<PlannedFeature> planned = new ArrayList<>();
    Map<String, Integer> featureIndex = new LinkedHashMap<>();
    for (FeatureConfig f : config.features()) {
      featureIndex.put(f.name(), featureIndex.size());
    }
    for (FeatureConfig f : config.features()) {
      String where = "feature '" + f.name() + "'";
      if (f.aggregation() == Aggregation.RATIO) {
        planned.add(new PlannedFeature(f.name(), f.aggregation(), -1, false,
            featureIndex.getOrDefault(f.numerator(), -1),
            featureIndex.getOrDefault(f.denominator(), -1)));
        continue;
      }
      int fieldSlot = -1;
      boolean categorical = false;
      if (f.field() != null) {
        Schema t = fieldType(schema, f.field());
        if (t == null) {
          problems.add(where + " references field '" + f.field() + "' which schema "
              + schemaDescription + " does not have (it has " + fieldList + ")");
          continue;
        }
        Boolean numeric = numeric(t);
        if (numeric == null) {
          problems.add(where + " takes " + f.aggregation().yamlName() + " of field '" + f.field()
              + "', a " + describe(t) + " in " + schemaDescription + "; features aggregate only"
              + " int, long, float, double, string, enum and boolean fields");
          continue;
        }
        if (f.aggregation().numericOnly() && !numeric) {
          problems.add(where + " takes " + f.aggregation().yamlName() + " of field '" + f.field()
              + "', a " + describe(t) + " in " + schemaDescription + "; "
              + f.aggregation().yamlName() + " needs an int, long, float or double field");
          continue;
        }
        categorical = !numeric
            && (f.aggregation() == Aggregation.LAST || f.aggregation() == Aggregation.FIRST);
        fieldSlot = slot(fields, new FieldSlot(f.field(), numeric));
      }
      int filterSlot = -1;
      if (f.filter() != null) {
        FeatureFilter filter = f.filter();
        Schema t = fieldType(schema, filter.field());
        if (t == null) {
          problems.add(where + " filters on field '" + filter.field() + "' which schema "
              + schemaDescription + " does not have (it has " + fieldList + ")");
          continue;
        }
        Boolean numeric = numeric(t);
        if (numeric == null) {
          problems.add(where + " filters on field '" + filter.field() + "', a " + describe(t)
              + " in " + schemaDescription + "; filters compare int, long, float, double,"
              + " string, enum and boolean fields");
          continue;
        }
        if (numeric && filter.number() == null) {
          problems.add(where + " filters numeric field '" + filter.field() + "' with '"
              + filter.literal() + "', which is not a number");
          continue;
        }
        if (!numeric && filter.op().ordering()) {
          problems.add(where + " filters field '" + filter.field() + "', a " + describe(t)
              + " in " + schemaDescription + ", with " + filter.op().symbol()
              + "; only == and != compare non-numeric fields");
          continue;
        }
        if (t.getType() == Schema.Type.ENUM && !t.getEnumSymbols().contains(filter.literal())) {
          problems.add(where + " filters enum field '" + filter.field() + "' on '"
              + filter.literal() + "', which is not one of its symbols " + t.getEnumSymbols());
          continue;
        }
        int fieldOfFilter = slot(fields, new FieldSlot(filter.field(), numeric));
        int before = filters.size();
        filterSlot = slot(filters, filter);
        if (filters.size() > before) {
          filterFields.add(fieldOfFilter);
        }
      }
      long tileMs = f.window().tileMs();
      boolean needsNumeric = switch (f.aggregation()) {
        case SUM, MEAN, MIN, MAX, STDDEV -> true;
        default -> false;
      };
      boolean needsFirstLast = f.aggregation() == Aggregation.LAST
          || f.aggregation() == Aggregation.FIRST || f.aggregation() == Aggregation.TIME_SINCE_LAST;
      boolean needsDistinct = f.aggregation() == Aggregation.DISTINCT_COUNT;
      int col = -1;
      for (int i = 0; i < columns.size(); i++) {
        Column c = columns.get(i);
        if (c.field() == fieldSlot && c.filter() == filterSlot && c.tileMs() == tileMs) {
          col = i;
          columns.set(i, new Column(c.field(), c.filter(), c.tileMs(),
              Math.max(c.keepTiles(), f.window().tiles()), c.numeric() || needsNumeric,
              c.firstLast() || needsFirstLast, c.distinct() || needsDistinct));
        }
      }
      if (col < 0) {
        col = columns.size();
        columns.add(new Column(fieldSlot, filterSlot, tileMs, f.window().tiles(), needsNumeric,
            needsFirstLast, needsDistinct));
      }
      int w = slot(windowed, new WindowedColumn(col, f.window()));
      planned.add(new PlannedFeature(f.name(), f.aggregation(), w, categorical, -1, -1));
    }
    for (PlannedFeature p : planned) {
      if (p.aggregation() == Aggregation.RATIO) {
        for (int operand : new int[] {p.numerator(), p.denominator()}) {
          if (operand >= 0 && operand < planned.size() && planned.get(operand).categorical()) {
            problems.add("ratio '" + p.name() + "' divides categorical feature '"
                + planned.get(operand).name() + "'; a ratio needs two numeric features");
          }
        }
      }
    }
    if (filters.size() > Long.SIZE) {
      problems.add("it declares " + filters.size() + " different filters; a group takes at most "
          + Long.SIZE + " (split it into several groups)");
    }
    if (problems.isEmpty()) {
      long bytes = estimateMaxStateBytes(config, fields, columns);
      if (bytes > MAX_STATE_BYTES) {
        problems.add("an entity's state may take up to " + bytes / 1024 + " KiB, more than the "
            + MAX_STATE_BYTES / 1024 + " KiB it may take (" + largestParts(config, fields,
                columns, planned, windowed) + "); shorten the longest windows of distinct_count,"
            + " lower maxEventsInGrace, or move features into a group of their own");
      }
    }
    if (!problems.isEmpty()) {
      throw new InvalidFeatureGroupException(group, problems);
    }
    String sourceKey = schema.getProp(SOURCE_KEY_PROPERTY);
    return new FeatureGroupPlan(config, schemaDescription, config.entityKey(), timeField, micros,
        eventId, config.entityKey().equals(sourceKey), fields, filters, filterFields, columns,
        windowed, planned);
  }

  /**
   * An entity's state in its worst case, in bytes, as {@link EntityStateSerde} writes it: every
   * column holding all the tiles it may, each tile with every part at its largest (distinct values
   * at the column's exact limit or a sketch, whichever is larger), plus {@code maxEventsInGrace}
   * held events; text values count {@link #TEXT_ESTIMATE_BYTES} each.
   */
  static long estimateMaxStateBytes(FeatureGroupConfig config, List<FieldSlot> fields,
      List<Column> columns) {
    long bytes = 64 + TEXT_ESTIMATE_BYTES + heldEventsBytes(config, fields);
    for (Column c : columns) {
      bytes += c.maxTiles() * tileBytes(config, fields, c);
    }
    return bytes;
  }

  /** The {@code maxEventsInGrace} events an entity may hold, at their largest. */
  private static long heldEventsBytes(FeatureGroupConfig config, List<FieldSlot> fields) {
    long event = 3 * 10;
    for (FieldSlot f : fields) {
      event += valueBytes(f.numeric());
    }
    return config.maxEventsInGrace() * event;
  }

  private static long tileBytes(FeatureGroupConfig config, List<FieldSlot> fields, Column c) {
    long bytes = 10 + 10;
    if (c.numeric()) {
      bytes += 4 * Double.BYTES;
    }
    if (c.firstLast()) {
      bytes += 2 * (10 + 1 + valueBytes(c.field() < 0 || fields.get(c.field()).numeric()));
    }
    if (c.distinct()) {
      bytes += 1 + 5 + Math.max(Tile.HLL_BYTES,
          (long) Long.BYTES * c.distinctExactPerTile(config.distinctExactUpTo()));
    }
    return bytes;
  }

  private static int valueBytes(boolean numeric) {
    return numeric ? 1 + Double.BYTES : 1 + TEXT_ESTIMATE_BYTES;
  }

  /**
   * The three parts of the state taking the most, for the message: columns, named by a feature
   * over each, and the events held within the grace period.
   */
  private static String largestParts(FeatureGroupConfig config, List<FieldSlot> fields,
      List<Column> columns, List<PlannedFeature> planned, List<WindowedColumn> windowed) {
    Map<String, Long> parts = new LinkedHashMap<>();
    parts.put("maxEventsInGrace " + config.maxEventsInGrace() + " held events: "
        + heldEventsBytes(config, fields) / 1024 + " KiB", heldEventsBytes(config, fields));
    for (int i = 0; i < columns.size(); i++) {
      Column c = columns.get(i);
      // name the feature that makes the column large: a distinct count, over the longest window
      String feature = "?";
      long weight = -1;
      for (PlannedFeature p : planned) {
        if (p.windowed() >= 0 && windowed.get(p.windowed()).column() == i) {
          long w = windowed.get(p.windowed()).window().tiles()
              + (p.aggregation() == Aggregation.DISTINCT_COUNT ? Integer.MAX_VALUE : 0);
          if (w > weight) {
            weight = w;
            feature = p.name();
          }
        }
      }
      long bytes = c.maxTiles() * tileBytes(config, fields, c);
      parts.put("'" + feature + "' and the features sharing its tiles: " + bytes / 1024
          + " KiB in " + c.maxTiles() + " tiles", bytes);
    }
    return String.join(", ", parts.entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .limit(3).map(Map.Entry::getKey).toList());
  }

  private static <T> int slot(List<T> list, T value) {
    int i = list.indexOf(value);
    if (i >= 0) {
      return i;
    }
    list.add(value);
    return list.size() - 1;
  }

  /** The field's type with a nullable union unwrapped; null when the schema has no such field. */
  private static Schema fieldType(Schema record, String name) {
    Schema.Field field = record.getField(name);
    if (field == null) {
      return null;
    }
    Schema t = field.schema();
    if (t.getType() == Schema.Type.UNION) {
      List<Schema> branches = t.getTypes().stream()
          .filter(b -> b.getType() != Schema.Type.NULL).toList();
      if (branches.size() == 1) {
        return branches.get(0);
      }
    }
    return t;
  }

  /** True for numeric, false for text-like, null for types features cannot take. */
  private static Boolean numeric(Schema t) {
    return switch (t.getType()) {
      case INT, LONG, FLOAT, DOUBLE -> Boolean.TRUE;
      case STRING, ENUM, BOOLEAN -> Boolean.FALSE;
      default -> null;
    };
  }

  private static boolean keyType(Schema t) {
    return switch (t.getType()) {
      case STRING, INT, LONG, ENUM -> true;
      default -> false;
    };
  }

  private static String describe(Schema t) {
    LogicalType lt = t.getLogicalType();
    if (t.getType() == Schema.Type.UNION) {
      return "union " + t.getTypes().stream().map(Schema::getName).toList();
    }
    return (lt != null ? lt.getName() + " " : "") + t.getType().getName();
  }

  /** The group's declaration. */
  public FeatureGroupConfig config() {
    return config;
  }

  /** The group name. */
  public String name() {
    return config.name();
  }

  /** The schema the plan was checked against, as messages name it. */
  public String schemaDescription() {
    return schemaDescription;
  }

  /** The field holding the entity id. */
  public String entityKeyField() {
    return entityKeyField;
  }

  /** The event-time field. */
  public String timeField() {
    return timeField;
  }

  /** Whether event time is in microseconds (timestamp-micros). */
  public boolean timeMicros() {
    return timeMicros;
  }

  /** The event-id field; null when events are identified by topic/partition/offset. */
  public String eventIdField() {
    return eventIdField;
  }

  /**
   * Whether the entity key is the field the source topic is keyed by (its declared key), so the
   * topology reads the topic as partitioned; otherwise it repartitions by the entity.
   */
  public boolean entityKeyIsSourceKey() {
    return entityKeyIsSourceKey;
  }

  /** Whether the feature at {@code index} (declared order) is categorical (text). */
  public boolean categorical(int index) {
    return features.get(index).categorical();
  }

  /** Names of the numeric features, in declared order. */
  public List<String> numericFeatureNames() {
    return features.stream().filter(f -> !f.categorical()).map(PlannedFeature::name).toList();
  }

  /** Names of the categorical features, in declared order. */
  public List<String> categoricalFeatureNames() {
    return features.stream().filter(PlannedFeature::categorical).map(PlannedFeature::name)
        .toList();
  }

  List<FieldSlot> fields() {
    return fields;
  }

  List<FeatureFilter> filters() {
    return filters;
  }

  /** For each filter, the field slot it reads. */
  List<Integer> filterFields() {
    return filterFields;
  }

  List<Column> columns() {
    return columns;
  }

  List<WindowedColumn> windowed() {
    return windowed;
  }

  List<PlannedFeature> features() {
    return features;
  }

  /** A fingerprint of the state layout; stored state of another layout is not read. */
  int layout() {
    return layout;
  }

  /** Every column, window and feature, for logs. */
  public Map<String, Object> describe() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("group", name());
    out.put("schema", schemaDescription);
    out.put("entityKey", entityKeyField);
    out.put("eventTime", timeField);
    out.put("eventId", eventIdField);
    out.put("columns", columns.size());
    out.put("windows", windowed.size());
    out.put("features", features.size());
    return Collections.unmodifiableMap(out);
  }
}
