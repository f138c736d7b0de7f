package dev.flywheel.trainingtrigger.config;

import dev.flywheel.events.ModelTask;
import java.util.List;
import java.util.Objects;

/**
 * One entry of {@code models:} in {@code flywheel.yaml}, as training-trigger reads it. Keys other
 * services own in the same entry (e.g. {@code policy:}) are ignored here.
 *
 * <pre>{@code
 * models:
 *   - name: fraud-detector
 *     featureGroup: card_activity
 *     target: is_fraud                   # Label.target to learn; default 'label'
 *     task: binary_classification        # or regression; default binary_classification
 *     features: [amount_sum_1h, tx_count_24h]   # inputs in order; default every numeric feature
 *     training: {...}                    # TrainingSpec
 *     triggers: {...}                    # TriggerSpec
 * }</pre>
 *
 * @param name the model's name; never null
 * @param featureGroup the feature group whose vectors train it; never null
 * @param target the label target it learns; never null
 * @param task what it predicts; never null
 * @param features its inputs in order; empty for every numeric feature of the dataset, sorted
 * @param training how it trains; never null
 * @param triggers when it trains; never null
 */
public record ModelSpec(String name, String featureGroup, String target, ModelTask task,
    List<String> features, TrainingSpec training, TriggerSpec triggers) {

  /** Label target unless configured. */
  public static final String DEFAULT_TARGET = "label";

  /** Defaults filled in. */
  public ModelSpec {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(featureGroup, "featureGroup");
    target = target == null ? DEFAULT_TARGET : target;
    task = task == null ? ModelTask.BINARY_CLASSIFICATION : task;
    features = features == null ? List.of() : List.copyOf(features);
    training = training == null ? TrainingSpec.defaults() : training;
    triggers = triggers == null ? TriggerSpec.defaults() : triggers;
  }

  /** A model with default training and triggers. */
  public static ModelSpec of(String name, String featureGroup) {
    return new ModelSpec(name, featureGroup, null, null, null, null, null);
  }

  /** This spec with other triggers. */
  public ModelSpec withTriggers(TriggerSpec t) {
    return new ModelSpec(name, featureGroup, target, task, features, training, t);
  }

  /** This spec with other training settings. */
  public ModelSpec withTraining(TrainingSpec t) {
    return new ModelSpec(name, featureGroup, target, task, features, t, triggers);
  }

  /** This spec with another label target. */
  public ModelSpec withTarget(String t) {
    return new ModelSpec(name, featureGroup, t, task, features, training, triggers);
  }

  /** This spec with another task. */
  public ModelSpec withTask(ModelTask t) {
    return new ModelSpec(name, featureGroup, target, t, features, training, triggers);
  }
}
