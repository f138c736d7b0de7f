package dev.flywheel.trainingtrigger;

import dev.flywheel.events.Actor;
import dev.flywheel.events.ActorKind;
import dev.flywheel.events.TrainingReason;
import dev.flywheel.events.TrainingRequested;
import dev.flywheel.events.TriggerKind;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Builds the MANUAL requests of {@code flywheel train} and {@code POST /models/{model}/train}. */
public final class ManualRequests {

  private ManualRequests() {}

  /**
   * A manual request with a fresh id.
   *
   * @param model the model
   * @param reason why, in words; may be null
   * @param actor who asks
   * @param params parameter overrides; never null
   * @param now the request time
   */
  public static TrainingRequested of(String model, String reason, String actor,
      Map<String, String> params, Instant now) {
    return TrainingRequested.newBuilder().setEventId(UUID.randomUUID().toString())
        .setEventTime(now).setModel(model)
        .setReason(TrainingReason.newBuilder().setKind(TriggerKind.MANUAL).setDetail(reason)
            .setTriggeredAt(now).build())
        .setActor(Actor.newBuilder().setName(actor == null || actor.isBlank() ? "anonymous" : actor)
            .setKind(ActorKind.HUMAN).setRoles(List.of()).build())
        .setParams(Map.copyOf(params)).build();
  }
}
