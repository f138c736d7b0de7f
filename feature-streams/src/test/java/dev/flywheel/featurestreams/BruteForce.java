package dev.flywheel.featurestreams;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The reference the engine is checked against: every feature recomputed from the raw events, by
 * scanning them all, with none of the engine's tiles, sealing or merging. The window definition is
 * the documented one: at time {@code t}, a sliding window of {@code n} tiles holds the events with
 * {@code time <= t} whose tile is one of {@code tile(t)-n+1 .. tile(t)}.
 */
final class BruteForce {

  private BruteForce() {}

  /**
   * The features of {@code self} at time {@code t}.
   *
   * @param history the entity's accepted events that arrived up to and including {@code self},
   *     in arrival order
   */
  static Map<String, Object> features(FeatureGroupConfig group, List<TransactionSource.Tx> history,
      TransactionSource.Tx self, long t) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (FeatureConfig f : group.features()) {
      if (f.aggregation() == Aggregation.RATIO) {
        continue;
      }
      List<Integer> in = new ArrayList<>();
      for (int i = 0; i < history.size(); i++) {
        TransactionSource.Tx e = history.get(i);
        if (e.timeMs() > t || !passes(f.filter(), e)) {
          continue;
        }
        if (f.field() != null && value(e, f.field()) == null) {
          continue;
        }
        FeatureWindow w = f.window();
        if (!w.lifetime()
            && Math.floorDiv(e.timeMs(), w.tileMs())
                < Math.floorDiv(t, w.tileMs()) - w.tiles() + 1) {
          continue;
        }
        in.add(i);
      }
      out.put(f.name(), aggregate(f, history, in, self, t));
    }
    for (FeatureConfig f : group.features()) {
      if (f.aggregation() == Aggregation.RATIO) {
        Object n = out.get(f.numerator());
        Object d = out.get(f.denominator());
        out.put(f.name(), n instanceof Double nd && d instanceof Double dd && dd != 0.0
            ? nd / dd : null);
      }
    }
    Map<String, Object> ordered = new LinkedHashMap<>();
    for (FeatureConfig f : group.features()) {
      ordered.put(f.name(), out.get(f.name()));
    }
    return ordered;
  }

  private static Object aggregate(FeatureConfig f, List<TransactionSource.Tx> history,
      List<Integer> in, TransactionSource.Tx self, long t) {
    int n = in.size();
    List<Double> xs = new ArrayList<>();
    if (f.field() != null) {
      for (int i : in) {
        if (value(history.get(i), f.field()) instanceof Double d) {
          xs.add(d);
        }
      }
    }
    switch (f.aggregation()) {
      case COUNT:
        return (double) n;
      case SUM:
        return xs.stream().mapToDouble(Double::doubleValue).sum();
      case MEAN:
        return n == 0 ? null : xs.stream().mapToDouble(Double::doubleValue).sum() / n;
      case MIN:
        return n == 0 ? null : xs.stream().mapToDouble(Double::doubleValue).min().getAsDouble();
      case MAX:
        return n == 0 ? null : xs.stream().mapToDouble(Double::doubleValue).max().getAsDouble();
      case STDDEV: {
        if (n == 0) {
          return null;
        }
        double mean = xs.stream().mapToDouble(Double::doubleValue).sum() / n;
        double ss = 0;
        for (double x : xs) {
          ss += (x - mean) * (x - mean);
        }
        return Math.sqrt(ss / n);
      }
      case LAST: {
        int best = -1;
        for (int i : in) {
          if (best < 0 || history.get(i).timeMs() >= history.get(best).timeMs()) {
            best = i;
          }
        }
        return best < 0 ? null : value(history.get(best), f.field());
      }
      case FIRST: {
        int best = -1;
        for (int i : in) {
          if (best < 0 || history.get(i).timeMs() < history.get(best).timeMs()) {
            best = i;
          }
        }
        return best < 0 ? null : value(history.get(best), f.field());
      }
      case DISTINCT_COUNT: {
        Set<Object> distinct = new HashSet<>();
        for (int i : in) {
          distinct.add(value(history.get(i), f.field()));
        }
        return (double) distinct.size();
      }
      case TIME_SINCE_LAST: {
        long prev = Long.MIN_VALUE;
        for (int i : in) {
          if (history.get(i) != self) {
            prev = Math.max(prev, history.get(i).timeMs());
          }
        }
        return prev == Long.MIN_VALUE ? null : (t - prev) / 1000.0;
      }
      default:
        throw new IllegalArgumentException(f.aggregation().toString());
    }
  }

  /** The field of a transaction as the engine reads it: numbers as Double, the rest as text. */
  static Object value(TransactionSource.Tx e, String field) {
    return switch (field) {
      case "amount" -> e.amount();
      case "event_time" -> (double) e.timeMs();
      case "merchant" -> e.merchant();
      case "category" -> e.category();
      case "country" -> e.country();
      case "channel" -> e.channel();
      case "card_id" -> e.card();
      case "currency" -> "EUR";
      case "event_id" -> e.eventId();
      default -> throw new IllegalArgumentException("no field " + field);
    };
  }

  private static boolean passes(FeatureFilter filter, TransactionSource.Tx e) {
    if (filter == null) {
      return true;
    }
    Object v = value(e, filter.field());
    boolean equal;
    int order = 0;
    if (v instanceof Double d) {
      equal = d == filter.number().doubleValue();
      order = Double.compare(d, filter.number());
    } else {
      equal = v.equals(filter.literal());
    }
    return switch (filter.op()) {
      case EQ -> equal;
      case NE -> !equal;
      case LT -> order < 0;
      case LE -> order <= 0;
      case GT -> order > 0;
      case GE -> order >= 0;
    };
  }
}
