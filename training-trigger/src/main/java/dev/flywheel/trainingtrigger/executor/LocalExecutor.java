package dev.flywheel.trainingtrigger.executor;

import dev.flywheel.events.ExecutorKind;
import dev.flywheel.trainingtrigger.training.TrainingOutput;
import dev.flywheel.trainingtrigger.training.XGBoostTrainer;
import java.io.IOException;

/**
 * Trains inside the service with the built-in XGBoost trainer, on the caller's thread (the
 * service's run pool bounds how many run at once). The timeout is not enforced: native training
 * cannot be stopped safely mid-way; use the command or kubernetes executor for runs that must be
 * cut off.
 */
public final class LocalExecutor implements TrainingExecutor {

  private final XGBoostTrainer trainer = new XGBoostTrainer();

  @Override
  public ExecutorKind kind() {
    return ExecutorKind.LOCAL;
  }

  @Override
  public TrainingOutput execute(RunContext run) throws IOException {
    return trainer.train(run.dataset(), run.model(), run.params(), run.workDir().resolve("out"));
  }
}
