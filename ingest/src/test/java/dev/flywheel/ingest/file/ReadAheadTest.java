package dev.flywheel.ingest.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class ReadAheadTest {

  /** Reads {@code lines} lines, then fails with {@code failure}. */
  private static RecordReader failingAfter(int lines, Throwable failure) {
    return new RecordReader() {
      private int read;

      @Override
      public SourceLine next() throws IOException {
        if (read == lines) {
          if (failure instanceof IOException io) {
            throw io;
          }
          if (failure instanceof Error error) {
            throw error;
          }
          throw (RuntimeException) failure;
        }
        read++;
        return SourceLine.valid(read, "{}", JsonNodeFactory.instance.objectNode());
      }

      @Override
      public long bytesRead() {
        return read;
      }

      @Override
      public void close() {}
    };
  }

  /** Lines 1 to {@code n}, in order. */
  private static List<Long> firstLines(int n) {
    return java.util.stream.LongStream.rangeClosed(1, n).boxed().toList();
  }

  private static List<Long> drain(FileProducer.ReadAhead<Long> ahead) throws Exception {
    List<Long> lines = new ArrayList<>();
    for (List<Long> batch = ahead.next(); batch != null; batch = ahead.next()) {
      lines.addAll(batch);
    }
    return lines;
  }

  @Test
  @Timeout(60) // guards against the hang this test is about; not a speed limit
  void shouldHandOverTheEndAndTheErrorWhenReadingRunsOutOfMemory() {
    // Given a reader that runs out of memory after a few lines
    OutOfMemoryError oom = new OutOfMemoryError("Java heap space");
    try (FileProducer.ReadAhead<Long> ahead = new FileProducer.ReadAhead<>(
        failingAfter(1000, oom), SourceLine::lineNumber, "test-read")) {

      // When the lines are taken, Then the error arrives after the lines read before it
      List<Long> seen = new ArrayList<>();
      assertThatThrownBy(() -> {
        for (List<Long> batch = ahead.next(); batch != null; batch = ahead.next()) {
          seen.addAll(batch);
        }
      }).isSameAs(oom);
      assertThat(seen).isNotEmpty().isEqualTo(firstLines(seen.size()));
    }
  }

  @Test
  @Timeout(60) // guards against a hang; not a speed limit
  void shouldHandOverTheEndAndTheErrorWhenPreparingALineFailsWithAnError() {
    // Given a step that fails with an Error on the third line
    StackOverflowError overflow = new StackOverflowError();
    try (FileProducer.ReadAhead<Long> ahead = new FileProducer.ReadAhead<>(
        failingAfter(10, new IllegalStateException("unused")), line -> {
          if (line.lineNumber() == 3) {
            throw overflow;
          }
          return line.lineNumber();
        }, "test-read")) {

      // When the lines are taken, Then the error arrives, not a wait for ever
      assertThatThrownBy(() -> drain(ahead)).isSameAs(overflow);
    }
  }

  @Test
  void shouldHandOverEveryLineThenTheEnd() throws Exception {
    // Given a reader of 1500 lines that then fails as an IOException
    IOException broken = new IOException("disk gone");
    try (FileProducer.ReadAhead<Long> ahead = new FileProducer.ReadAhead<>(
        failingAfter(1500, broken), SourceLine::lineNumber, "test-read")) {

      // Then the lines come in order, then the IOException, at every later call too (the run
      // stops at it)
      List<Long> seen = new ArrayList<>();
      assertThatThrownBy(() -> {
        for (List<Long> batch = ahead.next(); batch != null; batch = ahead.next()) {
          seen.addAll(batch);
        }
      }).isSameAs(broken);
      assertThat(seen).isNotEmpty().isEqualTo(firstLines(seen.size()));
      assertThatThrownBy(ahead::next).isSameAs(broken);
    }
  }
}
