package dev.flywheel.trainingtrigger.executor;

import dev.flywheel.events.ExecutorKind;
import dev.flywheel.trainingtrigger.training.TrainingOutput;

/**
 * Runs one attempt of a training run somewhere and hands back what it produced. Implementations
 * are idempotent per run id and attempt: executing the same attempt again (after a crash of the
 * service) reuses or redoes the work, never starts a second copy alongside a running one.
 */
public interface TrainingExecutor {

  /** Where this executor runs training. */
  ExecutorKind kind();

  /**
   * Blocks until the attempt finished.
   *
   * @throws Exception when it failed or timed out; the message says why in words an operator can
   *     act on
   */
  TrainingOutput execute(RunContext run) throws Exception;
}
