package dev.flywheel.featurestreams;

import com.dynatrace.hash4j.distinctcount.HyperLogLog;
import com.dynatrace.hash4j.hashing.Hasher64;
import com.dynatrace.hash4j.hashing.Hashing;
import java.util.Arrays;

/**
 * The aggregate of the events of one column in one time tile, and the accumulator a window is
 * evaluated into: count; sum, mean, M2 (for the standard deviation, merged with Chan et al.'s
 * parallel formula), min and max; first and last value by event time; and the distinct values, as
 * a sorted array of 64-bit hashes up to the group's bound, then as a HyperLogLog sketch.
 *
 * <p>Events are added in arrival order; ties in event time keep the earlier arrival as first and
 * the later arrival as last.
 */
final class Tile {

  /** HyperLogLog precision: 2^11 registers, about 2.3% standard error. */
  static final int HLL_PRECISION = 11;

  /** Bytes of a sketch in the state: 2^11 registers of 6 bits, 1,536. */
  static final int HLL_BYTES = HyperLogLog.create(HLL_PRECISION).getState().length;

  long count;
  double sum;
  double mean;
  double m2;
  double min = Double.NaN;
  double max = Double.NaN;
  long firstTime = Long.MAX_VALUE;
  Object firstValue;
  long lastTime = Long.MIN_VALUE;
  Object lastValue;
  /** Sorted distinct hashes while exact; null once {@link #hll} holds them, or when unused. */
  long[] hashes;
  int hashCount;
  HyperLogLog hll;

  /** Adds one event of time {@code timeMs} with field value {@code value} (null: no field). */
  void add(long timeMs, Object value, Plan plan, int distinctBound) {
    count++;
    if (plan.numeric && value instanceof Number n) {
      double x = n.doubleValue();
      sum += x;
      double delta = x - mean;
      mean += delta / count;
      m2 += delta * (x - mean);
      min = Double.isNaN(min) ? x : Math.min(min, x);
      max = Double.isNaN(max) ? x : Math.max(max, x);
    }
    if (plan.firstLast) {
      // first and last of a numeric field are numeric features, doubles (a Long too)
      Object v = value instanceof Long l ? (Object) l.doubleValue() : value;
      if (timeMs < firstTime) {
        firstTime = timeMs;
        firstValue = v;
      }
      if (timeMs >= lastTime) {
        lastTime = timeMs;
        lastValue = v;
      }
    }
    if (plan.distinct && value != null) {
      addHash(hash(value), distinctBound);
    }
  }

  /** Merges {@code other}, whose events are all earlier or all later in time than these. */
  void merge(Tile other, Plan plan, int distinctBound) {
    if (other.count == 0) {
      return;
    }
    if (plan.numeric) {
      long n = count + other.count;
      double delta = other.mean - mean;
      m2 = m2 + other.m2 + delta * delta * ((double) count * other.count / n);
      mean = mean + delta * other.count / n;
      sum += other.sum;
      if (!Double.isNaN(other.min)) {
        min = Double.isNaN(min) ? other.min : Math.min(min, other.min);
        max = Double.isNaN(max) ? other.max : Math.max(max, other.max);
      }
    }
    count += other.count;
    if (plan.firstLast) {
      if (other.firstTime < firstTime) {
        firstTime = other.firstTime;
        firstValue = other.firstValue;
      }
      if (other.lastTime >= lastTime) {
        lastTime = other.lastTime;
        lastValue = other.lastValue;
      }
    }
    if (plan.distinct) {
      if (other.hll != null) {
        toSketch();
        hll.add(other.hll);
      } else if (other.hashes != null) {
        for (int i = 0; i < other.hashCount; i++) {
          addHash(other.hashes[i], distinctBound);
        }
      }
    }
  }

  /** The number of distinct values: exact while within the bound, else the sketch's estimate. */
  double distinctCount() {
    if (hll != null) {
      return Math.rint(hll.getDistinctCountEstimate());
    }
    return hashCount;
  }

  private void addHash(long h, int bound) {
    if (hll != null) {
      hll.add(h);
      return;
    }
    if (hashes == null) {
      hashes = new long[4];
    }
    int at = Arrays.binarySearch(hashes, 0, hashCount, h);
    if (at >= 0) {
      return;
    }
    if (hashCount + 1 > bound) {
      toSketch();
      hll.add(h);
      return;
    }
    int ins = -at - 1;
    if (hashCount == hashes.length) {
      hashes = Arrays.copyOf(hashes, hashCount * 2);
    }
    System.arraycopy(hashes, ins, hashes, ins + 1, hashCount - ins);
    hashes[ins] = h;
    hashCount++;
  }

  private void toSketch() {
    if (hll != null) {
      return;
    }
    hll = HyperLogLog.create(HLL_PRECISION);
    for (int i = 0; i < hashCount; i++) {
      hll.add(hashes[i]);
    }
    hashes = null;
    hashCount = 0;
  }

  /**
   * The 64-bit hash of a field value: numbers by their double value, but a long a double cannot
   * hold exactly ({@link FeatureEvent#number}) by its 64 bits; text by its characters. The hashes
   * of doubles are those state has held since before longs were kept: a long beyond 2^53 sealed
   * then is in its tile as its nearest double, merged with its neighbours until the tile leaves
   * its windows.
   */
  static long hash(Object value) {
    if (value instanceof Long l) {
      Object number = FeatureEvent.number(l);
      return number instanceof Double d ? hash(d) : HASHER.hashLongLongToLong(l, LONG_SEED);
    }
    if (value instanceof Double d) {
      return HASHER.hashLongLongToLong(Double.doubleToLongBits(d == 0.0 ? 0.0 : d), NUMBER_SEED);
    }
    return HASHER.hashCharsToLong(value.toString());
  }

  private static final Hasher64 HASHER = Hashing.komihash5_0();
  private static final long NUMBER_SEED = 0x6e756d626572L;
  private static final long LONG_SEED = 0x6c6f6e67L;

  /** What a column keeps per tile. */
  record Plan(boolean numeric, boolean firstLast, boolean distinct) {
    static Plan of(FeatureGroupPlan.Column c) {
      return new Plan(c.numeric(), c.firstLast(), c.distinct());
    }
  }
}
