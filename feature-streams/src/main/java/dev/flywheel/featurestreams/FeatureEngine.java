package dev.flywheel.featurestreams;

import dev.flywheel.featurestreams.FeatureGroupPlan.Column;
import dev.flywheel.featurestreams.FeatureGroupPlan.PlannedFeature;
import dev.flywheel.featurestreams.FeatureGroupPlan.WindowedColumn;
import java.util.Arrays;
import java.util.List;

/**
 * Updates an entity's state with one event and evaluates its features; no Kafka in here.
 *
 * <p>Semantics, which the randomized test checks against a brute-force recomputation: the vector
 * of an event {@code e} at time {@code t} aggregates the entity's events that arrived up to and
 * including {@code e}, passed the feature's filter, have the field set, have a time {@code <= t},
 * and (for a sliding window of {@code n} tiles) lie in the tiles {@code tile(t)-n+1 .. tile(t)}.
 * Time since the last event leaves {@code e} itself out. Events arriving in any order within the
 * grace period give these values; an event more than the grace period behind the entity's latest
 * event time is late and not applied.
 *
 * <p>An entity holds at most {@code maxEventsInGrace} recent events. Beyond that, its oldest
 * recent events (by event time, all of one instant or none; of its latest instant, all but the
 * latest event) are sealed into their tiles early, and an event older than the latest of them is
 * late as well. Every event still applied is then no older than any sealed event (and arrives
 * after those of its own instant), which is all the evaluation above relies on: the values stay
 * exact, and only how far out of order a hot entity's events may arrive shrinks.
 *
 * <p>Cost per event: the tiles of its windows plus the recent (within-grace) events, at most
 * {@code maxEventsInGrace}, not the events of the window.
 */
final class FeatureEngine {

  private final FeatureGroupPlan plan;
  private final List<Column> columns;
  private final List<WindowedColumn> windowed;
  private final List<PlannedFeature> features;
  private final Tile.Plan[] tilePlans;
  /** Per column, the distinct values its sealed tiles keep exactly. */
  private final int[] tileDistinctBounds;
  private final long graceMs;
  private final int distinctBound;
  private final int maxRecent;

  FeatureEngine(FeatureGroupPlan plan) {
    this.plan = plan;
    this.columns = plan.columns();
    this.windowed = plan.windowed();
    this.features = plan.features();
    this.tilePlans = new Tile.Plan[columns.size()];
    this.tileDistinctBounds = new int[columns.size()];
    for (int i = 0; i < columns.size(); i++) {
      tilePlans[i] = Tile.Plan.of(columns.get(i));
      tileDistinctBounds[i] = columns.get(i).distinctExactPerTile(
          plan.config().distinctExactUpTo());
    }
    this.graceMs = plan.config().graceMs();
    this.distinctBound = plan.config().distinctExactUpTo();
    this.maxRecent = plan.config().maxEventsInGrace();
  }

  FeatureGroupPlan plan() {
    return plan;
  }

  /** A state for an entity not seen yet. */
  EntityState newState() {
    return new EntityState(columns.size());
  }

  /**
   * Whether an event of time {@code timeMs} is late for this entity: beyond the grace period, or
   * older than an event sealed early ({@link #isBehindEarlySeal}).
   */
  boolean isLate(EntityState state, long timeMs) {
    return state != null && state.seen()
        && (timeMs < state.maxTime - graceMs || timeMs < state.sealedUpTo);
  }

  /**
   * Whether an event of time {@code timeMs}, within the grace period, is older than an event this
   * entity sealed early because it held more than {@code maxEventsInGrace} events.
   */
  boolean isBehindEarlySeal(EntityState state, long timeMs) {
    return state != null && timeMs >= state.maxTime - graceMs && timeMs < state.sealedUpTo;
  }

  /** How far behind the entity's latest event time {@code timeMs} is (0 when not behind). */
  long lagMs(EntityState state, long timeMs) {
    return state == null || !state.seen() ? 0 : Math.max(0, state.maxTime - timeMs);
  }

  /**
   * The feature values of an event and of the entity now.
   *
   * @param log the values as of the event, including it (for the feature log)
   * @param online the values as of the entity's latest event time with every event so far (for
   *     the online store); the same array as {@code log} when the event is the latest
   */
  record Result(Object[] log, Object[] online) {}

