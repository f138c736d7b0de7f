package dev.flywheel.driftdetector.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;

class DriftInputTest {

  // labelled scores never touch the Avro serdes
  private final Serde<DriftInput> serde = DriftInput.serde(null, "flywheel.predictions", null,
      "flywheel.model.promoted");

  @Test
  void shouldCarryALabelledScoreWhoseIdsExceed64KiB() {
    // Given a labelled score whose model, prediction id and target are each over 65,535 bytes
    String big = "é".repeat(40_000);
    LabelledScore l = new LabelledScore("m" + big, "p" + big, 1_234L, 3, 0.25, "t" + big, 1.0);
    // When it goes through the repartition topic's serde
    byte[] bytes = serde.serializer().serialize("drift-by-model", DriftInput.of(l));
    // Then it comes back whole
    assertThat(serde.deserializer().deserialize("drift-by-model", bytes))
        .isEqualTo(DriftInput.of(l));
  }

  @Test
  void shouldReadLabelledScoresWrittenByEarlierVersions() throws IOException {
    // Given a labelled score as earlier versions wrote it (tag 3, 2-byte string lengths)
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(3);
      out.writeUTF("fraud-detector");
      out.writeUTF("p-1");
      out.writeLong(1_234L);
      out.writeInt(2);
      out.writeDouble(0.75);
      out.writeUTF("is_fraud");
      out.writeDouble(1.0);
    }
    // When it is read, then it is the same labelled score
    assertThat(serde.deserializer().deserialize("drift-by-model", bytes.toByteArray()))
        .isEqualTo(DriftInput.of(new LabelledScore("fraud-detector", "p-1", 1_234L, 2, 0.75,
            "is_fraud", 1.0)));
  }
}
