package dev.flywheel.trainingtrigger.coordination;

import dev.flywheel.events.TriggerKind;
import java.util.ArrayList;
import java.util.List;

/**
 * The bound on the reasons a model's state keeps and a run lists, so that neither the state's
 * changelog record nor the STARTED event grows with the requests that arrive while a run is in
 * flight, in its cooldown or waiting for a retry.
 *
 * <p>A list keeps one by one its first {@value #FIRST} reasons and its latest. A reason that
 * arrives when it holds {@code FIRST + 1} takes the latest one's place, and the one it replaces is
 * folded into the summary of its trigger kind: one entry per kind, counting the reasons folded,
 * when the earliest and the latest of them fired and, for NEW_LABELS, their labels in all. A list
 * is thus, oldest first: {@value #FIRST} reasons, at most one summary per kind, the latest
 * reason; at most {@link #MAX} entries. A detail longer than {@value #MAX_DETAIL} characters is
 * cut. The one reason a list must keep, the RETRY request a pending retry waits for, is never
 * folded.
 *
 * <p>Deterministic: what is kept depends only on the order the reasons arrive in (no clock, no
 * hash order), so a replay of the same input gives the same state and the same STARTED event.
 */
public final class Reasons {

  /** The reasons a list keeps one by one from its start. */
  public static final int FIRST = 10;
  /** The longest detail kept; a longer one is cut to fit, saying how much was left out. */
  public static final int MAX_DETAIL = 1_000;
  /** Room a cut detail leaves for saying how much was left out ({@code … (N more characters)}). */
  private static final int CUT_NOTE = 40;
  /** The most entries a list holds: the first ones, the latest, a summary per kind, a retry. */
  public static final int MAX = FIRST + 1 + TriggerKind.values().length + 1;

  private Reasons() {}

  /**
   * Adds {@code r} to {@code reasons} within the bound (a summary is merged into the list's
   * summary of its kind).
   *
   * @param keep the request id of a reason never to fold (the awaited RETRY); may be null
   */
  public static void add(List<Reason> reasons, Reason r, String keep) {
    if (r.summary()) {
      merge(reasons, r, keep);
      return;
    }
    Reason single = cut(r);
    int kept = keptIndex(reasons, keep);
    if (kept < 0 && keep != null && keep.equals(single.requestId())) {
      reasons.add(single);
      return;
    }
    int last = -1;
    int singles = 0;
    for (int i = 0; i < reasons.size(); i++) {
      if (!reasons.get(i).summary() && i != kept) {
        singles++;
        last = i;
      }
    }
    if (singles > FIRST) {
      // full: the latest reason gives way to the new one and is counted in its kind's summary
      Reason latest = reasons.remove(last);
      merge(reasons, new Reason(latest.kind(), null, latest.triggeredAtMs(), null, null,
          latest.labelCount(), null, 1L, latest.triggeredAtMs()), keep);
    }
    reasons.add(single);
  }

  /**
   * A new list of {@code reasons}, in their order, within the bound.
   *
   * @param keep the request id of a reason never to fold; may be null
   */
  public static List<Reason> bounded(List<Reason> reasons, String keep) {
    List<Reason> out = new ArrayList<>(Math.min(reasons.size(), MAX));
    for (Reason r : reasons) {
      add(out, r, keep);
    }
    return out;
  }

  /** The index of the first single reason with request id {@code keep}, or -1. */
  private static int keptIndex(List<Reason> reasons, String keep) {
    if (keep == null) {
      return -1;
    }
    for (int i = 0; i < reasons.size(); i++) {
      if (!reasons.get(i).summary() && keep.equals(reasons.get(i).requestId())) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Merges a summary into the list's summary of its kind, or puts it after the last summary (the
   * first one after the first {@value #FIRST} single reasons other than the one to keep).
   */
  private static void merge(List<Reason> reasons, Reason s, String keep) {
    int kept = keptIndex(reasons, keep);
    int at = -1;
    int singles = 0;
    for (int i = 0; i < reasons.size(); i++) {
      Reason o = reasons.get(i);
      if (i == kept) {
        continue;
      }
      if (o.summary()) {
        if (o.kind().equals(s.kind())) {
          reasons.set(i, combine(o, s));
          return;
        }
        at = i + 1;
      } else if (++singles == FIRST && at < 0) {
        at = i + 1;
      }
    }
    reasons.add(at < 0 ? reasons.size() : at, s);
  }

  private static Reason combine(Reason a, Reason b) {
    Long labels = a.labelCount();
    if (labels == null) {
      labels = b.labelCount();
    } else if (b.labelCount() != null) {
      labels = labels + b.labelCount();
    }
    return new Reason(a.kind(), null, Math.max(a.triggeredAtMs(), b.triggeredAtMs()), null, null,
        labels, null, a.folded() + b.folded(), Math.min(a.foldedFromMs(), b.foldedFromMs()));
  }

  /**
   * {@code r} with a detail longer than {@value #MAX_DETAIL} characters cut to fit in them, saying
   * how much was left out; a detail cut once is not cut again.
   */
  private static Reason cut(Reason r) {
    String d = r.detail();
    if (d == null || d.length() <= MAX_DETAIL) {
      return r;
    }
    int end = MAX_DETAIL - CUT_NOTE;
    if (Character.isHighSurrogate(d.charAt(end - 1))) {
      end--;
    }
    String detail = d.substring(0, end) + "… (" + (d.length() - end) + " more characters)";
    return new Reason(r.kind(), detail, r.triggeredAtMs(), r.requestId(), r.alertId(),
        r.labelCount(), r.retryOfRunId(), r.folded(), r.foldedFromMs());
  }
}