  /** Applies a (not late) event and evaluates. */
  Result apply(EntityState state, FeatureEvent event) {
    long seq = state.nextSeq++;
    long t = event.timeMs();
    state.recent.add(new EntityState.Recent(seq, t, event.values(), event.filterBits()));
    boolean latest = !state.seen() || t >= state.maxTime;
    if (latest) {
      state.maxTime = t;
      state.maxSeq = seq;
      state.maxEventId = event.eventId();
    }
    Object[] log = evaluate(state, t, seq);
    Object[] online = latest ? log : evaluate(state, state.maxTime, state.maxSeq);
    seal(state);
    return new Result(log, online);
  }

  /**
   * The features at time {@code t}, leaving the event {@code excludeSeq} out of time since last.
   * Values per declared feature: Double, String (categorical) or null (undefined).
   */
  Object[] evaluate(EntityState state, long t, long excludeSeq) {
    Tile[] accs = new Tile[windowed.size()];
    long[] previous = new long[windowed.size()];
    for (int w = 0; w < windowed.size(); w++) {
      WindowedColumn wc = windowed.get(w);
      Column col = columns.get(wc.column());
      Tile.Plan tp = tilePlans[wc.column()];
      Tile acc = new Tile();
      long prev = Long.MIN_VALUE;
      Tiles tiles = state.tiles[wc.column()];
      boolean lifetime = wc.window().lifetime();
      long lo = Long.MIN_VALUE;
      int from = 0;
      int to = tiles.size();
      if (!lifetime) {
        long h = Math.floorDiv(t, col.tileMs());
        lo = h - wc.window().tiles() + 1;
        from = tiles.from(lo);
        to = tiles.upTo(h);
      }
      for (int i = from; i < to; i++) {
        Tile tile = tiles.tile(i);
        acc.merge(tile, tp, distinctBound);
        if (tp.firstLast() && tile.count > 0) {
          prev = Math.max(prev, tile.lastTime);
        }
      }
      for (EntityState.Recent r : state.recent) {
        if (r.timeMs() > t || !r.passes(col.filter())) {
          continue;
        }
        Object value = col.field() < 0 ? null : r.values()[col.field()];
        if (col.field() >= 0 && value == null) {
          continue;
        }
        if (!lifetime && Math.floorDiv(r.timeMs(), col.tileMs()) < lo) {
          continue;
        }
        acc.add(r.timeMs(), value, tp, distinctBound);
        if (r.seq() != excludeSeq) {
          prev = Math.max(prev, r.timeMs());
        }
      }
      accs[w] = acc;
      previous[w] = prev;
    }
    Object[] out = new Object[features.size()];
    for (int i = 0; i < features.size(); i++) {
      PlannedFeature f = features.get(i);
      if (f.aggregation() == Aggregation.RATIO) {
        continue;
      }
      Tile a = accs[f.windowed()];
      out[i] = switch (f.aggregation()) {
        case COUNT -> (double) a.count;
        case SUM -> a.count == 0 ? 0.0 : a.sum;
        case MEAN -> a.count == 0 ? null : a.sum / a.count;
        case MIN -> a.count == 0 ? null : a.min;
        case MAX -> a.count == 0 ? null : a.max;
        case STDDEV -> a.count == 0 ? null : Math.sqrt(Math.max(0.0, a.m2 / a.count));
        case LAST -> a.count == 0 ? null : a.lastValue;
        case FIRST -> a.count == 0 ? null : a.firstValue;
        case DISTINCT_COUNT -> a.distinctCount();
        case TIME_SINCE_LAST -> previous[f.windowed()] == Long.MIN_VALUE ? null
            : (t - previous[f.windowed()]) / 1000.0;
        case RATIO -> null;
      };
    }
    for (int i = 0; i < features.size(); i++) {
      PlannedFeature f = features.get(i);
      if (f.aggregation() == Aggregation.RATIO) {
        Object n = out[f.numerator()];
        Object d = out[f.denominator()];
        out[i] = n instanceof Double nd && d instanceof Double dd && dd != 0.0 ? nd / dd : null;
      }
    }
    return out;
  }

