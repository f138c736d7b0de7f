package dev.flywheel.registryprojector;

import dev.flywheel.events.BaselineProfile;
import dev.flywheel.events.FeatureProfile;
import dev.flywheel.events.ModelEvent;
import dev.flywheel.events.ModelRegistryState;
import dev.flywheel.events.RegisterVersion;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The audit log of every model in memory, for time travel: the state of a model at any past time
 * is the {@link RegistryFold fold} of its events up to that time, and its history is the list of
 * those events. Filled by {@link HistoryIndexer} from {@code flywheel.model.events} (rebuilt from
 * the start of the topic when the service starts).
 *
 * <p>Events are kept per model in sequence order; one already held (same or lower sequence, as
 * after a consumer restart) is ignored, and a gap (a missing sequence) is logged and the event
 * kept out, so a replay never applies a history with a hole. Thread-safe: one writer, any number
 * of readers.
 *
 * <p>Like the projection, the history answers no state for a model whose state is {@link
 * RegistryFold#isEmpty empty} at the time asked (only rejected commands so far, such as a
 * promotion of a model that does not exist): {@link #models} leaves it out and {@link #stateAt}
 * is empty. Its events are still in {@link #history}.
 */
public final class ModelHistory {

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ModelHistory.class);

  private final ConcurrentHashMap<String, Entry> models = new ConcurrentHashMap<>();

  private static final class Entry {
    final List<ModelEvent> events = new ArrayList<>();
    ModelRegistryState current;

    Entry(String model) {
      current = RegistryFold.empty(model);
    }
  }

  /**
   * Adds the next event of its model; returns false when it was already held or out of order. A
   * registration's baseline profile is held as its summary only ({@link #summary}): its
   * histograms and category counts are most of a registration's size, and nothing the history
   * answers shows them.
   */
  public boolean add(ModelEvent event) {
    if (event.getCommand() instanceof RegisterVersion r && r.getBaseline() != null) {
      event = ModelEvent.newBuilder(event).setCommand(RegisterVersion.newBuilder(r)
          .setBaseline(summary(r.getBaseline())).build()).build();
    }
    return append(event);
  }

  /**
   * {@code baseline} without its distributions: the sample count, the time, and each profile's
   * name, kind and counts; what {@link RegistryJson} shows of a baseline.
   */
  static BaselineProfile summary(BaselineProfile baseline) {
    List<FeatureProfile> features = new ArrayList<>(baseline.getFeatures().size());
    baseline.getFeatures().forEach(f -> features.add(summary(f)));
    return BaselineProfile.newBuilder().setSampleCount(baseline.getSampleCount())
        .setComputedAt(baseline.getComputedAt()).setFeatures(features)
        .setScore(baseline.getScore() == null ? null : summary(baseline.getScore())).build();
  }

  private static FeatureProfile summary(FeatureProfile f) {
    return FeatureProfile.newBuilder().setName(f.getName()).setKind(f.getKind())
        .setCount(f.getCount()).setMissingCount(f.getMissingCount())
        .setOtherCount(f.getOtherCount()).build();
  }

  private boolean append(ModelEvent event) {
    Entry entry = models.computeIfAbsent(event.getModel(), Entry::new);
    synchronized (entry) {
      long last = entry.current.getSequence();
      if (event.getSequence() <= last) {
        return false;
      }
      if (event.getSequence() != last + 1) {
        log.error("model {} event {} has sequence {} but the history holds up to {}; the"
            + " history skips it (was the audit log truncated?)", event.getModel(),
            event.getEventId(), event.getSequence(), last);
        return false;
      }
      try {
        RegistryFold.apply(entry.current, event);
      } catch (RuntimeException e) {
        log.error("model {} event {} (sequence {}) cannot be applied to the history; skipping it",
            event.getModel(), event.getEventId(), event.getSequence(), e);
        ModelRegistryState rebuilt = RegistryFold.empty(event.getModel());
        entry.events.forEach(done -> RegistryFold.apply(rebuilt, done));
        entry.current = rebuilt;
        return false;
      }
      entry.events.add(event);
      return true;
    }
  }

  /**
   * Names of the models with a state at {@code asOf} (null: now), sorted: those with an event at
   * or before then whose state then is not {@link RegistryFold#isEmpty empty}.
   */
  public List<String> models(Instant asOf) {
    TreeMap<String, Boolean> names = new TreeMap<>();
    models.forEach((name, entry) -> {
      synchronized (entry) {
        // now: the current fold says, without the copy foldAt makes
        if (asOf == null ? !entry.events.isEmpty() && !RegistryFold.isEmpty(entry.current)
            : foldAt(entry, name, asOf) != null) {
          names.put(name, true);
        }
      }
    });
    return new ArrayList<>(names.keySet());
  }

  /**
   * The state of {@code model} at {@code asOf} (inclusive), or its latest state when {@code asOf}
   * is null; empty when the model had no event by then, or its state then was {@link
   * RegistryFold#isEmpty empty}. A fresh copy the caller may keep.
   */
  public Optional<ModelRegistryState> stateAt(String model, Instant asOf) {
    Entry entry = models.get(model);
    if (entry == null) {
      return Optional.empty();
    }
    synchronized (entry) {
      return Optional.ofNullable(foldAt(entry, model, asOf));
    }
  }

  /** The state of the entry at {@code asOf}, a copy; null when none or empty. Holds its lock. */
  private static ModelRegistryState foldAt(Entry entry, String model, Instant asOf) {
    if (entry.events.isEmpty()) {
      return null;
    }
    ModelEvent last = entry.events.get(entry.events.size() - 1);
    if (asOf == null || !last.getEventTime().isAfter(asOf)) {
      return RegistryFold.isEmpty(entry.current) ? null : RegistryFold.copy(entry.current);
    }
    if (entry.events.get(0).getEventTime().isAfter(asOf)) {
      return null;
    }
    ModelRegistryState state = RegistryFold.empty(model);
    for (ModelEvent e : entry.events) {
      if (e.getEventTime().isAfter(asOf)) {
        break;
      }
      RegistryFold.apply(state, e);
    }
    return RegistryFold.isEmpty(state) ? null : state;
  }

  /** The events of {@code model} up to {@code asOf} (inclusive; null: all), oldest first. */
  public List<ModelEvent> history(String model, Instant asOf) {
    Entry entry = models.get(model);
    if (entry == null) {
      return List.of();
    }
    synchronized (entry) {
      List<ModelEvent> out = new ArrayList<>();
      for (ModelEvent e : entry.events) {
        if (asOf != null && e.getEventTime().isAfter(asOf)) {
          break;
        }
        out.add(e);
      }
      return out;
    }
  }

  /** Total events held. */
  public long size() {
    long n = 0;
    for (Entry e : models.values()) {
      synchronized (e) {
        n += e.events.size();
      }
    }
    return n;
  }
}
