package dev.flywheel.trainingtrigger.coordination;

import dev.flywheel.events.Label;
import dev.flywheel.events.TrainingRequested;
import dev.flywheel.events.TrainingRun;

/**
 * One input of the coordinator, keyed by model: a training request, a label of the model's target,
 * or a finished run of the model. Exactly one field is set.
 *
 * @param request a request; or null
 * @param label a label; or null
 * @param run a COMPLETED or FAILED run; or null
 */
public record Signal(TrainingRequested request, Label label, TrainingRun run) {

  /** A request. */
  public static Signal of(TrainingRequested r) {
    return new Signal(r, null, null);
  }

  /** A label. */
  public static Signal of(Label l) {
    return new Signal(null, l, null);
  }

  /** A run. */
  public static Signal of(TrainingRun r) {
    return new Signal(null, null, r);
  }
}