  /**
   * Folds the recent events no acceptable event can precede any more (older than the latest event
   * time minus the grace period) into their tiles, and drops tiles no window can reach. When more
   * than {@code maxEventsInGrace} recent events remain, seals the oldest early: every one up to
   * the time that leaves at most half of {@code maxEventsInGrace} (so that a hot entity sorts its
   * events once per that many, not on each), and records that time as {@link
   * EntityState#sealedUpTo}.
   */
  void seal(EntityState state) {
    long boundary = state.maxTime - graceMs;
    sealBefore(state, boundary);
    if (state.recent.size() > maxRecent) {
      long[] times = new long[state.recent.size()];
      for (int i = 0; i < times.length; i++) {
        times[i] = state.recent.get(i).timeMs();
      }
      Arrays.sort(times);
      long upTo = times[times.length - 1 - maxRecent / 2];
      sealEarly(state, upTo);
    }
    dropUnreachableTiles(state);
  }

  /**
   * Seals early, as {@link #seal} does for a hot entity, every event the entity holds but its
   * latest: events older than the latest event time are late from then on. For an entity whose
   * held events would make its state too large for a record of the state changelog (long text
   * values).
   */
  void sealAll(EntityState state) {
    if (!state.recent.isEmpty()) {
      sealEarly(state, state.maxTime);
      dropUnreachableTiles(state);
    }
  }

  /**
   * Seals every held event up to {@code upTo}, inclusive, but the latest (see {@link
   * #sealBefore}), and records {@code upTo} as sealed early.
   *
   * <p>{@code upTo} may be the latest event time itself: an entity with more than half of {@code
   * maxEventsInGrace} events at its latest instant (a backfill stamped at midnight, a busy entity
   * with second-resolution times) would otherwise hold every event of that instant, without
   * bound. Sealing them stays exact: an event accepted afterwards is of that instant or later,
   * and those of that instant arrive after every sealed one, which is what ties of first and last
   * (earlier and later arrival) and the evaluation's order (tiles, then held events) assume; and
   * the latest event stays held, so it can still be left out of time since last.
   */
  private void sealEarly(EntityState state, long upTo) {
    long capped = Math.min(upTo, state.maxTime);
    if (capped < state.sealedUpTo) {
      return;
    }
    state.sealedUpTo = capped;
    sealBefore(state, capped + 1);
  }

  /**
   * Drops the tiles no window can reach any more: no event before the acceptance floor (the grace
   * boundary or the early seal, whichever is later) can be applied, so no window reaches a tile
   * more than its length before it; and no sealed event is after it.
   */
  private void dropUnreachableTiles(EntityState state) {
    long floor = Math.max(state.maxTime - graceMs, state.sealedUpTo);
    for (int c = 0; c < columns.size(); c++) {
      Column col = columns.get(c);
      if (col.tileMs() == Long.MAX_VALUE) {
        continue;
      }
      long keepFrom = Math.floorDiv(floor, col.tileMs()) - col.keepTiles() + 1;
      state.tiles[c].dropBefore(keepFrom);
    }
  }

  /**
   * Folds the recent events older than {@code boundary} into their tiles, in arrival order, and
   * keeps the others in place (compacting the list without allocating: this runs on every event).
   * Never folds the latest event ({@link EntityState#maxSeq}, the last to arrive of the latest
   * event time): the online vector leaves it out of time since last when it is computed again
   * from the state, and only a held event can be left out.
   */
  private void sealBefore(EntityState state, long boundary) {
    List<EntityState.Recent> recent = state.recent;
    int kept = 0;
    for (int i = 0; i < recent.size(); i++) {
      EntityState.Recent r = recent.get(i);
      if (r.timeMs() >= boundary || r.seq() == state.maxSeq) {
        recent.set(kept++, r);
        continue;
      }
      for (int c = 0; c < columns.size(); c++) {
        Column col = columns.get(c);
        if (!r.passes(col.filter())) {
          continue;
        }
        Object value = col.field() < 0 ? null : r.values()[col.field()];
        if (col.field() >= 0 && value == null) {
          continue;
        }
        long index = col.tileMs() == Long.MAX_VALUE ? 0 : Math.floorDiv(r.timeMs(), col.tileMs());
        state.tiles[c].getOrCreate(index)
            .add(r.timeMs(), value, tilePlans[c], tileDistinctBounds[c]);
      }
    }
    for (int i = recent.size() - 1; i >= kept; i--) {
      recent.remove(i);
    }
  }
}
