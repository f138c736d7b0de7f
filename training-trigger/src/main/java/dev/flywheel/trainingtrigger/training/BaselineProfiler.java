package dev.flywheel.trainingtrigger.training;

import dev.flywheel.events.BaselineProfile;
import dev.flywheel.events.FeatureProfile;
import dev.flywheel.events.FeatureProfiles;
import dev.flywheel.trainingtrigger.dataset.Split;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The baseline the drift detector compares live data with: the {@link FeatureProfiles profile} of
 * each of the model's input features over a split (numeric: count, missing count, mean,
 * population std, min, max and a quantile histogram; categorical: the most frequent categories'
 * counts), and the same numeric profile of the model's scores on it.
 */
public final class BaselineProfiler {

  private BaselineProfiler() {}

  /**
   * The profile of a split.
   *
   * @param split the rows, normally the holdout
   * @param featureNames the numeric columns of the split
   * @param categoricalNames the categorical columns of the split
   * @param profiled the model's input features, in its order: each is profiled
   * @param scores the model's scores on the rows; null when it could not score them
   * @param now when the profile is computed
   */
  public static BaselineProfile profile(Split split, List<String> featureNames,
      List<String> categoricalNames, List<String> profiled, float[] scores, Instant now) {
    List<FeatureProfile> features = new ArrayList<>();
    for (String name : profiled) {
      int f = featureNames.indexOf(name);
      if (f >= 0) {
        float[] column = new float[split.rows()];
        for (int i = 0; i < split.rows(); i++) {
          column[i] = split.value(i, f);
        }
        features.add(FeatureProfiles.numeric(name, column));
      } else {
        int c = categoricalNames.indexOf(name);
        if (c < 0) {
          throw new IllegalArgumentException("feature '" + name + "' is not in the dataset");
        }
        String[] column = new String[split.rows()];
        for (int i = 0; i < split.rows(); i++) {
          column[i] = split.categorical()[i][c];
        }
        features.add(FeatureProfiles.categorical(name, column));
      }
    }
    return BaselineProfile.newBuilder().setSampleCount(split.rows()).setComputedAt(now)
        .setFeatures(features).setScore(scores == null ? null : FeatureProfiles.numeric("score", scores)).build();
  }
}
