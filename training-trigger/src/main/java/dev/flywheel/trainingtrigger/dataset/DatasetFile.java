package dev.flywheel.trainingtrigger.dataset;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SequenceWriter;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import java.io.BufferedOutputStream;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;

/**
 * The stored form of a dataset: an Avro container file of {@link #SCHEMA} rows, training rows
 * first, then holdout rows, each in event-time order, with the column names in the file metadata
 * ({@value #META_FEATURES}, {@value #META_CATEGORICAL}, JSON arrays). The container's sync marker
 * is fixed, so the same rows always give the same bytes and the same SHA-256.
 *
 * <p>{@link #read} reads it back. For user commands, {@link #writeCsv} writes one split as CSV:
 * {@code event_id, event_time, label}, then one column per numeric feature (empty when missing).
 */
public final class DatasetFile {

  /** Metadata key of the numeric feature names. */
  public static final String META_FEATURES = "flywheel.feature_names";
  /** Metadata key of the categorical feature names. */
  public static final String META_CATEGORICAL = "flywheel.categorical_names";

  /** One row. */
  public static final Schema SCHEMA = new Schema.Parser().parse("""
      {"type": "record", "name": "DatasetRow", "namespace": "dev.flywheel.trainingtrigger",
       "doc": "One labelled row of a training dataset.",
       "fields": [
        {"name": "event_id", "type": "string"},
        {"name": "event_time", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "split", "type": {"type": "enum", "name": "SplitName",
          "symbols": ["TRAIN", "HOLDOUT"]}},
        {"name": "label", "type": "double"},
        {"name": "features", "type": {"type": "array", "items": "float"},
         "doc": "Numeric features in the order of flywheel.feature_names; NaN when missing."},
        {"name": "categorical", "type": {"type": "array", "items": ["null", "string"]},
         "doc": "Categorical features in the order of flywheel.categorical_names."}
       ]}
      """);

  private static final byte[] SYNC = Arrays.copyOf(
      "flywheel.dataset".getBytes(StandardCharsets.US_ASCII), 16);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final CsvMapper CSV = new CsvMapper();

  private DatasetFile() {}

  /**
   * Writes both splits to {@code file}, through a temporary file moved into place, so that the
   * name holds a whole dataset or nothing.
   *
   * @throws IOException when it cannot be written
   */
  public static void write(DatasetAssembler.Assembled a, Path file) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Schema splitSchema = SCHEMA.getField("split").schema();
    GenericRecord rec = new GenericData.Record(SCHEMA);
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16);
        DataFileWriter<GenericRecord> w = new DataFileWriter<>(
            new GenericDatumWriter<GenericRecord>(SCHEMA))) {
      w.setMeta(META_FEATURES, json(a.featureNames()));
      w.setMeta(META_CATEGORICAL, json(a.categoricalNames()));
      w.create(SCHEMA, out, SYNC);
      for (Split s : List.of(a.train(), a.holdout())) {
        GenericData.EnumSymbol split = new GenericData.EnumSymbol(splitSchema,
            s == a.train() ? "TRAIN" : "HOLDOUT");
        int f = s.featureCount();
        for (int i = 0; i < s.rows(); i++) {
          List<Float> values = new ArrayList<>(f);
          for (int j = 0; j < f; j++) {
            values.add(s.value(i, j));
          }
          rec.put("event_id", s.eventIds()[i]);
          rec.put("event_time", s.eventTimesMs()[i]);
          rec.put("split", split);
          rec.put("label", (double) s.labels()[i]);
          rec.put("features", values);
          rec.put("categorical", Arrays.asList(s.categorical()[i]));
          w.append(rec);
        }
      }
    }
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /**
   * Reads back a file {@link #write} wrote.
   *
   * @throws IOException when it cannot be read or is not a dataset file
   */
  public static DatasetAssembler.Assembled read(Path file) throws IOException {
    try (DataFileReader<GenericRecord> r = new DataFileReader<>(file.toFile(),
        new GenericDatumReader<>(SCHEMA))) {
      List<String> features = names(r.getMetaString(META_FEATURES), file);
      List<String> categorical = names(r.getMetaString(META_CATEGORICAL), file);
      Map<String, List<GenericRecord>> rows = new HashMap<>();
      for (GenericRecord rec : r) {
        rows.computeIfAbsent(rec.get("split").toString(), k -> new ArrayList<>()).add(rec);
      }
      return new DatasetAssembler.Assembled(features, categorical,
          split(rows.getOrDefault("TRAIN", List.of()), features.size(), categorical.size()),
          split(rows.getOrDefault("HOLDOUT", List.of()), features.size(), categorical.size()));
    }
  }

  @SuppressWarnings("unchecked")
  private static Split split(List<GenericRecord> rows, int featureCount, int categoricalCount) {
    int n = rows.size();
    String[] ids = new String[n];
    long[] times = new long[n];
    float[] labels = new float[n];
    float[] x = new float[n * featureCount];
    String[][] categorical = new String[n][];
    for (int i = 0; i < n; i++) {
      GenericRecord rec = rows.get(i);
      ids[i] = rec.get("event_id").toString();
      times[i] = (Long) rec.get("event_time");
      labels[i] = (float) (double) (Double) rec.get("label");
      List<Float> values = (List<Float>) rec.get("features");
      for (int j = 0; j < featureCount; j++) {
        x[i * featureCount + j] = values.get(j);
      }
      List<Object> cats = (List<Object>) rec.get("categorical");
      categorical[i] = new String[categoricalCount];
      for (int j = 0; j < categoricalCount; j++) {
        categorical[i][j] = cats.get(j) == null ? null : cats.get(j).toString();
      }
    }
    return new Split(ids, times, labels, x, featureCount, categorical);
  }

  private static List<String> names(String json, Path file) throws IOException {
    if (json == null) {
      throw new IOException(file + " is not a Flywheel dataset file: it has no column names");
    }
    return List.of(JSON.readValue(json, String[].class));
  }

  /**
   * Writes one split as CSV (RFC 4180) with a header row: event_id, event_time, label, then the
   * features. Cells holding a comma, a quote or a line break (an event id is any string a source
   * sent) are quoted; an undefined feature is an empty cell.
   */
  public static void writeCsv(Split s, List<String> featureNames, Path file) throws IOException {
    String[] cells = new String[3 + featureNames.size()];
    try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
        SequenceWriter rows = CSV.writer(CsvSchema.emptySchema()).writeValues(w)) {
      cells[0] = "event_id";
      cells[1] = "event_time";
      cells[2] = "label";
      for (int j = 0; j < featureNames.size(); j++) {
        cells[3 + j] = featureNames.get(j);
      }
      rows.write(cells);
      for (int i = 0; i < s.rows(); i++) {
        cells[0] = s.eventIds()[i];
        cells[1] = Long.toString(s.eventTimesMs()[i]);
        cells[2] = Float.toString(s.labels()[i]);
        for (int j = 0; j < s.featureCount(); j++) {
          float v = s.value(i, j);
          cells[3 + j] = Float.isNaN(v) ? "" : Float.toString(v);
        }
        rows.write(cells);
      }
    }
  }

  private static String json(List<String> names) {
    try {
      return JSON.writeValueAsString(names);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
