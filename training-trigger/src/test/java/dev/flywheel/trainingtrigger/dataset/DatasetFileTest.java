package dev.flywheel.trainingtrigger.dataset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
