package dev.flywheel.trainingtrigger.dataset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetFileTest {

  @TempDir Path dir;

  @Test
  void shouldReadBackEveryRowOfBothSplitsAsWritten() throws Exception {
    // Given a dataset with a missing numeric value and a missing categorical value
    Split train = new Split(new String[] {"e1", "e2"}, new long[] {1_000, 2_000},
        new float[] {0f, 1f}, new float[] {1.5f, Float.NaN, 3f, 4.25f}, 2,
        new String[][] {{"DE"}, {null}});
    Split holdout = new Split(new String[] {"e3"}, new long[] {3_000}, new float[] {1f},
        new float[] {-2f, 0f}, 2, new String[][] {{"FR"}});
    DatasetAssembler.Assembled written = new DatasetAssembler.Assembled(
        List.of("amount_sum_1h", "count_24h"), List.of("country"), train, holdout);
    Path file = dir.resolve("dataset.avro");

    // When it is written and read back
    DatasetFile.write(written, file);
    DatasetAssembler.Assembled read = DatasetFile.read(file);

    // Then names, splits and values are the same, and no temporary file is left
    assertThat(read.featureNames()).isEqualTo(written.featureNames());
    assertThat(read.categoricalNames()).isEqualTo(written.categoricalNames());
    for (Split[] pair : new Split[][] {{train, read.train()}, {holdout, read.holdout()}}) {
      assertThat(pair[1].eventIds()).containsExactly(pair[0].eventIds());
      assertThat(pair[1].eventTimesMs()).containsExactly(pair[0].eventTimesMs());
      assertThat(pair[1].labels()).containsExactly(pair[0].labels());
      assertThat(pair[1].x()).containsExactly(pair[0].x());
      assertThat(pair[1].featureCount()).isEqualTo(2);
      assertThat(pair[1].categorical()).isDeepEqualTo(pair[0].categorical());
    }
    try (var files = Files.list(dir)) {
      assertThat(files).containsExactly(file);
    }
  }

  @Test
  void shouldQuoteInTheCsvWhatWouldBreakItsColumns() throws Exception {
    // Given event ids with a comma, a quote and a line break, and an undefined feature
    Split split = new Split(new String[] {"tx,1", "say \"hi\"", "line\nbreak"},
        new long[] {1_000, 2_000, 3_000}, new float[] {0f, 1f, 0f},
        new float[] {1.5f, Float.NaN, 3f}, 1, new String[][] {{}, {}, {}});
    Path file = dir.resolve("train.csv");

    // When the split is written as CSV
    DatasetFile.writeCsv(split, List.of("amount"), file);

    // Then an RFC 4180 reader reads every row back with its four columns and its values
    List<List<String>> rows = new ArrayList<>();
    try (MappingIterator<List<String>> it = new CsvMapper()
        .enable(CsvParser.Feature.WRAP_AS_ARRAY).readerForListOf(String.class)
        .readValues(file.toFile())) {
      it.forEachRemaining(rows::add);
    }
    assertThat(rows).containsExactly(
        List.of("event_id", "event_time", "label", "amount"),
        List.of("tx,1", "1000", "0.0", "1.5"),
        List.of("say \"hi\"", "2000", "1.0", ""),
        List.of("line\nbreak", "3000", "0.0", "3.0"));
  }

  @Test
  void shouldRefuseAnAvroFileThatIsNotADataset() throws Exception {
    // Given an Avro container without the dataset's column names
    Path file = dir.resolve("other.avro");
    try (DataFileWriter<GenericRecord> w = new DataFileWriter<>(
        new GenericDatumWriter<>(DatasetFile.SCHEMA))) {
      w.create(DatasetFile.SCHEMA, file.toFile());
    }
    // Then
    assertThatThrownBy(() -> DatasetFile.read(file)).isInstanceOf(IOException.class)
        .hasMessageContaining("is not a Flywheel dataset file");
  }
}
