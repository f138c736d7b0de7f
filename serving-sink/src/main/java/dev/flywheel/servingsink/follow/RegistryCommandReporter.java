package dev.flywheel.servingsink.follow;

import dev.flywheel.events.Actor;
import dev.flywheel.events.ActorKind;
import dev.flywheel.events.RegistryCommand;
import dev.flywheel.events.ReportServingFailure;
import dev.flywheel.servingsink.model.ModelSpec;
import dev.flywheel.servingsink.model.Refusal;
import dev.flywheel.topics.Topic;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Writes a {@code ReportServingFailure} command to {@code flywheel.registry.commands} and waits
 * for the broker's acknowledgement. The command id is {@code serving-refusal:<uuid>} derived from
 * the model, alias, version, check and the announcing event, so the registry (idempotent by
 * command id) records a refusal repeated after a restart once.
 */
public final class RegistryCommandReporter implements RefusalReporter {

  /** The actor name serving reports under. */
  public static final String ACTOR = "serving-sink";

  private final Producer<String, RegistryCommand> producer;
  private final Topic<String, RegistryCommand> commands;
  private final String instance;

  public RegistryCommandReporter(Producer<String, RegistryCommand> producer,
      Topic<String, RegistryCommand> commands, String instance) {
    this.producer = Objects.requireNonNull(producer, "producer");
    this.commands = Objects.requireNonNull(commands, "commands");
    this.instance = instance;
  }

  /** The command id of a refusal. */
  public static String commandId(ModelSpec spec, Refusal refusal) {
    String seed = spec.model() + "\u0000" + spec.alias() + "\u0000" + spec.version() + "\u0000"
        + refusal.check() + "\u0000" + spec.sourceId();
    return "serving-refusal:" + UUID.nameUUIDFromBytes(seed.getBytes(
        java.nio.charset.StandardCharsets.UTF_8));
  }

  @Override
  public void report(ModelSpec spec, Refusal refusal) {
    RegistryCommand command = RegistryCommand.newBuilder()
        .setEventId(commandId(spec, refusal))
        .setEventTime(Instant.now())
        .setModel(spec.model())
        .setActor(Actor.newBuilder().setName(ACTOR).setKind(ActorKind.SERVICE)
            .setRoles(List.of()).build())
        .setReason("serving refused " + spec.describe() + ": " + refusal.check())
        .setCommand(ReportServingFailure.newBuilder().setVersion(spec.version())
            .setAlias(spec.alias()).setCheck(refusal.check()).setMessage(refusal.getMessage())
            .setInstance(instance).build())
        .build();
    try {
      producer.send(new ProducerRecord<>(commands.name(), spec.model(), command))
          .get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while reporting a refusal", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("cannot write the refusal of " + spec.describe() + " to "
          + commands.name() + ": " + e, e);
    }
  }
}
