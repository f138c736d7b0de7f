package dev.flywheel.trainingtrigger.coordination;

import dev.flywheel.events.TrainingReason;
import dev.flywheel.events.TriggerKind;
import java.time.Instant;

/**
 * A {@link TrainingReason} as the coordinator keeps it in its store (JSON), or the summary of the
 * reasons of one kind folded into a run beyond what it lists one by one ({@link Reasons}).
 *
 * @param kind the trigger kind's name
 * @param detail explanation; may be null (always for a summary, whose detail is made from counts)
 * @param triggeredAtMs when it fired, epoch ms; for a summary, the latest of those it counts
 * @param requestId the carrying request's event id; may be null (always for a summary)
 * @param alertId the drift alert's event id; may be null (always for a summary)
 * @param labelCount new labels behind it; may be null; for a summary, the sum of those it counts
 * @param retryOfRunId the failed run it retries; may be null (always for a summary)
 * @param folded for a summary, how many reasons it counts; null for a single reason (and in state
 *     written before reasons were folded)
 * @param foldedFromMs for a summary, when the earliest of them fired, epoch ms; else null
 */
public record Reason(String kind, String detail, long triggeredAtMs, String requestId,
    String alertId, Long labelCount, String retryOfRunId, Long folded, Long foldedFromMs) {

  /** A single reason. */
  public Reason(String kind, String detail, long triggeredAtMs, String requestId, String alertId,
      Long labelCount, String retryOfRunId) {
    this(kind, detail, triggeredAtMs, requestId, alertId, labelCount, retryOfRunId, null, null);
  }

  /** From the Avro reason of a request, recording the request's id. */
  public static Reason of(TrainingReason r, String requestId) {
    return new Reason(r.getKind().name(), r.getDetail(), r.getTriggeredAt().toEpochMilli(),
        requestId, r.getAlertId(), r.getLabelCount(), r.getRetryOfRunId());
  }

  /** Whether this stands for reasons folded in rather than for one request. */
  public boolean summary() {
    return folded != null;
  }

  /** Back to Avro; a summary says how many reasons of its kind it counts and when they fired. */
  public TrainingReason toAvro() {
    String text = detail;
    if (summary()) {
      text = folded + " more " + kind + " reason(s) coalesced into this run, triggered from "
          + Instant.ofEpochMilli(foldedFromMs) + " to " + Instant.ofEpochMilli(triggeredAtMs)
          + (labelCount == null ? "" : ", " + labelCount + " new labels in all")
          + "; not listed one by one: a run lists its first " + Reasons.FIRST
          + " reasons and its latest, and counts the others by kind";
    }
    return TrainingReason.newBuilder().setKind(TriggerKind.valueOf(kind)).setDetail(text)
        .setTriggeredAt(Instant.ofEpochMilli(triggeredAtMs)).setRequestId(requestId)
        .setAlertId(alertId).setLabelCount(labelCount).setRetryOfRunId(retryOfRunId).build();
  }
}
