package dev.flywheel.driftdetector;

import dev.flywheel.events.Actor;
import dev.flywheel.events.ActorKind;
import dev.flywheel.events.BaselineProfile;
import dev.flywheel.events.FeatureKind;
import dev.flywheel.events.FeatureProfile;
import dev.flywheel.events.FeatureProfiles;
import dev.flywheel.events.Label;
import dev.flywheel.events.ModelArtifact;
import dev.flywheel.events.ModelFormat;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.ModelSignature;
import dev.flywheel.events.ModelTask;
import dev.flywheel.events.Prediction;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * Test inputs: baselines profiled like the trainer profiles them (quantile cut points), promotions
 * and predictions of a model with numeric features {@code f0..f(n-1)} drawn from N(0, 1), an
 * optional categorical feature {@code channel}, and a score.
 */
public final class Fixtures {

  /** The model of every fixture. */
  public static final String MODEL = "fraud-detector";
  /** Event time of the first prediction. */
  public static final Instant T0 = Instant.parse("2026-11-23T00:00:00Z");
  /** The categorical feature's categories and their baseline shares. */
  public static final String[] CHANNELS = {"web", "pos", "app", "phone"};
  /** Baseline shares of {@link #CHANNELS}. */
  public static final double[] CHANNEL_SHARES = {0.5, 0.3, 0.15, 0.05};

  private Fixtures() {}

  /** Names f0..f(n-1). */
  public static List<String> numericNames(int n) {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      names.add("f" + i);
    }
    return names;
  }

  /**
   * A baseline of {@code rows} rows: {@code numeric} N(0, 1) features in 10 quantile bins, the
   * categorical {@code channel} when asked, and the score (a logistic of f0).
   */
  public static BaselineProfile baseline(long seed, int rows, int numeric, boolean channel) {
    Random r = new Random(seed);
    List<FeatureProfile> features = new ArrayList<>();
    for (String name : numericNames(numeric)) {
      double[] v = new double[rows];
      for (int i = 0; i < rows; i++) {
        v[i] = r.nextGaussian();
      }
      features.add(FeatureProfiles.numeric(name, v));
    }
    if (channel) {
      Map<String, Long> counts = new TreeMap<>();
      for (int i = 0; i < rows; i++) {
        counts.merge(channel(r, CHANNEL_SHARES), 1L, Long::sum);
      }
      features.add(FeatureProfile.newBuilder().setName("channel").setKind(FeatureKind.CATEGORICAL)
          .setCount(rows).setCategoryCounts(counts).build());
    }
    double[] scores = new double[rows];
    for (int i = 0; i < rows; i++) {
      scores[i] = score(r.nextGaussian());
    }
    return BaselineProfile.newBuilder().setSampleCount(rows).setComputedAt(T0)
        .setFeatures(features).setScore(FeatureProfiles.numeric("score", scores)).build();
  }

  /** The promotion of {@code version} under champion with {@code baseline}. */
  public static ModelPromoted promoted(int version, BaselineProfile baseline, Instant at) {
    List<String> names = new ArrayList<>();
    List<String> categorical = new ArrayList<>();
    if (baseline != null) {
      baseline.getFeatures().forEach(f -> {
        names.add(f.getName());
        if (f.getKind() == FeatureKind.CATEGORICAL) {
          categorical.add(f.getName());
        }
      });
    }
    return ModelPromoted.newBuilder()
        .setEventId("promoted-" + MODEL + "-v" + version + "-" + at.toEpochMilli())
        .setEventTime(at)
        .setModel(MODEL)
        .setAlias("champion")
        .setVersion(version)
        .setArtifact(ModelArtifact.newBuilder().setUri("file:///tmp/m" + version)
            .setSha256("0".repeat(64)).setFormat(ModelFormat.XGBOOST).build())
        .setSignature(ModelSignature.newBuilder().setFeatureNames(names)
            .setCategoricalFeatures(categorical).setTask(ModelTask.BINARY_CLASSIFICATION)
            .setLabelTarget("is_fraud").setDecisionThreshold(0.5).build())
        .setBaseline(baseline)
        .setActor(Actor.newBuilder().setName("registry-projector").setKind(ActorKind.SERVICE)
            .build())
        .setCommandId("cmd-" + version)
        .build();
  }

  /** Draws predictions: numeric features N(shift[i], 1), channel by {@code shares}. */
  public static final class Stream {
    private final Random random;
    private final int version;
    private final int numeric;
    private final boolean channel;
    private long next;

    /** Predictions of {@code version} with {@code numeric} numeric features. */
    public Stream(long seed, int version, int numeric, boolean channel) {
      this.random = new Random(seed);
      this.version = version;
      this.numeric = numeric;
      this.channel = channel;
    }

    /** The next prediction, one second after the previous one. */
    public Prediction next(double[] shift, double[] shares) {
      long n = next++;
      Map<String, Double> values = new LinkedHashMap<>();
      for (int i = 0; i < numeric; i++) {
        values.put("f" + i, random.nextGaussian() + (shift == null ? 0 : shift[i]));
      }
      Map<String, String> cats = new LinkedHashMap<>();
      if (channel) {
        cats.put("channel", channel(random, shares == null ? CHANNEL_SHARES : shares));
      }
      Instant t = T0.plusSeconds(n);
      return prediction("e" + version + "-" + n, version, t, values, cats,
          score(random.nextGaussian()));
    }

    /** Predictions made so far. */
    public long made() {
      return next;
    }
  }

  /** One prediction of the champion. */
  public static Prediction prediction(String eventId, int version, Instant t,
      Map<String, Double> numeric, Map<String, String> categorical, double score) {
    return Prediction.newBuilder()
        .setEventId(eventId)
        .setPredictionId("p-" + eventId + "-v" + version)
        .setEventTime(t)
        .setScoredAt(t)
        .setEntityId("card-" + Math.floorMod(eventId.hashCode(), 100))
        .setModel(MODEL)
        .setVersion(version)
        .setAlias("champion")
        .setScore(score)
        .setFeatures(numeric)
        .setCategoricalFeatures(categorical)
        .setLatencyMicros(50)
        .build();
  }

  /** The label of {@code eventId}, known at {@code t}. */
  public static Label label(String eventId, Instant t, double value) {
    return Label.newBuilder().setEventId(eventId).setEventTime(t).setTarget("is_fraud")
        .setValue(value).build();
  }

  static String channel(Random r, double[] shares) {
    double u = r.nextDouble();
    double c = 0;
    for (int i = 0; i < shares.length; i++) {
      c += shares[i];
      if (u < c) {
        return CHANNELS[i];
      }
    }
    return CHANNELS[CHANNELS.length - 1];
  }

  static double score(double z) {
    return 1 / (1 + Math.exp(-z));
  }
}
