package dev.flywheel.trainingtrigger.coordination;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The coordinator's state of one model, the value of {@code
 * TrainingTriggerTopology#MODEL_STATE_STORE} (JSON). Mutable; one instance per processed record.
 */
public final class ModelState {

  /** Runs launched so far; the next run's id ends with {@code runSeq + 1}. */
  public long runSeq;

  /** The run executing now, or null. */
  public String inFlightRunId;

  /** Its attempt. */
  public int inFlightAttempt;

  /**
   * When it started, epoch ms: the {@code started_at} of its STARTED event, which its outcome
   * carries, and which tells it from an attempt of an earlier run with the same id; 0 in a state
   * written without it.
   */
  public long inFlightStartedAtMs;

  /** Its reasons, within the bound of {@link Reasons}. */
  public List<Reason> inFlightReasons = new ArrayList<>();

  /** Its parameter overrides. */
  public Map<String, String> inFlightParams = new TreeMap<>();

  /** End of the last finished run (completed, or failed for good), epoch ms; null if none. */
  public Long lastFinishedAtMs;

  /**
   * Reasons waiting for the next run, oldest first, within the bound of {@link Reasons}. A request
   * whose id a reason here carries is not added again.
   */
  public List<Reason> pending = new ArrayList<>();

  /**
   * Parameter overrides of the pending requests, later ones winning; with those of the run in
   * flight or awaiting its retry, within the bound of {@link ParamOverrides} (a state written
   * before the bound may hold more, and takes no request that adds a name).
   */
  public Map<String, String> pendingParams = new TreeMap<>();

  /** The latest not-before of the pending requests, epoch ms; null if none. */
  public Long notBeforeMs;

  /** Labels of the model's target counted since the last label trigger. */
  public long labelsSinceTrigger;

  /** Label triggers fired so far (their request ids count them). */
  public long labelTriggers;

  /** Next schedule tick, epoch ms; null until the first tick or when off. */
  public Long nextScheduleAtMs;

  /** The failed run a pending retry relaunches; null if none. */
  public String retryRunId;

  /** The attempt number that relaunch gets. */
  public int retryAttempt;

  /** The reasons of the failed run, carried into its retry. */
  public List<Reason> retryReasons = new ArrayList<>();

  /** The parameter overrides of the failed run. */
  public Map<String, String> retryParams = new TreeMap<>();

  /** Whether a pending reason carries this request id already. */
  public boolean hasPending(String requestId) {
    return pending.stream().anyMatch(r -> requestId.equals(r.requestId()));
  }
}
