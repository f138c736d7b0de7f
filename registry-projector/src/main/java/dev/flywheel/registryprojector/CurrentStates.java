package dev.flywheel.registryprojector;

import dev.flywheel.events.ModelRegistryState;
import java.util.List;
import java.util.Optional;

/** Where the query API reads the current registry: the projection's own state store. */
public interface CurrentStates {

  /**
   * The current state of {@code model}; empty for a model the registry never heard of.
   *
   * @throws RegistryUnavailableException while the state cannot be read (restoring, rebalancing)
   */
  Optional<ModelRegistryState> get(String model);

  /**
   * The current state of {@code model} for a question about one version: like {@link #get}, but
   * of the versions the state lists only by number ({@code older_versions}) just {@code version}
   * need be in full, which spares reading the others.
   *
   * @throws RegistryUnavailableException while the state cannot be read
   */
  default Optional<ModelRegistryState> get(String model, int version) {
    return get(model);
  }

  /**
   * Every model's current state, sorted by model name.
   *
   * @throws RegistryUnavailableException while the state cannot be read
   */
  List<ModelRegistryState> all();

  /** The current states as the history holds them (the fold of the whole audit log). */
  static CurrentStates of(ModelHistory history) {
    return new CurrentStates() {
      @Override
      public Optional<ModelRegistryState> get(String model) {
        return history.stateAt(model, null);
      }

      @Override
      public List<ModelRegistryState> all() {
        return history.models(null).stream()
            .map(m -> history.stateAt(m, null).orElseThrow()).toList();
      }
    };
  }
}
