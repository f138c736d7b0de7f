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
import java.util.function.Function;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Turns each {@code COMPLETED} {@link TrainingRun} into a {@link RegisterVersion} command with the
 * id {@code run:<run_id>} (so a run reported twice registers once), keyed by model name, for the
 * command topic; other statuses are ignored. The version's description is the model's {@code
 * description} in {@code flywheel.yaml}, if any (the "Purpose" of its model card). A completed run
 * without artifact or signature cannot be registered and goes to the dead-letter topic.
 */
public final class TrainingRunRegistrar
    implements Processor<String, TrainingRun, String, RegistryCommand> {

  /** Prefix of the command id of a run's registration. */
  public static final String COMMAND_ID_PREFIX = "run:";

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
        .setEventId(COMMAND_ID_PREFIX + run.getRunId())
        .setEventTime(run.getFinishedAt() != null ? run.getFinishedAt() : run.getEventTime())
        .setModel(run.getModel())
        .setActor(Actor.newBuilder().setName(RegistryDecider.TRAINING).setKind(ActorKind.SERVICE)
            .setRoles(List.of()).build())
        .setReason("training run " + run.getRunId() + " completed")
        .setCommand(register)
        .build();
  }
}
