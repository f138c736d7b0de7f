package dev.flywheel.driftdetector.topology;

import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.Prediction;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
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
  /** A labelled score with its strings in modified UTF-8 behind 2-byte lengths (read only). */
  private static final byte LABELLED = 3;
  /**
   * A labelled score with its strings in UTF-8 behind 4-byte lengths: a string of any length fits
   * (the 2-byte lengths of {@link #LABELLED} refused one above 65,535 bytes at the sink).
   */
  private static final byte LABELLED_LONG = 4;

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
   * labelled score's fields (written with tag {@code 4}; tag {@code 3}, of earlier versions, is
   * still read).
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
        out.writeByte(LABELLED_LONG);
        writeString(out, l.model());
        writeString(out, l.predictionId());
        out.writeLong(l.eventTimeMs());
        out.writeInt(l.version());
        out.writeDouble(l.score());
        writeString(out, l.target());
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
        case LABELLED_LONG:
          try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(rest))) {
            return of(new LabelledScore(readString(in), readString(in), in.readLong(),
                in.readInt(), in.readDouble(), readString(in), in.readDouble()));
          } catch (IOException e) {
            throw new SerializationException("truncated labelled score on " + topic, e);
          }
        default:
          throw new SerializationException("unknown drift input tag " + bytes[0] + " on " + topic);
      }
    };
    return Serdes.serdeFrom(ser, de);
  }

  private static void writeString(DataOutputStream out, String s) throws IOException {
    byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
    out.writeInt(utf8.length);
    out.write(utf8);
  }

  private static String readString(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > in.available()) {
      throw new EOFException("string of " + n + " bytes, " + in.available() + " left");
    }
    byte[] utf8 = new byte[n];
    in.readFully(utf8);
    return new String(utf8, StandardCharsets.UTF_8);
  }

  private static byte[] tagged(byte tag, byte[] body) {
    byte[] out = new byte[body.length + 1];
    out[0] = tag;
    System.arraycopy(body, 0, out, 1, body.length);
    return out;
  }
}
