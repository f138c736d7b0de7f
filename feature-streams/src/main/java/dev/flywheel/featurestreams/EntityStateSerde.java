package dev.flywheel.featurestreams;

import com.dynatrace.hash4j.distinctcount.HyperLogLog;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The compact binary form of an {@link EntityState} in RocksDB and its changelog: a header with
 * the plan's layout fingerprint, the latest event, the recent events, then per column its tiles,
 * each with only the parts the column's features use.
 *
 * <p>State written under another layout (the group's features changed) reads as null: the entity
 * starts afresh rather than being misread.
 */
final class EntityStateSerde implements Serde<EntityState> {

  /** Format 3 adds {@link EntityState#sealedUpTo}; format 2 (without it) is still read. */
  private static final byte FORMAT = 3;
  private static final byte FORMAT_2 = 2;
  /**
   * Format 3 with a held event's value a Long (an int or long value a double cannot hold
   * exactly, {@link FeatureEvent#number}), which a release before Longs could not read: it reads
   * such state as foreign instead. Only state that holds one is written so: every other entity
   * stays readable by that release.
   */
  private static final byte FORMAT_4 = 4;
  private static final byte SAME_AS_SUM = 1;

  private final FeatureGroupPlan plan;
  private final Tile.Plan[] tilePlans;
  private final int fieldCount;
  private final long graceMs;
  /** Size of the last state written: a hint for the next buffer (racing updates are harmless). */
  private int lastSize = 256;

  EntityStateSerde(FeatureGroupPlan plan) {
    this.plan = plan;
    this.tilePlans = new Tile.Plan[plan.columns().size()];
    for (int i = 0; i < tilePlans.length; i++) {
      tilePlans[i] = Tile.Plan.of(plan.columns().get(i));
    }
    this.fieldCount = plan.fields().size();
    this.graceMs = plan.config().graceMs();
  }

  @Override
  public Serializer<EntityState> serializer() {
    return (topic, state) -> state == null ? null : write(state);
  }

  @Override
  public Deserializer<EntityState> deserializer() {
    return (topic, bytes) -> bytes == null ? null : read(bytes);
  }

  /**
   * The entity's latest event time straight from its encoded state, without decoding the rest
   * (for the purge scan); {@link Long#MIN_VALUE} for state of another format or layout.
   */
  long latestEventTime(byte[] bytes) {
    if (bytes.length < 13
        || (bytes[0] != FORMAT && bytes[0] != FORMAT_4 && bytes[0] != FORMAT_2)
        || java.nio.ByteBuffer.wrap(bytes, 1, 4).getInt() != plan.layout()) {
      return Long.MIN_VALUE;
    }
    return java.nio.ByteBuffer.wrap(bytes, 5, 8).getLong();
  }

  byte[] write(EntityState s) {
    Bytes.Writer out = new Bytes.Writer(lastSize);
    out.writeByte(FORMAT);
    out.writeInt(plan.layout());
    long base = s.maxTime;
    out.writeLong(base);
    out.writeVarLong(s.maxSeq);
    out.writeString(s.maxEventId);
    out.writeVarLong(s.nextSeq);
    // 0: no early seal still in effect (none, or older than the grace period's own boundary)
    out.writeVarLong(s.sealedUpTo < base - graceMs ? 0 : base - s.sealedUpTo + 1);
    out.writeVarLong(s.recent.size());
    for (EntityState.Recent r : s.recent) {
      out.writeVarLong(r.seq());
      out.writeZigZag(base - r.timeMs());
      out.writeVarLong(r.filterBits());
      for (int i = 0; i < fieldCount; i++) {
        out.writeValue(r.values()[i]);
      }
    }
    for (int c = 0; c < tilePlans.length; c++) {
      Tiles tiles = s.tiles[c];
      out.writeVarLong(tiles.size());
      long previous = 0;
      for (int i = 0; i < tiles.size(); i++) {
        out.writeZigZag(tiles.index(i) - previous);
        previous = tiles.index(i);
        writeTile(out, tiles.tile(i), tilePlans[c], base);
      }
    }
    byte[] bytes = out.toByteArray();
    if (out.wroteLong()) {
      bytes[0] = FORMAT_4;
    }
    lastSize = bytes.length + 64;
    return bytes;
  }

  EntityState read(byte[] bytes) {
    try {
      Bytes.Reader in = new Bytes.Reader(bytes);
      byte format = in.readByte();
      if ((format != FORMAT && format != FORMAT_4 && format != FORMAT_2)
          || in.readInt() != plan.layout()) {
        return null;
      }
      EntityState s = new EntityState(tilePlans.length);
      long base = in.readLong();
      s.maxTime = base;
      s.maxSeq = in.readVarLong();
      s.maxEventId = in.readString();
      s.nextSeq = in.readVarLong();
      if (format != FORMAT_2) {
        long sealed = in.readVarLong();
        s.sealedUpTo = sealed == 0 ? Long.MIN_VALUE : base - (sealed - 1);
      }
      int recent = (int) in.readVarLong();
      for (int i = 0; i < recent; i++) {
        long seq = in.readVarLong();
        long time = base - in.readZigZag();
        long bits = in.readVarLong();
        Object[] values = new Object[fieldCount];
        for (int f = 0; f < fieldCount; f++) {
          values[f] = in.readValue();
        }
        s.recent.add(new EntityState.Recent(seq, time, values, bits));
      }
      for (int c = 0; c < tilePlans.length; c++) {
        int n = (int) in.readVarLong();
        Tiles tiles = new Tiles(n + 2);
        s.tiles[c] = tiles;
        long index = 0;
        for (int i = 0; i < n; i++) {
          index += in.readZigZag();
          tiles.append(index, readTile(in, tilePlans[c], base));
        }
      }
      return s;
    } catch (RuntimeException e) {
      throw new IllegalStateException("feature state of group '" + plan.name()
          + "' is corrupt: " + e, e);
    }
  }

  /**
   * A tile: its count, then for a tile of one event only that event's value and time (most tiles
   * of long windows hold one event), else sum, M2, min and max (the mean is sum / count), first
   * and last, and the distinct values. Times are relative to the entity's latest event time.
   */
  private static void writeTile(Bytes.Writer out, Tile t, Tile.Plan p, long base) {
    out.writeVarLong(t.count);
    boolean single = t.count == 1;
    if (p.numeric()) {
      out.writeDouble(t.sum);
      if (!single) {
        out.writeDouble(t.m2);
        out.writeDouble(t.min);
        out.writeDouble(t.max);
      }
    }
    if (p.firstLast()) {
      out.writeZigZag(base - t.lastTime);
      writeValue(out, t.lastValue, p, t.sum);
      if (!single) {
        out.writeZigZag(base - t.firstTime);
        writeValue(out, t.firstValue, p, t.sum);
      }
    }
    if (p.distinct()) {
      if (t.hll != null) {
        out.writeByte(2);
        out.writeBytes(t.hll.getState());
      } else {
        out.writeByte(1);
        out.writeVarLong(t.hashCount);
        for (int i = 0; i < t.hashCount; i++) {
          out.writeLong(t.hashes[i]);
        }
      }
    }
  }

  /** A first or last value; one byte when it is the tile's numeric value (one-event tiles). */
  private static void writeValue(Bytes.Writer out, Object value, Tile.Plan p, double sum) {
    if (p.numeric() && value instanceof Double d && d.doubleValue() == sum
        && Double.doubleToRawLongBits(d) == Double.doubleToRawLongBits(sum)) {
      out.writeByte(SAME_AS_SUM);
    } else {
      out.writeByte(0);
      out.writeValue(value);
    }
  }

  private static Object readValue(Bytes.Reader in, Tile.Plan p, double sum) {
    return in.readByte() == SAME_AS_SUM ? (Object) sum : in.readValue();
  }

  private static Tile readTile(Bytes.Reader in, Tile.Plan p, long base) {
    Tile t = new Tile();
    t.count = in.readVarLong();
    boolean single = t.count == 1;
    if (p.numeric()) {
      t.sum = in.readDouble();
      if (single) {
        t.min = t.sum;
        t.max = t.sum;
        t.m2 = 0;
      } else {
        t.m2 = in.readDouble();
        t.min = in.readDouble();
        t.max = in.readDouble();
      }
      t.mean = t.count == 0 ? 0 : t.sum / t.count;
    }
    if (p.firstLast()) {
      t.lastTime = base - in.readZigZag();
      t.lastValue = readValue(in, p, t.sum);
      if (single) {
        t.firstTime = t.lastTime;
        t.firstValue = t.lastValue;
      } else {
        t.firstTime = base - in.readZigZag();
        t.firstValue = readValue(in, p, t.sum);
      }
    }
    if (p.distinct()) {
      byte kind = in.readByte();
      if (kind == 2) {
        t.hll = HyperLogLog.wrap(in.readBytes());
      } else {
        int n = (int) in.readVarLong();
        t.hashes = new long[Math.max(4, n)];
        for (int i = 0; i < n; i++) {
          t.hashes[i] = in.readLong();
        }
        t.hashCount = n;
      }
    }
    return t;
  }
}
