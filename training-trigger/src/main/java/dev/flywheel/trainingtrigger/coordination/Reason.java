package dev.flywheel.trainingtrigger.coordination;

import dev.flywheel.events.TrainingReason;
import dev.flywheel.events.TriggerKind;
import java.time.Instant;

/**
 * A {@link TrainingReason} as the coordinator keeps it in its store (JSON).
 *
 * @param kind the trigger kind's name
 * @param detail explanation; may be null
 * @param triggeredAtMs when it fired, epoch ms
 * @param requestId the carrying request's event id; may be null
 * @param alertId the drift alert's event id; may be null
 * @param labelCount new labels behind it; may be null
 * @param retryOfRunId the failed run it retries; may be null
 */
public record Reason(String kind, String detail, long triggeredAtMs, String requestId,
    String alertId, Long labelCount, String retryOfRunId) {

  /** From the Avro reason of a request, recording the request's id. */
  public static Reason of(TrainingReason r, String requestId) {
    return new Reason(r.getKind().name(), r.getDetail(), r.getTriggeredAt().toEpochMilli(),
        requestId, r.getAlertId(), r.getLabelCount(), r.getRetryOfRunId());
  }

  /** Back to Avro. */
  public TrainingReason toAvro() {
    return TrainingReason.newBuilder().setKind(TriggerKind.valueOf(kind)).setDetail(detail)
        .setTriggeredAt(Instant.ofEpochMilli(triggeredAtMs)).setRequestId(requestId)
        .setAlertId(alertId).setLabelCount(labelCount).setRetryOfRunId(retryOfRunId).build();
  }
}
