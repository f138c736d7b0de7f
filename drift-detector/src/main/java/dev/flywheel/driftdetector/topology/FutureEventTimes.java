package dev.flywheel.driftdetector.topology;

import dev.flywheel.driftdetector.metrics.DriftMetrics;
import dev.flywheel.events.Label;
import dev.flywheel.events.Prediction;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drops predictions and labels whose event time is too far in the future. A single event time
 * far ahead (the year 2100, microseconds sent as milliseconds) would move stream time there: a
 * model's open TIME windows would all close with what they hold, every later prediction would be
 * late, and the label join's window store would skip every later prediction and label as older
 * than its retention. So a prediction whose {@code event_time} is more than {@code
 * driftDetector.maxEventTimeSkew} ahead of its own {@code scored_at}, or a label whose {@code
 * event_time} is that far ahead of its record's timestamp, is dropped before the label join and
 * the windows, counted ({@code future_event_time}) and logged once per model (once for labels,
 * which name no model before the join). Only fields of the record decide: the same records are
 * dropped after a replay.
 */
final class FutureEventTimes {

  private static final Logger LOG = LoggerFactory.getLogger(FutureEventTimes.class);

  private final long skewMs;
  private final DriftMetrics metrics;
  private final Set<String> warned = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean labelWarned = new AtomicBoolean();

  FutureEventTimes(Duration skew, DriftMetrics metrics) {
    this.skewMs = skew.toMillis();
    this.metrics = metrics;
  }

  /** Whether {@code p}'s event time is more than the skew ahead of its {@code scored_at}. */
  boolean tooFar(Prediction p) {
    return ahead(p.getEventTime().toEpochMilli(), p.getScoredAt().toEpochMilli());
  }

  /**
   * Whether {@code l}'s event time is more than the skew ahead of {@code recordTimestamp} (never
   * when the record has no timestamp).
   */
  boolean tooFar(Label l, long recordTimestamp) {
    return recordTimestamp >= 0 && ahead(l.getEventTime().toEpochMilli(), recordTimestamp);
  }

  /** The timestamp a prediction takes: its event time, or its scored_at when it is dropped. */
  long timestamp(Prediction p) {
    return tooFar(p) ? p.getScoredAt().toEpochMilli() : p.getEventTime().toEpochMilli();
  }

  /** The timestamp a label takes: its event time, or its record's when it is dropped. */
  long timestamp(Label l, long recordTimestamp) {
    return tooFar(l, recordTimestamp) ? recordTimestamp : l.getEventTime().toEpochMilli();
  }

  /** Whether {@code p} is kept; counts and logs it when it is dropped. */
  boolean keep(Prediction p) {
    if (!tooFar(p)) {
      return true;
    }
    metrics.prediction(p.getModel(), "future_event_time");
    String message = "prediction " + p.getPredictionId() + " of model '" + p.getModel()
        + "' version " + p.getVersion() + " has event_time " + p.getEventTime()
        + ", more than " + Duration.ofMillis(skewMs) + " after its scored_at " + p.getScoredAt()
        + " (driftDetector.maxEventTimeSkew); it is not counted in any drift window nor joined"
        + " to labels. Fix the event time its producer sets (milliseconds since the epoch)";
    if (warned.add(p.getModel())) {
      LOG.warn("drift: {} (warned once per model; the rest are counted in"
          + " flywheel.drift.predictions{{outcome=future_event_time}})", message);
    } else {
      LOG.debug("drift: {}", message);
    }
    return false;
  }

  /** Whether {@code l}, read with {@code recordTimestamp}, is kept; counts and logs a drop. */
  boolean keep(Label l, long recordTimestamp) {
    if (!tooFar(l, recordTimestamp)) {
      return true;
    }
    metrics.futureLabel();
    String message = "label of event " + l.getEventId() + " has event_time " + l.getEventTime()
        + ", more than " + Duration.ofMillis(skewMs) + " after its record's timestamp "
        + Instant.ofEpochMilli(recordTimestamp) + " (driftDetector.maxEventTimeSkew); it is not"
        + " joined to its prediction. Fix the event time its producer sets (milliseconds since"
        + " the epoch)";
    if (labelWarned.compareAndSet(false, true)) {
      LOG.warn("drift: {} (warned once; the rest are counted in"
          + " flywheel.drift.labels.future_event_time)", message);
    } else {
      LOG.debug("drift: {}", message);
    }
    return false;
  }

  private boolean ahead(long eventTime, long reference) {
    return eventTime - reference > skewMs;
  }
}
