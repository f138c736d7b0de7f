package dev.flywheel.featurestreams;

import com.dynatrace.hash4j.distinctcount.HyperLogLog;
import java.util.Map;
import java.util.TreeMap;
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

  private static final byte FORMAT = 1;

  private final FeatureGroupPlan plan;
  private final Tile.Plan[] tilePlans;
  private final int fieldCount;
  /** Size of the last state written: a hint for the next buffer (racing updates are harmless). */
  private int lastSize = 256;

  EntityStateSerde(FeatureGroupPlan plan) {
    this.plan = plan;
    this.tilePlans = new Tile.Plan[plan.columns().size()];
    for (int i = 0; i < tilePlans.length; i++) {
      tilePlans[i] = Tile.Plan.of(plan.columns().get(i));
    }
    this.fieldCount = plan.fields().size();
  }

  @Override
  public Serializer<EntityState> serializer() {
    return (topic, state) -> state == null ? null : write(state);
  }

  @Override
  public Deserializer<EntityState> deserializer() {
    return (topic, bytes) -> bytes == null ? null : read(bytes);
  }

  byte[] write(EntityState s) {
    Bytes.Writer out = new Bytes.Writer(lastSize);
    out.writeByte(FORMAT);
    out.writeInt(plan.layout());
    out.writeLong(s.maxTime);
    out.writeLong(s.maxSeq);
    out.writeString(s.maxEventId);
    out.writeLong(s.nextSeq);
    out.writeInt(s.recent.size());
    for (EntityState.Recent r : s.recent) {
      out.writeLong(r.seq());
      out.writeLong(r.timeMs());
      out.writeLong(r.filterBits());
      for (int i = 0; i < fieldCount; i++) {
        out.writeValue(r.values()[i]);
      }
    }
    for (int c = 0; c < tilePlans.length; c++) {
      TreeMap<Long, Tile> tiles = s.tiles.get(c);
      out.writeInt(tiles.size());
      for (Map.Entry<Long, Tile> e : tiles.entrySet()) {
        out.writeLong(e.getKey());
        writeTile(out, e.getValue(), tilePlans[c]);
      }
    }
    byte[] bytes = out.toByteArray();
    lastSize = bytes.length + 64;
    return bytes;
  }

  EntityState read(byte[] bytes) {
    try {
      Bytes.Reader in = new Bytes.Reader(bytes);
      if (in.readByte() != FORMAT || in.readInt() != plan.layout()) {
        return null;
      }
      EntityState s = new EntityState(tilePlans.length);
      s.maxTime = in.readLong();
      s.maxSeq = in.readLong();
      s.maxEventId = in.readString();
      s.nextSeq = in.readLong();
      int recent = in.readInt();
      for (int i = 0; i < recent; i++) {
        long seq = in.readLong();
        long time = in.readLong();
        long bits = in.readLong();
        Object[] values = new Object[fieldCount];
        for (int f = 0; f < fieldCount; f++) {
          values[f] = in.readValue();
        }
        s.recent.add(new EntityState.Recent(seq, time, values, bits));
      }
      for (int c = 0; c < tilePlans.length; c++) {
        int n = in.readInt();
        TreeMap<Long, Tile> tiles = s.tiles.get(c);
        for (int i = 0; i < n; i++) {
          long index = in.readLong();
          tiles.put(index, readTile(in, tilePlans[c]));
        }
      }
      return s;
    } catch (RuntimeException e) {
      throw new IllegalStateException("feature state of group '" + plan.name()
          + "' is corrupt: " + e, e);
    }
  }

  private static void writeTile(Bytes.Writer out, Tile t, Tile.Plan p) {
    out.writeLong(t.count);
    if (p.numeric()) {
      out.writeDouble(t.sum);
      out.writeDouble(t.mean);
      out.writeDouble(t.m2);
      out.writeDouble(t.min);
      out.writeDouble(t.max);
    }
    if (p.firstLast()) {
      out.writeLong(t.firstTime);
      out.writeValue(t.firstValue);
      out.writeLong(t.lastTime);
      out.writeValue(t.lastValue);
    }
    if (p.distinct()) {
      if (t.hll != null) {
        out.writeByte(2);
        out.writeBytes(t.hll.getState());
      } else {
        out.writeByte(1);
        out.writeInt(t.hashCount);
        for (int i = 0; i < t.hashCount; i++) {
          out.writeLong(t.hashes[i]);
        }
      }
    }
  }

  private static Tile readTile(Bytes.Reader in, Tile.Plan p) {
    Tile t = new Tile();
    t.count = in.readLong();
    if (p.numeric()) {
      t.sum = in.readDouble();
      t.mean = in.readDouble();
      t.m2 = in.readDouble();
      t.min = in.readDouble();
      t.max = in.readDouble();
    }
    if (p.firstLast()) {
      t.firstTime = in.readLong();
      t.firstValue = in.readValue();
      t.lastTime = in.readLong();
      t.lastValue = in.readValue();
    }
    if (p.distinct()) {
      byte kind = in.readByte();
      if (kind == 2) {
        t.hll = HyperLogLog.wrap(in.readBytes());
      } else {
        int n = in.readInt();
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
