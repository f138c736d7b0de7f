package dev.flywheel.ingest.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class FileFormatTest {

  @Test
  void shouldTellTheFormatByExtensionInAnyCase() {
    assertThat(FileFormat.of(Path.of("dir", "events.jsonl"))).isEqualTo(FileFormat.JSON_LINES);
    assertThat(FileFormat.of(Path.of("events.NDJSON"))).isEqualTo(FileFormat.JSON_LINES);
    assertThat(FileFormat.of(Path.of("events.Csv"))).isEqualTo(FileFormat.CSV);
  }

  @Test
  void shouldNameTheUnderstoodExtensionsForAnyOther() {
    assertThatThrownBy(() -> FileFormat.of(Path.of("events.json")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(".jsonl or .ndjson")
        .hasMessageContaining(".csv");
  }
}
