package dev.flywheel.registryprojector;

import dev.flywheel.events.ModelEvent;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.ModelRegistryState;
import java.util.List;

/**
 * What the registry decided on one command: the events to append to the model's history (the
 * decision on the command, then any follow-up the registry made by itself), the promotions they
 * caused, and the model's state after all of them.
 *
 * @param events the new events, in sequence order; never empty
 * @param promotions one {@link ModelPromoted} per promotion alias that moved
 * @param state the state after {@code events}
 */
public record Decision(List<ModelEvent> events, List<ModelPromoted> promotions,
    ModelRegistryState state) {

  /** Copies the lists. */
  public Decision {
    events = List.copyOf(events);
    promotions = List.copyOf(promotions);
  }
}
