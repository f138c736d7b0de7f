package dev.flywheel.featurestreams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class TilesTest {

  private static List<Long> indexes(Tiles tiles, int from, int to) {
    List<Long> out = new ArrayList<>();
    for (int i = from; i < to; i++) {
      out.add(tiles.index(i));
    }
    return out;
  }

  @Test
  void shouldKeepTilesOrderedWhenAnOlderTileOpensLate() {
    // Given tiles 10, 12 and 15 appended in time order
    Tiles tiles = new Tiles(1);
    Tile ten = tiles.getOrCreate(10);
    tiles.getOrCreate(12);
    tiles.getOrCreate(15);

    // When a late event opens tile 11, and tile 10 is asked for again
    tiles.getOrCreate(11);

    // Then the tiles are in index order, and an existing tile is returned, not replaced
    assertThat(indexes(tiles, 0, tiles.size())).containsExactly(10L, 11L, 12L, 15L);
    assertThat(tiles.getOrCreate(10)).isSameAs(ten);
  }

  @Test
  void shouldFindWindowsAndDropOldTilesAsASortedMapWould() {
    // Given the same random tiles in Tiles and in a TreeMap
    Random random = new Random(11);
    Tiles tiles = new Tiles();
    TreeMap<Long, Tile> map = new TreeMap<>();
    for (int i = 0; i < 500; i++) {
      long index = random.nextInt(300);
      map.put(index, tiles.getOrCreate(index));
    }
    // Then every window [lo, hi] holds the same tiles, in the same order
    for (int i = 0; i < 1000; i++) {
      long lo = random.nextInt(320) - 10;
      long hi = lo + random.nextInt(50);
      assertThat(indexes(tiles, tiles.from(lo), tiles.upTo(hi)))
          .isEqualTo(new ArrayList<>(map.subMap(lo, true, hi, true).keySet()));
    }
    // And dropping the tiles before 150 leaves what headMap(150).clear() leaves
    tiles.dropBefore(150);
    map.headMap(150L, false).clear();
    assertThat(indexes(tiles, 0, tiles.size())).isEqualTo(new ArrayList<>(map.keySet()));
    assertThat(tiles.tile(0)).isSameAs(map.firstEntry().getValue());
  }

  @Test
  void shouldRefuseToAppendOutOfOrder() {
    Tiles tiles = new Tiles();
    tiles.append(5, new Tile());
    assertThatThrownBy(() -> tiles.append(5, new Tile()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not after tile 5");
  }
}
