package dev.flywheel.trainingtrigger.coordination;

import dev.flywheel.events.TrainingRequested;
import dev.flywheel.events.TrainingRun;

/**
 * One output of the coordinator: a request it raises (label, schedule, retry triggers; keyed by
 * model) or a run it starts (keyed by run id). Exactly one field is set.
 *
 * @param request a request; or null
 * @param run a STARTED run; or null
 */
public record Emit(TrainingRequested request, TrainingRun run) {

  /** Whether this is a request. */
  public boolean isRequest() {
    return request != null;
  }
}
