package dev.flywheel.servingsink.follow;

import dev.flywheel.servingsink.ServingMetrics;
import dev.flywheel.servingsink.model.ModelLoader;
import dev.flywheel.servingsink.model.ModelSpec;
import dev.flywheel.servingsink.model.Refusal;
import dev.flywheel.servingsink.model.ServedModel;
import dev.flywheel.servingsink.model.ServedModels;
import java.util.HashSet;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies one announced version: loads, verifies and warms it up off to the side, then swaps it
 * in atomically; or refuses it — the version served before keeps serving, and the refusal is
 * logged, counted, reported to the audit history and kept in {@link ServingStatus} for {@code
 * /health}.
 */
public final class ModelSwapper {

  private static final Logger log = LoggerFactory.getLogger(ModelSwapper.class);

  /**
   * What became of an announced version. DEFERRED: a check could not be made yet (the feature
   * lookup did not answer); nothing is refused or reported, and the caller tries again.
   */
  public enum Outcome { SWAPPED, ALREADY_SERVED, REFUSED, DEFERRED }

  private final ModelLoader loader;
  private final ServedModels served;
  private final RefusalReporter reporter;
  private final ServingMetrics metrics;
  private final ServingStatus status;
  /** Versions whose deferral was logged loudly once; only the follower thread touches it. */
  private final Set<String> deferredBefore = new HashSet<>();

  /** @param status where refusals and versions waiting to load are kept for {@code /health} */
  public ModelSwapper(ModelLoader loader, ServedModels served, RefusalReporter reporter,
      ServingMetrics metrics, ServingStatus status) {
    this.loader = Objects.requireNonNull(loader, "loader");
    this.served = Objects.requireNonNull(served, "served");
    this.reporter = Objects.requireNonNull(reporter, "reporter");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.status = Objects.requireNonNull(status, "status");
  }

  /** Serves the version unless it is served already or fails a check. */
  public Outcome apply(ModelSpec spec) {
    Optional<ServedModel> now = served.peek(spec.model(), spec.alias());
    if (now.isPresent() && now.get().version() == spec.version() && now.get().spec().artifact()
        .getSha256().equalsIgnoreCase(spec.artifact().getSha256())) {
      status.notWaiting(new ServedModels.Key(spec.model(), spec.alias()));
      return Outcome.ALREADY_SERVED;
    }
    long begin = System.nanoTime();
    ServedModel loaded;
    try {
      loaded = loader.load(spec);
    } catch (Refusal refusal) {
      if (refusal.retriable()) {
        if (deferredBefore.add(spec.describe())) {
          log.warn("not serving {} yet: {}", spec.describe(), refusal.getMessage());
        } else {
          log.debug("still not serving {}: {}", spec.describe(), refusal.getMessage());
        }
        status.waiting(spec, refusal.getMessage());
        return Outcome.DEFERRED;
      }
      refuse(spec, refusal, now);
      return Outcome.REFUSED;
    }
    Optional<ServedModel> previous = served.install(loaded);
    status.notWaiting(new ServedModels.Key(spec.model(), spec.alias()));
    metrics.swapped(loaded, served);
    log.info("serving {} (was {}); loaded, verified and warmed up in {} ms", spec.describe(),
        previous.map(p -> "v" + p.version()).orElse("nothing"),
        (System.nanoTime() - begin) / 1_000_000);
    return Outcome.SWAPPED;
  }

  private void refuse(ModelSpec spec, Refusal refusal, Optional<ServedModel> now) {
    metrics.refused(spec.model(), spec.alias(), refusal.check());
    status.refused(spec, refusal);
    log.warn("refused {} ({}): {}; {}", spec.describe(), refusal.check(), refusal.getMessage(),
        now.map(m -> "v" + m.version() + " keeps serving").orElse("nothing is served for "
            + spec.model() + "@" + spec.alias() + " yet"));
    try {
      reporter.report(spec, refusal);
    } catch (RuntimeException e) {
      log.error("the refusal of {} is not in the audit history: {}", spec.describe(),
          e.getMessage(), e);
    }
  }
}
