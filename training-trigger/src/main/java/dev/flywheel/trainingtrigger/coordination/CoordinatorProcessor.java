package dev.flywheel.trainingtrigger.coordination;

import dev.flywheel.events.Actor;
import dev.flywheel.events.ActorKind;
import dev.flywheel.events.ExecutorKind;
import dev.flywheel.events.ModelLineage;
import dev.flywheel.events.RunStatus;
import dev.flywheel.events.TrainingReason;
import dev.flywheel.events.TrainingRequested;
import dev.flywheel.events.TrainingRun;
import dev.flywheel.events.TriggerKind;
import dev.flywheel.trainingtrigger.config.ModelSpec;
import dev.flywheel.trainingtrigger.config.TrainingTriggerConfig;
import dev.flywheel.trainingtrigger.config.TriggerSpec;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides when each model's runs start. Per model, in one store: at most one run in flight; a
 * cooldown after each finished run; every request that arrives meanwhile is coalesced into the next
 * run with its reason kept, within the bound of {@link Reasons} (the first reasons and the latest
 * one by one, the others counted per trigger kind); a failed run is retried under the same run id
 * with exponential backoff; label counts and schedules raise their own requests.
 *
 * <p>Time is the input record's timestamp (event time) when processing a record, and the
 * punctuation time of the wall-clock tick that checks schedules, cooldowns and backoffs.
 *
 * <p>Run ids are {@code <model>-<n>}, n counting the model's runs in the store, so a run is
 * identified the same way after a crash: Streams' exactly-once commits the store, the STARTED event
 * and the input offsets together.
 *
 * <p>A request for a model that is not declared, or that is declared without featureGroup (trained
 * outside Flywheel), or whose parameter overrides are beyond the bound of {@link ParamOverrides}
 * (alone, or with those the model's next run would combine them with), is refused by throwing
 * before any state changes: the processing exception handler of {@code StreamsProps} puts it on
 * {@code flywheel.training.requests.dlq} with the reason and the coordinator carries on with the
 * next record.
 *
 * <p>A COMPLETED or FAILED event frees the model only when it is the outcome of the attempt in
 * flight: the same run id and attempt, and the same {@code started_at} as the STARTED event the
 * coordinator wrote for it. Run ids begin again at {@code <model>-1} after the coordinator's state
 * is reset (its application reset, or its state lost and rebuilt), so an outcome of an attempt
 * started before the reset can carry the id and attempt of the one in flight; its start time tells
 * them apart. Any other outcome changes nothing: it is logged, and counted in {@value
 * #IGNORED_OUTCOMES} with its reason ({@value #NOT_IN_FLIGHT} or {@value #OTHER_START}). It is not
 * dead-lettered: it is a valid event of its own attempt, which registry-projector reads, and an
 * application reset that reads the runs topic again would put every earlier outcome on the DLQ.
 * When the state does not hold the attempt's start (0, a state written without it) or the outcome
 * carries none, the outcome is matched by run id and attempt alone, as before start times were
 * compared.
 */
public final class CoordinatorProcessor implements Processor<String, Signal, String, Emit> {

  /** The actor of the requests and runs the coordinator writes. */
  public static final Actor SERVICE_ACTOR = Actor.newBuilder().setName("training-trigger")
      .setKind(ActorKind.SERVICE).setRoles(List.of()).build();

  /**
   * The counter of COMPLETED and FAILED events that did not free their model as they are not the
   * outcome of the attempt in flight, tagged {@code model} and {@code reason}.
   */
  public static final String IGNORED_OUTCOMES = "flywheel.training.outcomes.ignored";
  /** The {@code reason} of an outcome of a run id or attempt that is not in flight. */
  public static final String NOT_IN_FLIGHT = "not_in_flight";
  /**
   * The {@code reason} of an outcome with the run id and attempt of the attempt in flight but
   * another start time: an attempt of an earlier run with the same id, started before the
   * coordinator's state was reset (or, the other way round, of a later one).
   */
  public static final String OTHER_START = "other_started_at";

  private static final Logger log = LoggerFactory.getLogger(CoordinatorProcessor.class);

  private final TrainingTriggerConfig config;
  private final String storeName;
  private final int partitions;
  private final MeterRegistry meters;
  private ProcessorContext<String, Emit> context;
  private KeyValueStore<String, ModelState> store;

  /**
   * @param config the models
   * @param storeName the model-state store
   * @param partitions partitions of the coordinator's input topics: a model's state lives in the
   *     task of the partition its name hashes to, and only that task ticks it
   * @param meters where {@value #IGNORED_OUTCOMES} is counted
   */
  public CoordinatorProcessor(TrainingTriggerConfig config, String storeName, int partitions,
      MeterRegistry meters) {
    this.config = config;
    this.storeName = storeName;
    this.partitions = partitions;
    this.meters = meters;
  }

  /** The partition a model's name is keyed to (Kafka's default partitioner of string keys). */
  public static int partitionOf(String model, int partitions) {
    return Utils.toPositive(Utils.murmur2(model.getBytes(StandardCharsets.UTF_8))) % partitions;
  }

  @Override
  public void init(ProcessorContext<String, Emit> context) {
    this.context = context;
    this.store = context.getStateStore(storeName);
    context.schedule(config.service().tick(), PunctuationType.WALL_CLOCK_TIME, this::tick);
  }

  @Override
  public void process(Record<String, Signal> record) {
    String model = record.key();
    // thrown before the state is touched: the record goes to <topic>.dlq with the reason
    // (DeadLetterProcessingHandler) and the model's state is as it was
    if (config.isExternal(model)) {
      throw new IllegalArgumentException(TrainingTriggerConfig.externalRefusal(model));
    }
    ModelSpec spec = config.model(model).orElseThrow(() -> new IllegalArgumentException(
        "no model '" + model + "' is declared under models: in flywheel.yaml; declared: "
            + config.models().keySet()));
    long now = record.timestamp();
    ModelState state = load(model);
    Signal s = record.value();
    if (s.request() != null) {
      onRequest(spec, state, s.request());
    } else if (s.label() != null) {
      onLabel(spec, state, now);
    } else if (s.run() != null) {
      onRunFinished(spec, state, s.run(), now);
    }
    tryLaunch(spec, state, now);
    store.put(model, state);
  }

  private void tick(long now) {
    int mine = context.taskId().partition();
    for (ModelSpec spec : config.models().values()) {
      if (partitionOf(spec.name(), partitions) != mine && store.get(spec.name()) == null) {
        continue;
      }
      ModelState state = load(spec.name());
      Duration period = spec.triggers().schedule();
      if (period != null) {
        if (state.nextScheduleAtMs == null) {
          state.nextScheduleAtMs = now + period.toMillis();
        } else if (now >= state.nextScheduleAtMs) {
          long due = state.nextScheduleAtMs;
          raise(spec.name(), "schedule/" + due, reason(TriggerKind.SCHEDULE, now,
              "every " + period + ", due at " + Instant.ofEpochMilli(due)), null, now);
          while (state.nextScheduleAtMs <= now) {
            state.nextScheduleAtMs += period.toMillis();
          }
        }
      }
      tryLaunch(spec, state, now);
      store.put(spec.name(), state);
    }
  }

  private ModelState load(String model) {
    ModelState s = store.get(model);
    if (s == null) {
      return new ModelState();
    }
    if (s.pending.size() > Reasons.MAX || s.inFlightReasons.size() > Reasons.MAX
        || s.retryReasons.size() > Reasons.MAX) {
      // written before reasons were bounded: bounded now, so that the state written back is small
      s.pending = Reasons.bounded(s.pending, awaitedRetry(model, s));
      s.inFlightReasons = Reasons.bounded(s.inFlightReasons, null);
      s.retryReasons = Reasons.bounded(s.retryReasons, null);
    }
    return s;
  }

  /** The request id of the RETRY request the model's pending retry waits for, or null. */
  private static String awaitedRetry(String model, ModelState state) {
    return state.retryRunId == null ? null
        : model + "/" + retryId(state.retryRunId, state.retryAttempt);
  }

  /** What follows {@code <model>/} in the event id of the RETRY request of a run's attempt. */
  private static String retryId(String runId, int attempt) {
    return "retry/" + runId + "/" + attempt;
  }

  private void onRequest(ModelSpec spec, ModelState state, TrainingRequested r) {
    if (state.hasPending(r.getEventId())) {
      return;
    }
    // thrown before the state is touched, as for an undeclared model: the request goes to the
    // DLQ with what to fix, and the model's state and its next STARTED event stay within 1 MiB
    String tooMany = ParamOverrides.problem("request " + r.getEventId() + " for model '"
            + spec.name() + "'", spec.name(), r.getParams(),
        List.of(state.pendingParams, state.inFlightParams, state.retryParams));
    if (tooMany != null) {
      throw new IllegalArgumentException(tooMany);
    }
    Reasons.add(state.pending, Reason.of(r.getReason(), r.getEventId()),
        awaitedRetry(spec.name(), state));
    state.pendingParams.putAll(r.getParams());
    if (r.getNotBefore() != null) {
      long nb = r.getNotBefore().toEpochMilli();
      state.notBeforeMs = state.notBeforeMs == null ? nb : Math.max(state.notBeforeMs, nb);
    }
  }

  private void onLabel(ModelSpec spec, ModelState state, long now) {
    Long threshold = spec.triggers().newLabels();
    if (threshold == null) {
      return;
    }
    state.labelsSinceTrigger++;
    if (state.labelsSinceTrigger >= threshold) {
      state.labelTriggers++;
      TrainingReason reason = reason(TriggerKind.NEW_LABELS, now, state.labelsSinceTrigger
          + " new labels of target '" + spec.target() + "' (threshold " + threshold + ")");
      reason.setLabelCount(state.labelsSinceTrigger);
      raise(spec.name(), "new-labels/" + state.labelTriggers, reason, null, now);
      state.labelsSinceTrigger = 0;
    }
  }

  private void onRunFinished(ModelSpec spec, ModelState state, TrainingRun run, long now) {
    if (!run.getRunId().equals(state.inFlightRunId) || run.getAttempt() != state.inFlightAttempt) {
      log.debug("ignoring {} of run {} attempt {}: not the run in flight ({} attempt {})",
          run.getStatus(), run.getRunId(), run.getAttempt(), state.inFlightRunId,
          state.inFlightAttempt);
      countIgnored(spec, NOT_IN_FLIGHT);
      return;
    }
    if (!sameStart(state, run)) {
      log.warn("ignoring {} {} of run {} attempt {} of model {}: that attempt started at {}, the"
          + " one in flight at {}. It is the outcome of another run with the same id (run ids"
          + " began again after the coordinator's state was reset); run {} attempt {} stays in"
          + " flight until its own outcome arrives", run.getStatus(), run.getEventId(),
          run.getRunId(), run.getAttempt(), spec.name(), run.getStartedAt(),
          Instant.ofEpochMilli(state.inFlightStartedAtMs), state.inFlightRunId,
          state.inFlightAttempt);
      countIgnored(spec, OTHER_START);
      return;
    }
    long finished = run.getFinishedAt() == null ? now : run.getFinishedAt().toEpochMilli();
    TriggerSpec triggers = spec.triggers();
    if (run.getStatus() == RunStatus.FAILED && run.getRetriable()
        && run.getAttempt() < triggers.maxAttempts()) {
      long notBefore = finished + triggers.backoffAfter(run.getAttempt()).toMillis();
      state.retryRunId = run.getRunId();
      state.retryAttempt = run.getAttempt() + 1;
      state.retryReasons = new ArrayList<>(state.inFlightReasons);
      state.retryParams = new TreeMap<>(state.inFlightParams);
      TrainingReason reason = reason(TriggerKind.RETRY, now, "attempt " + run.getAttempt()
          + " failed: " + run.getError());
      reason.setRetryOfRunId(run.getRunId());
      raise(spec.name(), retryId(run.getRunId(), state.retryAttempt), reason,
          Instant.ofEpochMilli(notBefore), now);
    } else {
      state.lastFinishedAtMs = finished;
      if (run.getStatus() == RunStatus.FAILED) {
        log.warn("run {} of model {} failed after {} attempt(s); not retried: {}",
            run.getRunId(), spec.name(), run.getAttempt(), run.getError());
      }
    }
    state.inFlightRunId = null;
    state.inFlightAttempt = 0;
    state.inFlightReasons = new ArrayList<>();
    state.inFlightParams = new TreeMap<>();
  }

  /**
   * Whether the outcome's {@code started_at} is the start of the attempt in flight; true when
   * either is unknown (a state that does not hold it, or an outcome without it), which are then
   * matched by run id and attempt alone.
   */
  private static boolean sameStart(ModelState state, TrainingRun run) {
    return state.inFlightStartedAtMs == 0 || run.getStartedAt() == null
        || run.getStartedAt().toEpochMilli() == state.inFlightStartedAtMs;
  }

  private void countIgnored(ModelSpec spec, String reason) {
    Counter.builder(IGNORED_OUTCOMES)
        .description("Run outcomes that did not free their model: not of the attempt in flight")
        .tags("model", spec.name(), "reason", reason).register(meters).increment();
  }

  private void tryLaunch(ModelSpec spec, ModelState state, long now) {
    if (state.inFlightRunId != null || state.pending.isEmpty()) {
      return;
    }
    if (state.notBeforeMs != null && now < state.notBeforeMs) {
      return;
    }
    boolean retry = state.retryRunId != null && state.pending.stream()
        .anyMatch(r -> state.retryRunId.equals(r.retryOfRunId()));
    if (state.retryRunId != null && !retry) {
      // the failed run's RETRY request is on its way through flywheel.training.requests: no other
      // run starts before it, and the retry takes every reason pending meanwhile with it
      return;
    }
    if (!retry && state.lastFinishedAtMs != null
        && now < state.lastFinishedAtMs + spec.triggers().cooldown().toMillis()) {
      return;
    }
    String runId;
    int attempt;
    List<Reason> all = new ArrayList<>();
    Map<String, String> overrides = new TreeMap<>();
    String keep = null;
    if (retry) {
      runId = state.retryRunId;
      attempt = state.retryAttempt;
      keep = awaitedRetry(spec.name(), state);
      all.addAll(state.retryReasons);
      overrides.putAll(state.retryParams);
      state.retryRunId = null;
      state.retryAttempt = 0;
      state.retryReasons = new ArrayList<>();
      state.retryParams = new TreeMap<>();
    } else {
      state.runSeq++;
      runId = runId(spec.name(), state.runSeq);
      attempt = 1;
    }
    all.addAll(state.pending);
    // the failed attempt's reasons and those pending, within the bound (the attempt's own RETRY
    // reason kept)
    List<Reason> reasons = Reasons.bounded(all, keep);
    overrides.putAll(state.pendingParams);
    state.pending = new ArrayList<>();
    state.pendingParams = new TreeMap<>();
    state.notBeforeMs = null;
    state.inFlightRunId = runId;
    state.inFlightAttempt = attempt;
    state.inFlightStartedAtMs = now;
    state.inFlightReasons = reasons;
    state.inFlightParams = overrides;
    Map<String, String> params = new TreeMap<>(spec.training().params());
    params.putAll(overrides);
    Instant at = Instant.ofEpochMilli(now);
    TrainingRun started = TrainingRun.newBuilder()
        .setEventId(eventId(runId, attempt, RunStatus.STARTED))
        .setEventTime(at).setRunId(runId).setModel(spec.name()).setStatus(RunStatus.STARTED)
        .setAttempt(attempt).setStartedAt(at)
        .setLineage(ModelLineage.newBuilder().setRunId(runId)
            .setReasons(reasons.stream().map(Reason::toAvro).toList())
            .setTrainer(spec.training().trainer())
            .setExecutor(ExecutorKind.valueOf(spec.training().executor().kind().name()))
            .build())
        .setParams(params).build();
    log.info("starting run {} (attempt {}) of model {} for {} reason(s)", runId, attempt,
        spec.name(), reasons.size());
    context.forward(new Record<>(runId, new Emit(null, started), now));
  }

  private void raise(String model, String id, TrainingReason reason, Instant notBefore,
      long now) {
    TrainingRequested r = TrainingRequested.newBuilder().setEventId(model + "/" + id)
        .setEventTime(Instant.ofEpochMilli(now)).setModel(model).setReason(reason)
        .setActor(SERVICE_ACTOR).setParams(Map.of()).setNotBefore(notBefore).build();
    context.forward(new Record<>(model, new Emit(r, null), now));
  }

  private static TrainingReason reason(TriggerKind kind, long now, String detail) {
    return TrainingReason.newBuilder().setKind(kind).setDetail(detail)
        .setTriggeredAt(Instant.ofEpochMilli(now)).build();
  }

  /** The id of a model's n-th run. */
  public static String runId(String model, long n) {
    return model + "-" + n;
  }

  /** The event id of a run's status event: deterministic per run, attempt and status. */
  public static String eventId(String runId, int attempt, RunStatus status) {
    return runId + "/" + attempt + "/" + status.name().toLowerCase();
  }
}
