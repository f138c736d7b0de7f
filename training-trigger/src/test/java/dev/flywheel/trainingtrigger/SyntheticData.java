package dev.flywheel.trainingtrigger;

import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.Label;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * Feature vectors and labels of a made-up fraud model: features {@code f0..f<k-1>} standard
 * normal, one event per second from {@link #START}. With signal, {@code P(fraud) =
 * sigmoid(4 f0 - 3 f1 + 2 f2 - 1)}; without, fraud is a coin with P = 0.3 whatever the features.
 */
public final class SyntheticData {

  /** Event time of the first event. */
  public static final Instant START = Instant.parse("2026-11-01T00:00:00Z");
  /** The feature group. */
  public static final String GROUP = "card_activity";
  /** The label target. */
  public static final String TARGET = "is_fraud";

  /** The vectors. */
  public final List<FeatureVector> vectors = new ArrayList<>();
  /** The labels, in the same order. */
  public final List<Label> labels = new ArrayList<>();

  /**
   * @param rows events
   * @param features numeric features per event, at least 3
   * @param signal whether the label depends on the features
   * @param seed random seed
   */
  public SyntheticData(int rows, int features, boolean signal, long seed) {
    Random r = new Random(seed);
    for (int i = 0; i < rows; i++) {
      Map<String, Double> values = new TreeMap<>();
      double[] x = new double[features];
      for (int f = 0; f < features; f++) {
        x[f] = r.nextGaussian();
        values.put(String.format("f%02d", f), x[f]);
      }
      double p = signal ? 1 / (1 + Math.exp(-(4 * x[0] - 3 * x[1] + 2 * x[2] - 1))) : 0.3;
      double y = r.nextDouble() < p ? 1 : 0;
      Instant t = START.plusSeconds(i);
      String id = "evt-" + i;
      vectors.add(FeatureVector.newBuilder().setEventId(id).setEventTime(t)
          .setEntityId("card-" + (i % 97)).setFeatureGroup(GROUP).setFeatureGroupVersion("v1")
          .setFeatures(new TreeMap<>(values))
          .setCategoricalFeatures(Map.of("channel", i % 3 == 0 ? "web" : "pos"))
          .setAsOf(t).build());
      labels.add(Label.newBuilder().setEventId(id).setEventTime(t.plusSeconds(3600))
          .setTarget(TARGET).setValue(y).setSource("synthetic").build());
    }
  }
}
