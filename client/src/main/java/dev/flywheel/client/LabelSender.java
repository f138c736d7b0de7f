package dev.flywheel.client;

import dev.flywheel.events.Label;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * Sends observed outcomes to {@code flywheel.labels}, keyed by the labelled event's id, which is
 * how training joins them to feature vectors and predictions. Obtained from {@link
 * FlywheelClient#labels()}; thread-safe.
 */
public final class LabelSender {

  /** The target a label names when none is given, as the {@code Label} schema's default. */
  public static final String DEFAULT_TARGET = "label";

  private final FlywheelClient client;
  private final String topic;

  LabelSender(FlywheelClient client, String topic) {
    this.client = client;
    this.topic = topic;
  }

  /** The full topic name labels go to. */
  public String topic() {
    return topic;
  }

  /** Sends the outcome {@code value} of event {@code eventId} for the default target, known now. */
  public CompletableFuture<EventPosition> send(String eventId, double value) {
    return send(eventId, DEFAULT_TARGET, value, null);
  }

  /**
   * Sends the outcome {@code value} of event {@code eventId} for {@code target}, known now.
   *
   * @param source where the label comes from (e.g. {@code chargebacks}); may be null
   */
  public CompletableFuture<EventPosition> send(String eventId, String target, double value,
      String source) {
    Objects.requireNonNull(eventId, "eventId");
    Objects.requireNonNull(target, "target");
    return send(Label.newBuilder().setEventId(eventId).setEventTime(Instant.now())
        .setTarget(target).setValue(value).setSource(source).build());
  }

  /** Sends a complete label, keyed by its event id. */
  public CompletableFuture<EventPosition> send(Label label) {
    Objects.requireNonNull(label, "label");
    return client.sendEvent(topic, label.getEventId(), label);
  }
}
