package dev.flywheel.registryprojector;

import dev.flywheel.events.Actor;
import dev.flywheel.events.ActorKind;
import dev.flywheel.events.RegisterVersion;
import dev.flywheel.events.RegistryCommand;
import dev.flywheel.events.RunStatus;
import dev.flywheel.events.TrainingRun;
import java.util.HashMap;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Turns each {@code COMPLETED} {@link TrainingRun} into a {@link RegisterVersion} command, keyed by
 * model name, for the command topic; other statuses are ignored. The version's description is the
 * model's {@code description} in {@code flywheel.yaml}, if any (the "Purpose" of its model card).
 * A completed run without artifact or signature cannot be registered and goes to the dead-letter
 * topic.
 *
 * <p>The command id is {@code run:<run_id>/<attempt>/<started_at>} ({@link #commandId}), the
 * start in epoch milliseconds: every event of one attempt carries the same start (the COMPLETED
 * event is built from the STARTED one), so a run reported twice registers once; and a run whose
 * id comes back after training-trigger's coordinator was reset (its numbering begins again at 1)
 * started at another time, so it registers its own version instead of being taken for the run
 * that had the id before. Releases before this one used {@code run:<run_id>} ({@link
 * #formerCommandId}); {@link RegistryProcessor} still recognises those registrations.
 */
public final class TrainingRunRegistrar
    implements Processor<String, TrainingRun, String, RegistryCommand> {

  /** Prefix of the command id of a run's registration. */
  public static final String COMMAND_ID_PREFIX = "run:";

  /**
   * The id of the registration of {@code run}: {@code run:<run_id>/<attempt>/<started_at>}, the
   * start in epoch milliseconds. The same for every report of one attempt, and different for a
   * run that has the id of an earlier one because the coordinator's numbering began again.
   */
  public static String commandId(TrainingRun run) {
    return COMMAND_ID_PREFIX + run.getRunId() + '/' + run.getAttempt() + '/'
        + run.getStartedAt().toEpochMilli();
  }

  /**
   * The id a release before {@link #commandId} gave the registration that {@code commandId}
   * names, {@code run:<run_id>}; empty when {@code commandId} is not a run's registration of
   * the current form.
   */
  static Optional<String> formerCommandId(String commandId) {
    if (commandId == null || !commandId.startsWith(COMMAND_ID_PREFIX)) {
      return Optional.empty();
    }
    int start = commandId.lastIndexOf('/');
    int attempt = start < 0 ? -1 : commandId.lastIndexOf('/', start - 1);
    if (attempt <= COMMAND_ID_PREFIX.length()
        || !digits(commandId, attempt + 1, start) || !digits(commandId, start + 1,
            commandId.length())) {
      return Optional.empty();
    }
    return Optional.of(commandId.substring(0, attempt));
  }

  private static boolean digits(String s, int from, int to) {
    if (from >= to) {
      return false;
    }
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }

  private final Function<String, String> descriptions;
  private ProcessorContext<String, RegistryCommand> context;

  /** @param descriptions the description of a model's versions, by model name (null: none) */
  public TrainingRunRegistrar(Function<String, String> descriptions) {
    this.descriptions = Objects.requireNonNull(descriptions, "descriptions");
  }

  @Override
  public void init(ProcessorContext<String, RegistryCommand> context) {
    this.context = context;
  }

  @Override
  public void process(Record<String, TrainingRun> record) {
    TrainingRun run = record.value();
    if (run == null) {
      throw new UnusableRecordException("a training run record has no value (a tombstone);"
          + " training runs are kept forever and are never deleted by key");
    }
    if (run.getStatus() != RunStatus.COMPLETED) {
      return;
    }
    if (run.getArtifact() == null || run.getSignature() == null) {
      throw new UnusableRecordException("completed run " + run.getRunId() + " of model "
          + run.getModel() + " has no " + (run.getArtifact() == null ? "artifact" : "signature")
          + "; a COMPLETED run must carry the stored artifact and the signature to be registered");
    }
    context.forward(record.withKey(run.getModel())
        .withValue(command(run, descriptions.apply(run.getModel()))));
  }

  /** The registration a completed run asks for; {@code description} may be null. */
  public static RegistryCommand command(TrainingRun run, String description) {
    RegisterVersion register = RegisterVersion.newBuilder()
        .setArtifact(run.getArtifact())
        .setSignature(run.getSignature())
        .setMetrics(new HashMap<>(run.getMetrics()))
        .setParams(new HashMap<>(run.getParams()))
        .setBaseline(run.getBaseline())
        .setLineage(run.getLineage())
        .setTags(new HashMap<>())
        .setDescription(description)
        .build();
    return RegistryCommand.newBuilder()
        .setEventId(commandId(run))
        .setEventTime(run.getFinishedAt() != null ? run.getFinishedAt() : run.getEventTime())
        .setModel(run.getModel())
        .setActor(Actor.newBuilder().setName(RegistryDecider.TRAINING).setKind(ActorKind.SERVICE)
            .setRoles(List.of()).build())
        .setReason("training run " + run.getRunId() + " completed")
        .setCommand(register)
        .build();
  }
}
