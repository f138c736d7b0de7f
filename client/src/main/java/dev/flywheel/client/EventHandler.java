package dev.flywheel.client;

/**
 * Receives the events of one Flywheel topic, one at a time, on the client's background thread for
 * that topic. An exception thrown by the handler is logged and the next event is delivered; it
 * does not stop the subscription.
 *
 * @param <E> the event type, a generated class of {@code dev.flywheel.events}
 */
@FunctionalInterface
public interface EventHandler<E> {

  /**
   * Handles one event.
   *
   * @param event never null (tombstones are not delivered)
   * @param position where the event was read: topic, partition, offset and key
   */
  void handle(E event, EventPosition position) throws Exception;
}
