package dev.flywheel.featurestreams;

import java.util.ArrayList;
import java.util.List;

/**
 * What the engine keeps per entity: the latest event time seen and its event, the events of the
 * last grace period as they arrived ({@link #recent}), and per column the tiles of the older
 * events ("sealed": no event that can still be accepted is older than them), by tile index.
 *
 * <p>State stays bounded: recent events are those within the grace period of the entity's latest
 * event, at most the group's {@code maxEventsInGrace} of them, and each column keeps only the
 * tiles its longest window can still reach.
 */
final class EntityState {

  /** One event of the last grace period, in arrival order. */
  record Recent(long seq, long timeMs, Object[] values, long filterBits) {
    boolean passes(int filter) {
      return filter < 0 || (filterBits & (1L << filter)) != 0;
    }
  }

  long maxTime = Long.MIN_VALUE;
  long maxSeq = -1;
  String maxEventId;
  long nextSeq;
  /**
   * The latest time of an event sealed early because the entity held more than the group's
   * {@code maxEventsInGrace} events within its grace period ({@link Long#MIN_VALUE}: none): an
   * event older than it is late, as it could no longer be applied exactly.
   */
  long sealedUpTo = Long.MIN_VALUE;
  final List<Recent> recent = new ArrayList<>();
  final Tiles[] tiles;

  EntityState(int columns) {
    tiles = new Tiles[columns];
    for (int i = 0; i < columns; i++) {
      tiles[i] = new Tiles();
    }
  }

  /** Whether the entity has seen an event. */
  boolean seen() {
    return maxSeq >= 0;
  }
}
