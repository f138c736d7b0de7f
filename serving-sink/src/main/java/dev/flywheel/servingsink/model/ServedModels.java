package dev.flywheel.servingsink.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The versions being served, one per model and alias, swapped atomically: readers see either the
 * old map or the new one, never a model being loaded (models are loaded and warmed up before
 * they enter the map), and a replaced model is closed only when the last scorer holding it lets
 * go.
 */
public final class ServedModels implements AutoCloseable {

  /** Model and alias. */
  public record Key(String model, String alias) {
    @Override
    public String toString() {
      return model + "@" + alias;
    }
  }

  private final AtomicReference<Map<Key, ServedModel>> current =
      new AtomicReference<>(Map.of());
  private boolean closed;

  /** The model served under the key, if any, without taking a reference. */
  public Optional<ServedModel> peek(String model, String alias) {
    return Optional.ofNullable(current.get().get(new Key(model, alias)));
  }

  /** Every model served, without taking references. */
  public Map<Key, ServedModel> peekAll() {
    return current.get();
  }

  /**
   * The model served under the key with a reference taken (release it after scoring), or empty
   * when none is served.
   */
  public Optional<ServedModel> acquire(String model, String alias) {
    Key key = new Key(model, alias);
    while (true) {
      ServedModel m = current.get().get(key);
      if (m == null) {
        return Optional.empty();
      }
      if (m.tryAcquire()) {
        return Optional.of(m);
      }
    }
  }

  /**
   * A reference to every model served at one instant (release each after scoring): one
   * consistent set of versions for a whole micro-batch.
   */
  public List<ServedModel> acquireAll() {
    while (true) {
      List<ServedModel> taken = new ArrayList<>();
      boolean all = true;
      for (ServedModel m : current.get().values()) {
        if (m.tryAcquire()) {
          taken.add(m);
        } else {
          all = false;
          break;
        }
      }
      if (all) {
        return taken;
      }
      taken.forEach(ServedModel::release);
    }
  }

  /**
   * Serves {@code model} under its model and alias from now on; the version it replaces is
   * retired (closed when no scorer holds it any more).
   *
   * @return the replaced version, if any (already retired; for logging only)
   */
  public synchronized Optional<ServedModel> install(ServedModel model) {
    if (closed) {
      model.retire();
      throw new IllegalStateException("the served models are closed");
    }
    Key key = new Key(model.model(), model.alias());
    Map<Key, ServedModel> next = new LinkedHashMap<>(current.get());
    ServedModel previous = next.put(key, model);
    current.set(Collections.unmodifiableMap(next));
    if (previous != null) {
      previous.retire();
    }
    return Optional.ofNullable(previous);
  }

  /** Stops serving the key (e.g. a removed challenger alias). */
  public synchronized Optional<ServedModel> remove(String model, String alias) {
    Map<Key, ServedModel> next = new LinkedHashMap<>(current.get());
    ServedModel previous = next.remove(new Key(model, alias));
    if (previous != null) {
      current.set(Collections.unmodifiableMap(next));
      previous.retire();
    }
    return Optional.ofNullable(previous);
  }

  /** Retires every model. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    Map<Key, ServedModel> all = current.getAndSet(Map.of());
    all.values().forEach(ServedModel::retire);
  }
}
