package dev.flywheel.driftdetector.topology;

import dev.flywheel.events.Label;
import dev.flywheel.events.Prediction;

/**
 * A prediction joined with its label by event id: what a window needs for live performance.
 *
 * @param model the model that scored
 * @param predictionId the prediction's id (a later label for it replaces an earlier one)
 * @param eventTimeMs the prediction's event time, which places it in a window
 * @param version the model version that scored
 * @param score the score
 * @param target the label's target
 * @param label the observed outcome
 */
public record LabelledScore(String model, String predictionId, long eventTimeMs, int version, double score,
    String target, double label) {

  /** The pair of a prediction and its label. */
  public static LabelledScore of(Prediction p, Label l) {
    return new LabelledScore(p.getModel(), p.getPredictionId(), p.getEventTime().toEpochMilli(), p.getVersion(),
        p.getScore(), l.getTarget(), l.getValue());
  }
}
