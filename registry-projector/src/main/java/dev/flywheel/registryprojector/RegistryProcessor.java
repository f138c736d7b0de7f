package dev.flywheel.registryprojector;

import dev.flywheel.events.BaselineProfile;
import dev.flywheel.events.CommandOutcome;
import dev.flywheel.events.ModelEvent;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.ModelRegistryState;
import dev.flywheel.events.ModelVersion;
import dev.flywheel.events.RegisterVersion;
import dev.flywheel.events.RegistryCommand;
import dev.flywheel.serde.AvroSize;
import dev.flywheel.streams.StreamsProps;
import dev.flywheel.topics.RecordSize;
import java.time.Instant;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;
import java.util.function.IntFunction;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The projection: decides each {@link RegistryCommand} against the model's state in the {@link
 * RegistryTopology#STATE_STORE} store, and forwards the resulting {@link ModelEvent}s, {@link
 * ModelPromoted}s and the new {@link ModelRegistryState} to their sinks. A command id already
 * decided for the model (in {@link RegistryTopology#COMMAND_IDS_STORE}) is skipped: it changes
 * nothing and emits nothing (logged at debug). So is a training run's registration that an
 * earlier release made under the run's former command id ({@link #registeredUnderFormerId}).
 * Baselines of registered versions are kept in {@link RegistryTopology#BASELINES_STORE} for the
 * {@code ModelPromoted} of a later promotion.
 *
 * <p>A model's state holds in full only its newest versions and those an alias points at; the
 * others are summarised, their entries in {@link RegistryTopology#VERSIONS_STORE} ({@link
 * VersionSpill}). The version a command acts on is restored before the decision and the state
 * spilled again after it, so the decider always sees the versions it needs in full.
 *
 * <p>A model whose state is {@link RegistryFold#isEmpty empty} after the decision (a command
 * against a model that does not exist, rejected) gets no state: nothing in {@link
 * RegistryTopology#STATE_STORE} and no {@code flywheel.registry.state} record, so it is not
 * listed. Its position in the audit log goes to {@link RegistryTopology#POSITIONS_STORE}, and
 * its next events number on from there. A state that is empty but stored (left by a release
 * that stored rejections against unknown models) is moved there on the model's next command,
 * with a tombstone on {@code flywheel.registry.state}.
 *
 * <p>Under exactly-once the store updates, the outputs and the input offset commit together, so a
 * crash never leaves an event without its state change or the reverse.
 */
final class RegistryProcessor implements Processor<String, RegistryCommand, String, Object> {

  private static final Logger LOG = LoggerFactory.getLogger(RegistryProcessor.class);

  private final RegistryDecider decider;
  /** How many of a model's newest versions its state holds in full. */
  private final int stateVersions;
  /** The producer's {@code max.request.size}, read at init. */
  private int maxRecordBytes;
  /** Models whose state passed half of what it may take, warned about once by this processor. */
  private final Set<String> halfFullWarned = new HashSet<>();
  private ProcessorContext<String, Object> context;
  private KeyValueStore<String, ModelRegistryState> states;
  private KeyValueStore<String, ModelRegistryState> positions;
  private KeyValueStore<String, Long> commandIds;
  private KeyValueStore<String, BaselineProfile> baselines;
  private KeyValueStore<String, ModelVersion> olderVersions;
  private KeyValueStore<String, Integer> artifacts;

  RegistryProcessor(RegistryDecider decider, int stateVersions) {
    this.decider = Objects.requireNonNull(decider, "decider");
    this.stateVersions = stateVersions;
  }

  @Override
  public void init(ProcessorContext<String, Object> context) {
    this.context = context;
    this.maxRecordBytes = StreamsProps.maxRequestSize(context.appConfigs());
    this.states = context.getStateStore(RegistryTopology.STATE_STORE);
    this.positions = context.getStateStore(RegistryTopology.POSITIONS_STORE);
    this.commandIds = context.getStateStore(RegistryTopology.COMMAND_IDS_STORE);
    this.baselines = context.getStateStore(RegistryTopology.BASELINES_STORE);
    this.olderVersions = context.getStateStore(RegistryTopology.VERSIONS_STORE);
    this.artifacts = context.getStateStore(RegistryTopology.ARTIFACTS_STORE);
  }

  /** The key of a command id in the command-id store. */
  static String commandKey(String model, String commandId) {
    return model + '\u0000' + commandId;
  }

  /** The key of a version in the baseline and version stores. */
  static String baselineKey(String model, int version) {
    return modelPrefix(model) + version;
  }

  /** What the keys of a model's entries in the baseline and version stores start with. */
  static String modelPrefix(String model) {
    return model + '\u0000';
  }

  /** The key of an artifact in the artifact store. */
  static String artifactKey(String model, String sha256) {
    return model + '\u0000' + sha256;
  }

  /**
   * {@code state} with the versions {@code command} needs in full: the one it acts on, and for a
   * registration a summarised version with the same artifact (so the duplicate is refused).
   */
  private ModelRegistryState withTargets(ModelRegistryState state, RegistryCommand command) {
    String model = state.getModel();
    IntFunction<ModelVersion> load = v -> olderVersions.get(baselineKey(model, v));
    VersionSpill.target(state, command).ifPresent(v -> VersionSpill.restore(state, v, load));
    if (command.getCommand() instanceof RegisterVersion r && r.getArtifact() != null
        && r.getArtifact().getSha256() != null) {
      Integer same = artifacts.get(artifactKey(model, r.getArtifact().getSha256()));
      if (same != null) {
        VersionSpill.restore(state, same, load);
      }
    }
    return state;
  }

  /**
   * The version a release before {@link TrainingRunRegistrar#commandId} registered from the run
   * {@code command} registers, or null. Those releases gave a run's registration the id {@code
   * run:<run_id>}, so when the runs topic is read again from the start (committed offsets
   * expired, say) the registration of a run they registered arrives under an id never seen. It
   * is that run when the former id was decided and a version of the model came from a run of the
   * same id with the same artifact. A run that got the id after training-trigger's coordinator
   * was reset trained again, so it has another artifact and is registered (with the same
   * artifact it would be refused as that version's duplicate anyway). Needs {@code state}
   * {@link #withTargets with the targets} of {@code command}, which restores a version with the
   * same artifact.
   */
  private ModelVersion registeredUnderFormerId(RegistryCommand command,
      ModelRegistryState state) {
    if (!(command.getCommand() instanceof RegisterVersion r) || r.getArtifact() == null) {
      return null;
    }
    String formerId = TrainingRunRegistrar.formerCommandId(command.getEventId()).orElse(null);
    if (formerId == null
        || commandIds.get(commandKey(state.getModel(), formerId)) == null) {
      return null;
    }
    String runId = formerId.substring(TrainingRunRegistrar.COMMAND_ID_PREFIX.length());
    for (ModelVersion v : state.getVersions()) {
      if (v.getArtifact().getSha256().equals(r.getArtifact().getSha256())
          && v.getLineage() != null && runId.equals(v.getLineage().getRunId())) {
        return v;
      }
    }
    return null;
  }

  /** Moves the versions {@code state} need not hold in full to the version store. */
  private void spill(ModelRegistryState state) {
    String model = state.getModel();
    VersionSpill.spill(state, stateVersions, v -> {
      olderVersions.put(baselineKey(model, v.getVersion()), v);
      artifacts.put(artifactKey(model, v.getArtifact().getSha256()), v.getVersion());
    });
  }

  /**
   * Why {@code state} is too large to store, or null when it fits: a record of the state store's
   * changelog and of {@code flywheel.registry.state} may take at most the producer's {@code
   * max.request.size}, and one the producer refuses would fail the task on every retry, stopping
   * the registry for every model. A model's state holds its newest versions in full ({@link
   * VersionSpill}).
   */
  private String tooLarge(String model, ModelRegistryState state) {
    long bytes = AvroSize.ofWireFormat(state);
    int limit = RecordSize.maxValueBytes(AvroSize.utf8Length(model), maxRecordBytes);
    int versions = VersionSpill.count(state);
    if (bytes <= limit) {
      if (bytes > limit / 2 && halfFullWarned.add(model)) {
        long perVersion = bytes / Math.max(1, state.getVersions().size());
        LOG.warn("registry: model '{}' takes {} bytes of the {} its state may take, with {}"
            + " versions ({} in full, of about {} bytes each). Lower registry.stateVersions"
            + " (now {}) in flywheel.yaml, or raise max.request.size (kafka.properties in"
            + " flywheel.yaml) together with max.message.bytes of its topics {}-{}-changelog and"
            + " flywheel.registry.state", model, bytes, limit, versions,
            state.getVersions().size(), perVersion, stateVersions, context.applicationId(),
            RegistryTopology.STATE_STORE);
      }
      return null;
    }
    return "model '" + model + "' would take " + bytes + " bytes with this command, more than the "
        + limit + " a record of its state may take (the producer's max.request.size, less the"
        + " key and the record's overhead): it would hold " + versions + " versions, "
        + state.getVersions().size() + " of them in full (about " + bytes
        / Math.max(1, state.getVersions().size()) + " bytes each). Lower registry.stateVersions"
        + " (now " + stateVersions + ") in flywheel.yaml, so that fewer versions are held in"
        + " full, or raise max.request.size (kafka.properties in flywheel.yaml) together with"
        + " max.message.bytes of its topics " + context.applicationId() + "-"
        + RegistryTopology.STATE_STORE + "-changelog and flywheel.registry.state, then send the"
        + " command again with the same id (a training run's registration: report the run again,"
        + " or train again)";
  }

  /**
   * Why a record {@code decision} emits (a {@link ModelEvent}, which carries the command whole,
   * or a {@link ModelPromoted}, which carries the version's signature and baseline) is too large
   * for the producer, or null when each fits: as for the state ({@link #tooLarge}), a record the
   * producer refuses would fail the task on every retry, stopping the registry for every model
   * whose commands share the partition.
   */
  private String recordTooLarge(String model, Decision decision) {
    int limit = RecordSize.maxValueBytes(AvroSize.utf8Length(model), maxRecordBytes);
    for (ModelEvent event : decision.events()) {
      long bytes = AvroSize.ofWireFormat(event);
      if (bytes > limit) {
        return "the event recording this command (sequence " + event.getSequence() + ", "
            + event.getOutcome() + ") would take " + bytes + " bytes, more than the " + limit + " a record of flywheel.model.events may"
            + " take (the producer's max.request.size, less the key and the record's overhead);"
            + " send a smaller command (a shorter reason, fewer feature names or metrics), or"
            + " raise max.request.size (kafka.properties in flywheel.yaml) together with"
            + " max.message.bytes of flywheel.model.events and flywheel.model.promoted, then send"
            + " the command again with the same id";
      }
    }
    for (ModelPromoted promoted : decision.promotions()) {
      long bytes = AvroSize.ofWireFormat(promoted);
      if (bytes > limit) {
        return "the promotion of version " + promoted.getVersion() + " to " + promoted.getAlias()
            + " would take " + bytes + " bytes, more than the " + limit + " a record of"
            + " flywheel.model.promoted may take (the producer's max.request.size, less the key"
            + " and the record's overhead); send a shorter reason, or raise max.request.size"
            + " (kafka.properties in flywheel.yaml) together with max.message.bytes of"
            + " flywheel.model.events and flywheel.model.promoted, then send the command again"
            + " with the same id";
      }
    }
    return null;
  }

  @Override
  public void process(Record<String, RegistryCommand> record) {
    RegistryCommand command = record.value();
    if (command == null) {
      throw new UnusableRecordException("a registry command record has no value (a tombstone);"
          + " send a RegistryCommand keyed by model name");
    }
    String model = command.getModel();
    if (model == null || model.isBlank()) {
      throw new UnusableRecordException("registry command " + command.getEventId()
          + " names no model; set model to the model's name and key the record by it");
    }
    if (!model.equals(record.key())) {
      throw new UnusableRecordException("registry command " + command.getEventId() + " is for"
          + " model '" + model + "' but keyed '" + record.key() + "'; key commands by model name"
          + " so that every command of a model is decided in order");
    }
    if (command.getEventId() == null || command.getEventId().isBlank()) {
      throw new UnusableRecordException("a registry command for model '" + model + "' has an"
          + " empty event_id; give every command a unique id (reuse it only for retries)");
    }
    String idKey = commandKey(model, command.getEventId());
    Long decided = commandIds.get(idKey);
    if (decided != null) {
      LOG.debug("registry: command '{}' of model '{}' was decided before (event {}); skipped",
          command.getEventId(), model, decided);
      return;
    }
    ModelRegistryState stored = states.get(model);
    ModelRegistryState position = stored == null ? positions.get(model) : null;
    ModelRegistryState state = withTargets(stored != null ? stored
        : position != null ? position : RegistryFold.empty(model), command);
    ModelVersion former = registeredUnderFormerId(command, state);
    if (former != null) {
      LOG.info("registry: training run {} of model '{}' was registered as version {} under the"
          + " command id '{}' of an earlier release; its registration '{}' is skipped",
          former.getLineage().getRunId(), model, former.getVersion(), TrainingRunRegistrar
              .formerCommandId(command.getEventId()).orElseThrow(), command.getEventId());
      return;
    }
    Instant now = Instant.ofEpochMilli(record.timestamp());
    Decision decision = decider.decide(state, command, now,
        version -> baselines.get(baselineKey(model, version)));
    spill(decision.state());
    String tooLarge = tooLarge(model, decision.state());
    if (tooLarge == null) {
      tooLarge = recordTooLarge(model, decision);
    }
    if (tooLarge != null) {
      // decide() folded its events into the state it was given: decide again on a fresh copy.
      // The versions spilled above are in the version store either way, as the state moves
      // none back without a command that needs it.
      ModelRegistryState before = stored != null ? states.get(model)
          : position != null ? positions.get(model) : RegistryFold.empty(model);
      decision = decider.refuse(before, command, now, tooLarge);
      LOG.warn("registry: {}", tooLarge);
      String refusalTooLarge = recordTooLarge(model, decision);
      if (refusalTooLarge != null) {
        // the command alone is too large to go into its rejection: no event can record it
        throw new UnusableRecordException("registry command " + command.getEventId()
            + " of model '" + model + "' cannot be decided: " + refusalTooLarge);
      }
    }
    ModelEvent first = decision.events().get(0);
    if (first.getOutcome() == CommandOutcome.ACCEPTED
        && first.getCommand() instanceof RegisterVersion r && r.getBaseline() != null) {
      baselines.put(baselineKey(model, first.getVersion()), r.getBaseline());
    }
    if (tooLarge == null) {
      // a command refused for its size is not remembered: sent again once the limit is raised,
      // it is decided again
      commandIds.put(idKey, first.getSequence());
    }
    ModelRegistryState after = decision.state();
    boolean listed = !RegistryFold.isEmpty(after);
    if (listed) {
      if (position != null) {
        positions.delete(model);
      }
      states.put(model, after);
    } else {
      positions.put(model, after);
      if (stored != null) {
        states.delete(model);
      }
    }
    for (ModelEvent event : decision.events()) {
      context.forward(new Record<String, Object>(model, event,
          event.getEventTime().toEpochMilli()), RegistryTopology.MODEL_EVENTS_SINK);
    }
    for (ModelPromoted promoted : decision.promotions()) {
      context.forward(new Record<String, Object>(model, promoted,
          promoted.getEventTime().toEpochMilli()), RegistryTopology.MODEL_PROMOTED_SINK);
    }
    if (listed || stored != null) {
      // a tombstone (null) when a stored state became empty: the model leaves the state topic
      context.forward(new Record<String, Object>(model, listed ? after : null,
          after.getEventTime().toEpochMilli()), RegistryTopology.STATE_SINK);
    }
  }
}
