package dev.flywheel.driftdetector.topology;

import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.Prediction;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * What reaches a model's drift processor, keyed by model name: a prediction, a promotion or a
 * labelled score. Exactly one is set. All three travel through one repartition topic, so a
 * model's promotions, predictions and labels are processed by one task, in order.
 *
 * @param prediction a prediction to count
 * @param promoted a promotion that may switch the baseline
 * @param labelled a prediction with its label
 */
public record DriftInput(Prediction prediction, ModelPromoted promoted, LabelledScore labelled) {

  private static final byte PREDICTION = 1;
  private static final byte PROMOTED = 2;
  private static final byte LABELLED = 3;

  /** A prediction. */
  public static DriftInput of(Prediction p) {
    return new DriftInput(p, null, null);
  }

  /** A promotion. */
  public static DriftInput of(ModelPromoted m) {
    return new DriftInput(null, m, null);
  }

  /** A labelled score. */
  public static DriftInput of(LabelledScore l) {
    return new DriftInput(null, null, l);
  }

  /**
   * The serde of the repartition topic: a tag byte, then the prediction or promotion in the
   * Confluent wire format of its own topic's subject (so no new subject is registered), or the
   * labelled score's fields.
   */
  public static Serde<DriftInput> serde(Serde<Prediction> predictions, String predictionsTopic,
      Serde<ModelPromoted> promotions, String promotedTopic) {
    Serializer<DriftInput> ser = (topic, in) -> {
      if (in == null) {
        return null;
      }
      if (in.prediction != null) {
        return tagged(PREDICTION,
            predictions.serializer().serialize(predictionsTopic, in.prediction));
      }
      if (in.promoted != null) {
        return tagged(PROMOTED, promotions.serializer().serialize(promotedTopic, in.promoted));
      }
      ByteArrayOutputStream bytes = new ByteArrayOutputStream(96);
      try (DataOutputStream out = new DataOutputStream(bytes)) {
        LabelledScore l = in.labelled;
        out.writeByte(LABELLED);
        out.writeUTF(l.model());
        out.writeUTF(l.predictionId());
        out.writeLong(l.eventTimeMs());
        out.writeInt(l.version());
        out.writeDouble(l.score());
        out.writeUTF(l.target());
        out.writeDouble(l.label());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return bytes.toByteArray();
    };
    Deserializer<DriftInput> de = (topic, bytes) -> {
      if (bytes == null || bytes.length == 0) {
        return null;
      }
      byte[] rest = Arrays.copyOfRange(bytes, 1, bytes.length);
      switch (bytes[0]) {
        case PREDICTION:
          return of(predictions.deserializer().deserialize(predictionsTopic, rest));
        case PROMOTED:
          return of(promotions.deserializer().deserialize(promotedTopic, rest));
        case LABELLED:
          try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(rest))) {
            return of(new LabelledScore(in.readUTF(), in.readUTF(), in.readLong(), in.readInt(),
                in.readDouble(), in.readUTF(), in.readDouble()));
          } catch (IOException e) {
            throw new SerializationException("truncated labelled score on " + topic, e);
          }
        default:
          throw new SerializationException("unknown drift input tag " + bytes[0] + " on " + topic);
      }
    };
    return Serdes.serdeFrom(ser, de);
  }

  private static byte[] tagged(byte tag, byte[] body) {
    byte[] out = new byte[body.length + 1];
    out[0] = tag;
    System.arraycopy(body, 0, out, 1, body.length);
    return out;
  }
}
