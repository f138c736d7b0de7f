package dev.flywheel.registryprojector;

import java.util.Objects;

/**
 * The champion comparison of a promotion policy: a version may move to a promotion alias only if
 * its holdout metric beats the incumbent's by at least {@code margin}. The incumbent is the version
 * {@code alias} points at, or, when {@code alias} is null, the version the alias being moved points
 * at. With no incumbent (the alias's first version, or the incumbent is the candidate itself) the
 * gate passes; an incumbent without the metric cannot be beaten by number, so the gate passes too;
 * a candidate without the metric fails.
 *
 * @param metric the metric compared, e.g. {@code auc}
 * @param margin the least improvement, in the metric's units, e.g. {@code 0.01}; 0 allows a tie
 * @param lowerIsBetter true for losses and errors ({@code log_loss}, {@code rmse})
 * @param alias the alias whose version is the incumbent; null for the alias being moved
 */
public record ChampionGate(String metric, double margin, boolean lowerIsBetter, String alias) {

  /** @throws IllegalArgumentException when the margin is negative or not a number */
  public ChampionGate {
    Objects.requireNonNull(metric, "metric");
    if (metric.isBlank()) {
      throw new IllegalArgumentException("beatChampion.metric must name a metric, e.g. auc");
    }
    if (!(margin >= 0)) {
      throw new IllegalArgumentException("beatChampion.margin must be 0 or more, got " + margin);
    }
  }

  /** Whether {@code candidate} beats {@code incumbent} by the margin. */
  public boolean beats(double candidate, double incumbent) {
    // A tiny tolerance so that 0.93 vs 0.92 with margin 0.01 passes despite binary fractions.
    double epsilon = 1e-12;
    return lowerIsBetter
        ? incumbent - candidate >= margin - epsilon
        : candidate - incumbent >= margin - epsilon;
  }

  /** The gate's name in a rejection, e.g. {@code beats champion v3 by 0.01 on auc}. */
  public String describe(String incumbentAlias, int incumbentVersion) {
    return "beats " + incumbentAlias + " v" + incumbentVersion + " by " + MetricGate.format(margin)
        + " on " + metric + (lowerIsBetter ? " (lower is better)" : "");
  }
}
