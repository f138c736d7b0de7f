package dev.flywheel.trainingtrigger.dataset;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedOutputStream;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;

/**
 * The stored form of a dataset: an Avro container file of {@link #SCHEMA} rows, training rows
 * first, then holdout rows, each in event-time order, with the column names in the file metadata
 * ({@value #META_FEATURES}, {@value #META_CATEGORICAL}, JSON arrays). The container's sync marker
 * is fixed, so the same rows always give the same bytes and the same SHA-256.
 *
 * <p>For user commands, {@link #writeCsv} writes one split as CSV: {@code event_id, event_time,
 * label}, then one column per numeric feature (empty when missing).
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

  private DatasetFile() {}

  /** Writes both splits to {@code file}. @throws IOException when it cannot be written */
  public static void write(DatasetAssembler.Assembled a, Path file) throws IOException {
    Schema splitSchema = SCHEMA.getField("split").schema();
    GenericRecord rec = new GenericData.Record(SCHEMA);
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16);
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
  }

  /** Writes one split as CSV with a header row. */
  public static void writeCsv(Split s, List<String> featureNames, Path file) throws IOException {
    try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      w.write("event_id,event_time,label");
      for (String n : featureNames) {
        w.write(',');
        w.write(n);
      }
      w.newLine();
      for (int i = 0; i < s.rows(); i++) {
        w.write(s.eventIds()[i]);
        w.write(',');
        w.write(Long.toString(s.eventTimesMs()[i]));
        w.write(',');
        w.write(Float.toString(s.labels()[i]));
        for (int j = 0; j < s.featureCount(); j++) {
          w.write(',');
          float v = s.value(i, j);
          if (!Float.isNaN(v)) {
            w.write(Float.toString(v));
          }
        }
        w.newLine();
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
