package dev.flywheel.servingsink;

import dev.flywheel.events.Prediction;
import dev.flywheel.events.RecordOrigin;
import dev.flywheel.events.ScoringMode;
import dev.flywheel.servingsink.model.ServedModel;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/** Builds the {@link Prediction} events serving emits, for the stream and for HTTP alike. */
public final class Predictions {

  /** The alias whose predictions decide. */
  public static final String CHAMPION = "champion";

  /** The alias scored in shadow: emitted with {@code shadow = true}, never used for decisions. */
  public static final String CHALLENGER = "challenger";

  private Predictions() {}

  /** Deterministic per event, model, version and alias: re-scoring yields the same id. */
  public static String predictionId(String eventId, ServedModel model) {
    String seed = eventId + "\u0000" + model.model() + "\u0000" + model.version() + "\u0000"
        + model.alias();
    return UUID.nameUUIDFromBytes(seed.getBytes(StandardCharsets.UTF_8)).toString();
  }

  /**
   * One prediction.
   *
   * @param features the row scored, by name; only the model's inputs are kept
   * @param source where the features came from; null for HTTP with explicit features
   */
  public static Prediction of(ServedModel model, String eventId, Instant eventTime,
      String entityId, String featureGroup, Map<String, Double> features,
      Map<String, String> categorical, double score, long latencyMicros, ScoringMode mode,
      RecordOrigin source) {
    Map<String, Double> used = new LinkedHashMap<>();
    for (String input : model.inputs()) {
      used.put(input, features.get(input));
    }
    boolean shadow = !CHAMPION.equals(model.alias());
    return Prediction.newBuilder()
        .setEventId(eventId)
        .setPredictionId(predictionId(eventId, model))
        .setEventTime(eventTime)
        .setScoredAt(Instant.now())
        .setEntityId(entityId)
        .setModel(model.model())
        .setVersion(model.version())
        .setAlias(model.alias())
        .setFeatureGroup(featureGroup)
        .setScore(score)
        .setDecision(model.decide(score)) // for comparison; shadow=true keeps it out of decisions
        .setThreshold(model.threshold())
        .setShadow(shadow)
        .setFeatures(used)
        .setCategoricalFeatures(categorical == null ? Map.of() : new LinkedHashMap<>(categorical))
        .setLatencyMicros(latencyMicros)
        .setScoringMode(mode)
        .setSource(source)
        .build();
  }
}
