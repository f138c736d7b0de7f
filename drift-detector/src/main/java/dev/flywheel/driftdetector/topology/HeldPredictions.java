package dev.flywheel.driftdetector.topology;

import dev.flywheel.events.Prediction;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Predictions of versions not promoted yet, held per model in arrival order in {@link
 * DriftTopology#HELD_STORE} until their version's promotion, and the highest version ever
 * promoted under the monitored alias (a prediction of a version above it may still be promoted;
 * one at or below it never will be again, unless rolled back to).
 *
 * <p>Keys: {@code <model>\0i} holds the model's index (next sequence, how many are held, highest
 * version promoted); {@code <model>\0p<sequence as 16 hex digits>} holds one prediction, so a
 * prefix scan returns a model's held predictions oldest first. Only the drift processor of the
 * model's task reads and writes them, in the same transaction as the windows they are counted
 * into.
 */
final class HeldPredictions {

  /** Marks the absence of a promoted version. */
  static final int NO_VERSION = Integer.MIN_VALUE;

  private static final byte INDEX_FORMAT = 1;
  private static final byte ENTRY_FORMAT = 1;
  private static final Serde<String> KEYS = Serdes.String();

  private final KeyValueStore<String, byte[]> store;
  private final Serde<Prediction> predictions;
  private final String predictionsTopic;

  /**
   * A prediction held, with where the drift processor read it.
   *
   * @param prediction the prediction
   * @param value its bytes in the wire format of the predictions topic
   * @param topic the topic it was read from
   * @param partition the partition it was read from
   * @param offset the offset it was read at
   * @param timestamp the record's timestamp
   */
  record Held(Prediction prediction, byte[] value, String topic, int partition, long offset,
      long timestamp) {}

  HeldPredictions(KeyValueStore<String, byte[]> store, Serde<Prediction> predictions,
      String predictionsTopic) {
    this.store = store;
    this.predictions = predictions;
    this.predictionsTopic = predictionsTopic;
  }

  /** How many predictions of {@code model} are held. */
  long count(String model) {
    return index(model).count;
  }

  /** The highest version of {@code model} promoted so far, or {@link #NO_VERSION}. */
  int highestPromoted(String model) {
    return index(model).highestPromoted;
  }

  /** Records that {@code version} of {@code model} was promoted. */
  void promoted(String model, int version) {
    Index index = index(model);
    if (version > index.highestPromoted) {
      index.highestPromoted = version;
      store.put(indexKey(model), index.toBytes());
    }
  }

  /**
   * Holds {@code p} after the ones held before it. When {@code max} are held already, the oldest
   * ones are taken out to make room and returned, oldest first; otherwise the list is empty.
   */
  List<Held> hold(String model, Prediction p, String topic, int partition, long offset,
      long timestamp, long max) {
    Index index = index(model);
    List<Held> evicted = new ArrayList<>();
    if (index.count >= max) {
      List<String> keys = new ArrayList<>();
      try (KeyValueIterator<String, byte[]> it = store.prefixScan(entryPrefix(model), KEYS
          .serializer())) {
        while (index.count - keys.size() >= max && it.hasNext()) {
          KeyValue<String, byte[]> e = it.next();
          keys.add(e.key);
          evicted.add(entry(e.value));
        }
      }
      keys.forEach(store::delete);
      index.count -= keys.size();
    }
    byte[] value = predictions.serializer().serialize(predictionsTopic, p);
    store.put(entryKey(model, index.nextSequence++),
        entryBytes(value, topic, partition, offset, timestamp));
    index.count++;
    store.put(indexKey(model), index.toBytes());
    return evicted;
  }

  /**
   * Takes out the held predictions of {@code model} whose version matches {@code versions} and
   * returns them in the order they arrived; the others stay held.
   */
  List<Held> release(String model, IntPredicate versions) {
    Index index = index(model);
    if (index.count == 0) {
      return List.of();
    }
    List<String> keys = new ArrayList<>();
    List<Held> released = new ArrayList<>();
    try (KeyValueIterator<String, byte[]> it = store.prefixScan(entryPrefix(model), KEYS
        .serializer())) {
      while (it.hasNext()) {
        KeyValue<String, byte[]> e = it.next();
        Held h = entry(e.value);
        if (versions.test(h.prediction().getVersion())) {
          keys.add(e.key);
          released.add(h);
        }
      }
    }
    if (!keys.isEmpty()) {
      for (String key : keys) {
        store.delete(key);
      }
      index.count -= keys.size();
      store.put(indexKey(model), index.toBytes());
    }
    return released;
  }

  private Index index(String model) {
    byte[] bytes = store.get(indexKey(model));
    return bytes == null ? new Index() : Index.fromBytes(bytes);
  }

  private static String indexKey(String model) {
    return model + "\u0000i";
  }

  private static String entryPrefix(String model) {
    return model + "\u0000p";
  }

  private static String entryKey(String model, long sequence) {
    return entryPrefix(model) + String.format("%016x", sequence);
  }

  private static byte[] entryBytes(byte[] value, String topic, int partition, long offset,
      long timestamp) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(value.length + 64);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(ENTRY_FORMAT);
      out.writeUTF(topic == null ? "" : topic);
      out.writeInt(partition);
      out.writeLong(offset);
      out.writeLong(timestamp);
      out.writeInt(value.length);
      out.write(value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  private Held entry(byte[] bytes) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      byte format = in.readByte();
      if (format != ENTRY_FORMAT) {
        throw new SerializationException(DriftTopology.HELD_STORE + " entry has format " + format
            + ", this drift-detector reads format " + ENTRY_FORMAT);
      }
      String topic = in.readUTF();
      int partition = in.readInt();
      long offset = in.readLong();
      long timestamp = in.readLong();
      byte[] value = new byte[in.readInt()];
      in.readFully(value);
      Prediction p = predictions.deserializer().deserialize(predictionsTopic, value);
      return new Held(p, value, topic, partition, offset, timestamp);
    } catch (IOException e) {
      throw new SerializationException("unreadable " + DriftTopology.HELD_STORE + " entry", e);
    }
  }

  /** A model's next sequence, how many are held and the highest version promoted. */
  private static final class Index {
    long nextSequence;
    long count;
    int highestPromoted = NO_VERSION;

    byte[] toBytes() {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream(32);
      try (DataOutputStream out = new DataOutputStream(bytes)) {
        out.writeByte(INDEX_FORMAT);
        out.writeLong(nextSequence);
        out.writeLong(count);
        out.writeInt(highestPromoted);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return bytes.toByteArray();
    }

    static Index fromBytes(byte[] bytes) {
      try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
        byte format = in.readByte();
        if (format != INDEX_FORMAT) {
          throw new SerializationException(DriftTopology.HELD_STORE + " index has format "
              + format + ", this drift-detector reads format " + INDEX_FORMAT);
        }
        Index i = new Index();
        i.nextSequence = in.readLong();
        i.count = in.readLong();
        i.highestPromoted = in.readInt();
        return i;
      } catch (IOException e) {
        throw new SerializationException("unreadable " + DriftTopology.HELD_STORE + " index", e);
      }
    }
  }
}
