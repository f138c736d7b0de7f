package dev.flywheel.driftdetector.window;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The drift state of one model, the value of the {@code drift-windows} store: which baseline
 * version the windows are compared with, the open windows (one for COUNT windows, one per
 * event-time bucket still in its grace period for TIME windows), the next window sequence, stream
 * time, and the hysteresis (consecutive drifted windows, onset of the run, last alert).
 */
public final class ModelWindows {

  /** Marks an absent time (no onset, no alert yet, nothing closed). */
  public static final long NONE = Long.MIN_VALUE;

  /**
   * Format 3 adds each window's count of labelled predictions beyond its sample; format 4 keeps a
   * sampled prediction by a 64-bit key of its id rather than the id ({@link
   * WindowCounts#labelKey}).
   */
  private static final byte FORMAT = 4;
  /** The oldest format read. */
  private static final byte FIRST_FORMAT = 2;

  int baselineVersion;
  String baselineEventId;
  long nextSequence;
  long streamTime = NONE;
  long closedUpTo = NONE;
  int consecutive;
  long onset = NONE;
  long lastAlert = NONE;
  final List<WindowCounts> open = new ArrayList<>();

  /** Fresh state for windows against the baseline of {@code version} (promotion {@code eventId}). */
  public ModelWindows(int version, String eventId) {
    this.baselineVersion = version;
    this.baselineEventId = eventId;
  }

  /** The baseline version compared with. */
  public int baselineVersion() {
    return baselineVersion;
  }

  /** The promotion event whose baseline is compared with. */
  public String baselineEventId() {
    return baselineEventId;
  }

  /** The open windows, oldest first. */
  public List<WindowCounts> open() {
    return open;
  }

  /** Sequence number the next closed window gets. */
  public long nextSequence() {
    return nextSequence;
  }

  /** Consecutive drifted windows ending with the last closed one. */
  public int consecutive() {
    return consecutive;
  }

  /** The single open window of COUNT windows, created empty when there is none. */
  public WindowCounts countWindow(BaselineLayout layout) {
    if (open.isEmpty()) {
      open.add(WindowCounts.empty(layout, WindowCounts.NO_BUCKET));
    }
    return open.get(0);
  }

  /** The open TIME window of the bucket starting at {@code bucket}, created empty if needed. */
  public WindowCounts bucket(BaselineLayout layout, long bucket) {
    int i = 0;
    while (i < open.size() && open.get(i).bucket() < bucket) {
      i++;
    }
    if (i < open.size() && open.get(i).bucket() == bucket) {
      return open.get(i);
    }
    WindowCounts w = WindowCounts.empty(layout, bucket);
    open.add(i, w);
    return w;
  }

  /** Drops a window that closed. */
  public void remove(WindowCounts w) {
    open.remove(w);
  }

  /**
   * Cuts the labelled sample of every open window to at most {@code perWindow} ({@link
   * WindowCounts#keepLabelled}).
   */
  public void keepLabelled(int perWindow) {
    for (WindowCounts w : open) {
      w.keepLabelled(perWindow);
    }
  }

  /** Bytes of the stored value but its windows, for a baseline of promotion {@code eventId}. */
  static int headerBytes(String eventId) {
    return new ModelWindows(0, eventId).toBytes().length;
  }

  /** Moves stream time (the latest event time seen) forward to {@code t}. */
  public void advance(long t) {
    streamTime = Math.max(streamTime, t);
  }

  /** End of the latest TIME window closed; earlier predictions are late. */
  public long closedUpTo() {
    return closedUpTo;
  }

  /** Records that TIME windows up to {@code end} are closed. */
  public void closed(long end) {
    closedUpTo = Math.max(closedUpTo, end);
  }

  /** The open TIME windows whose end plus {@code graceMs} stream time has passed, oldest first. */
  public List<WindowCounts> due(long durationMs, long graceMs) {
    List<WindowCounts> due = new ArrayList<>();
    for (WindowCounts w : open) {
      if (w.bucket() + durationMs + graceMs <= streamTime) {
        due.add(w);
      }
    }
    return due;
  }

  /** The sequence number of the window closing now. */
  public long takeSequence() {
    return nextSequence++;
  }

  /**
   * Whether a TIME prediction at {@code t}, in the bucket starting at {@code bucket}, is late:
   * before the end of a window already closed, or in a bucket whose end plus {@code graceMs}
   * stream time has passed (a bucket never opened, after a pause in traffic), which would close
   * as soon as it opened, with that one prediction.
   */
  public boolean late(long t, long bucket, long durationMs, long graceMs) {
    return (closedUpTo != NONE && t < closedUpTo) || bucket + durationMs + graceMs <= streamTime;
  }

  /**
   * Applies a closed window's verdict to the hysteresis and returns the consecutive drifted
   * windows ending with it. A window none of whose features was judged (fewer than {@code
   * minSamples} values) has no verdict: the run and its onset stay as they are.
   */
  public int verdict(boolean judged, boolean drifted, long windowStart) {
    if (!judged) {
      return consecutive;
    }
    if (drifted) {
      if (consecutive == 0) {
        onset = windowStart;
      }
      consecutive++;
    } else {
      consecutive = 0;
      onset = NONE;
    }
    return consecutive;
  }

  /** Start of the first window of the current drifted run; {@link #NONE} outside a run. */
  public long onset() {
    return onset;
  }

  /** Whether an alert at {@code time} is outside the cooldown of the last one. */
  public boolean outOfCooldown(long time, long cooldownMs) {
    return lastAlert == NONE || time - lastAlert >= cooldownMs;
  }

  /** Records an alert at {@code time}. */
  public void alerted(long time) {
    lastAlert = time;
  }

  /** The serde of the store. */
  public static Serde<ModelWindows> serde() {
    return Serdes.serdeFrom((Serializer<ModelWindows>) (topic, w) -> w == null ? null : w.toBytes(),
        (Deserializer<ModelWindows>) (topic, bytes) -> bytes == null ? null : fromBytes(bytes));
  }

  byte[] toBytes() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(FORMAT);
      out.writeInt(baselineVersion);
      out.writeUTF(baselineEventId);
      out.writeLong(nextSequence);
      out.writeLong(streamTime);
      out.writeLong(closedUpTo);
      out.writeInt(consecutive);
      out.writeLong(onset);
      out.writeLong(lastAlert);
      out.writeInt(open.size());
      for (WindowCounts w : open) {
        w.write(out);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static ModelWindows fromBytes(byte[] bytes) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      byte format = in.readByte();
      if (format < FIRST_FORMAT || format > FORMAT) {
        throw new SerializationException("drift-windows state has format " + format
            + ", this drift-detector reads formats " + FIRST_FORMAT + " to " + FORMAT);
      }
      ModelWindows m = new ModelWindows(in.readInt(), in.readUTF());
      m.nextSequence = in.readLong();
      m.streamTime = in.readLong();
      m.closedUpTo = in.readLong();
      m.consecutive = in.readInt();
      m.onset = in.readLong();
      m.lastAlert = in.readLong();
      int n = in.readInt();
      for (int i = 0; i < n; i++) {
        m.open.add(WindowCounts.read(in, format));
      }
      return m;
    } catch (IOException e) {
      throw new SerializationException("unreadable drift-windows state", e);
    }
  }
}
