package dev.flywheel.featurestreams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.serde.AvroSize;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The binary form of an event on a repartition topic: a round trip keeps every component, and the
 * size the extract step checks before the write is the size written.
 */
class FeatureEventSerdeTest {

  private final FeatureEventSerde serde = new FeatureEventSerde();

  private static FeatureEvent event(Object... values) {
    return new FeatureEvent("märchant-ü", "e-1", 1_790_000_000_000L, values, 5L,
        "flywheel.data.transactions", 3, 42L, "card-1".getBytes(StandardCharsets.UTF_8),
        "värde".getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void shouldReadBackEveryComponentAndMeasureExactlyWhatItWrites() {
    // Given an event with text beyond ASCII, a number, an absent value and its source bytes
    FeatureEvent event = event(12.5, "Café €", null);

    // When it is written
    byte[] bytes = serde.serializer().serialize("t", event);

    // Then its size is what the extract step computes without writing it, and a bound above it
    assertThat(FeatureEventSerde.size(event, AvroSize::utf8Length)).isEqualTo(bytes.length);
    assertThat(FeatureEventSerde.size(event, s -> 3L * s.length()))
        .isGreaterThanOrEqualTo(bytes.length);
    // and it reads back whole
    FeatureEvent read = serde.deserializer().deserialize("t", bytes);
    assertThat(read).usingRecursiveComparison().isEqualTo(event);
  }
}
