package dev.flywheel.servingsink.follow;

import dev.flywheel.servingsink.model.ModelSpec;
import dev.flywheel.servingsink.model.Refusal;

/**
 * Puts a refused version into the model's audit history (a {@code ReportServingFailure} registry
 * command, which the registry projector records as a {@code ModelEvent}).
 */
@FunctionalInterface
public interface RefusalReporter {

  /**
   * Reports the refusal; the command id is derived from the announcing event, so a refusal
   * repeated after a restart is recorded once.
   *
   * @throws RuntimeException when the report could not be written
   */
  void report(ModelSpec spec, Refusal refusal);
}
