package dev.flywheel.trainingtrigger.executor;

import dev.flywheel.trainingtrigger.config.ModelSpec;
import dev.flywheel.trainingtrigger.dataset.Dataset;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

/**
 * Everything an executor needs for one attempt of one run.
 *
 * @param runId the run's deterministic id
 * @param attempt the attempt, from 1
 * @param model the model's spec
 * @param params the effective parameters (spec and request overrides)
 * @param dataset the built, stored dataset
 * @param workDir scratch space of this attempt, created
 * @param startedAt when the coordinator started the attempt (its STARTED event's {@code
 *     started_at}): with the run id and attempt, it tells this attempt from one of an earlier run
 *     with the same id (after the coordinator's state was reset)
 */
public record RunContext(String runId, int attempt, ModelSpec model, Map<String, String> params,
    Dataset dataset, Path workDir, Instant startedAt) {

  /**
   * The artifact-store prefix of this attempt's outputs: {@code runs/<run id>/<attempt>/<started
   * at, epoch ms>/}. The start time keeps an attempt of a run whose id came round again (the
   * coordinator's state was reset, so run numbers started over) from reading, or overwriting, the
   * outputs an earlier run of the same id left there; a restarted instance following the same
   * attempt computes the same prefix from the same STARTED event. Without a start time (events of
   * an older release) it is {@code runs/<run id>/<attempt>/}.
   */
  public String outputPrefix() {
    return "runs/" + runId + "/" + attempt + "/"
        + (startedAt == null ? "" : startedAt.toEpochMilli() + "/");
  }
}
