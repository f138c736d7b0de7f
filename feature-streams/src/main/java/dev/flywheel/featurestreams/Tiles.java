package dev.flywheel.featurestreams;

import java.util.Arrays;

/**
 * The sealed tiles of one column of one entity, ordered by tile index, in two parallel arrays.
 *
 * <p>Tiles are sealed in time order almost always (an event within the grace period can open an
 * older tile), so appending at the end is the common case and inserting in the middle the rare
 * one; the oldest tiles are dropped from the front. A window is a range of positions found by
 * binary search, walked without creating an iterator: this is what evaluating a window costs per
 * event, so it stays allocation-free.
 */
final class Tiles {

  private long[] indexes;
  private Tile[] tiles;
  private int size;

  Tiles() {
    this(4);
  }

  Tiles(int capacity) {
    indexes = new long[Math.max(1, capacity)];
    tiles = new Tile[Math.max(1, capacity)];
  }

  int size() {
    return size;
  }

  long index(int position) {
    return indexes[position];
  }

  Tile tile(int position) {
    return tiles[position];
  }

  /** The position of the first tile with an index {@code >= index} ({@link #size()} if none). */
  int from(long index) {
    if (size == 0 || indexes[0] >= index) {
      return 0;
    }
    if (indexes[size - 1] < index) {
      return size;
    }
    int at = Arrays.binarySearch(indexes, 0, size, index);
    return at >= 0 ? at : -at - 1;
  }

  /** The position after the last tile with an index {@code <= index}. */
  int upTo(long index) {
    if (size == 0 || indexes[size - 1] <= index) {
      return size;
    }
    int at = Arrays.binarySearch(indexes, 0, size, index);
    return at >= 0 ? at + 1 : -at - 1;
  }

  /** The tile of {@code index}, created empty in its place when absent. */
  Tile getOrCreate(long index) {
    if (size > 0 && indexes[size - 1] == index) {
      return tiles[size - 1];
    }
    int at = size == 0 || indexes[size - 1] < index ? -size - 1
        : Arrays.binarySearch(indexes, 0, size, index);
    if (at >= 0) {
      return tiles[at];
    }
    Tile tile = new Tile();
    insert(-at - 1, index, tile);
    return tile;
  }

  /** Appends a tile whose index is greater than every index held (decoding, in order). */
  void append(long index, Tile tile) {
    if (size > 0 && indexes[size - 1] >= index) {
      throw new IllegalArgumentException("tile " + index + " is not after tile "
          + indexes[size - 1]);
    }
    insert(size, index, tile);
  }

  /** Drops the tiles with an index below {@code index}. */
  void dropBefore(long index) {
    int keep = from(index);
    if (keep == 0) {
      return;
    }
    System.arraycopy(indexes, keep, indexes, 0, size - keep);
    System.arraycopy(tiles, keep, tiles, 0, size - keep);
    Arrays.fill(tiles, size - keep, size, null);
    size -= keep;
  }

  private void insert(int at, long index, Tile tile) {
    if (size == indexes.length) {
      int capacity = size * 2;
      indexes = Arrays.copyOf(indexes, capacity);
      tiles = Arrays.copyOf(tiles, capacity);
    }
    System.arraycopy(indexes, at, indexes, at + 1, size - at);
    System.arraycopy(tiles, at, tiles, at + 1, size - at);
    indexes[at] = index;
    tiles[at] = tile;
    size++;
  }
}
