package dev.flywheel.servingsink.follow;

import dev.flywheel.events.ServingCheck;
import dev.flywheel.servingsink.model.ModelSpec;
import dev.flywheel.servingsink.model.Refusal;
import dev.flywheel.servingsink.model.ServedModels;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

/**
 * What following decided per model and alias beyond the version it serves, for {@code /health}:
 * the latest version refused (since this instance started), a version waiting to be loaded, and
 * an alias the registry removed while the version it named keeps serving. Written by the
 * follower (and catch-up before it), read by any thread.
 */
public final class ServingStatus {

  /** {@code version} failed {@code check} at {@code at}, saying {@code reason}. */
  public record Refused(int version, ServingCheck check, String reason, Instant at) {}

  /** {@code version} waits to be loaded since {@code since}: a check cannot be made yet. */
  public record Waiting(int version, String reason, Instant since) {}

  /**
   * What is known of one model and alias; each part null when there is nothing to say.
   *
   * @param refused the latest version refused
   * @param waiting the version waiting to be loaded
   * @param aliasRemovedAt when the registry removed the alias (its state's event time), while
   *     serving goes on with the version it named
   */
  public record Entry(Refused refused, Waiting waiting, Instant aliasRemovedAt) {

    private static final Entry EMPTY = new Entry(null, null, null);

    boolean isEmpty() {
      return refused == null && waiting == null && aliasRemovedAt == null;
    }
  }

  private final Clock clock;
  private final Map<ServedModels.Key, Entry> entries = new ConcurrentHashMap<>();

  /** @param clock when refusals and waits are stamped */
  public ServingStatus(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** Stamped with the system clock. */
  public ServingStatus() {
    this(Clock.systemUTC());
  }

  /** Records {@code spec} as the latest refused version of its alias; it no longer waits. */
  void refused(ModelSpec spec, Refusal refusal) {
    Refused r = new Refused(spec.version(), refusal.check(), refusal.getMessage(), clock.instant());
    update(key(spec), e -> new Entry(r, null, e.aliasRemovedAt()));
  }

  /** Records {@code spec} as waiting to be loaded, since its first wait. */
  void waiting(ModelSpec spec, String reason) {
    update(key(spec), e -> {
      Instant since = e.waiting() != null && e.waiting().version() == spec.version()
          ? e.waiting().since() : clock.instant();
      return new Entry(e.refused(), new Waiting(spec.version(), reason, since),
          e.aliasRemovedAt());
    });
  }

  /** Nothing waits to be loaded for {@code key} any more. */
  void notWaiting(ServedModels.Key key) {
    update(key, e -> new Entry(e.refused(), null, e.aliasRemovedAt()));
  }

  /** The registry removed the alias of {@code key} at {@code at}. */
  void aliasRemoved(ServedModels.Key key, Instant at) {
    update(key, e -> new Entry(e.refused(), e.waiting(), at));
  }

  /** The registry set the alias of {@code key} again. */
  void aliasSet(ServedModels.Key key) {
    update(key, e -> new Entry(e.refused(), e.waiting(), null));
  }

  /** When the registry removed the alias of {@code key}, if it did and has not set it again. */
  public Optional<Instant> aliasRemovedAt(ServedModels.Key key) {
    return Optional.ofNullable(entries.getOrDefault(key, Entry.EMPTY).aliasRemovedAt());
  }

  /** Every model and alias with something to say, at one instant. */
  public Map<ServedModels.Key, Entry> snapshot() {
    return Map.copyOf(entries);
  }

  private void update(ServedModels.Key key, UnaryOperator<Entry> change) {
    entries.compute(key, (k, e) -> {
      Entry next = change.apply(e == null ? Entry.EMPTY : e);
      return next.isEmpty() ? null : next;
    });
  }

  private static ServedModels.Key key(ModelSpec spec) {
    return new ServedModels.Key(spec.model(), spec.alias());
  }
}
