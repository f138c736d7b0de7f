#!/usr/bin/env python3
"""Reference values for drift-detector's statistics, from SciPy and NumPy.

Run once from the repository root (Debian: apt-get install python3-scipy python3-numpy):

    python3 drift-detector/src/test/python/make_vectors.py

It writes drift-detector/src/test/resources/drift-vectors.json, which DriftStatisticsTest and
PerformanceMetricsTest read. Every case is made from a fixed seed, so the file only changes when
this script does.
"""
import json
import os

import numpy as np
import scipy
from scipy import stats
from scipy.spatial.distance import jensenshannon

rng = np.random.default_rng(20261123)
OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "drift-vectors.json")
# PSI's share for a bin empty on one side only, on that side (Evidently's convention, from
# evidently.calculations.stattests.utils.get_binned_data(..., feel_zeroes=True))
PSI_EMPTY_BIN_SHARE = 1e-4


def binned(values, cuts):
    # bin 0 is (-inf, c1), bin i is [c_i, c_{i+1}), the last is [c_{k-1}, inf): the Histogram contract
    idx = np.searchsorted(np.asarray(cuts), values, side="right")
    return np.bincount(idx, minlength=len(cuts) + 1)


def filled_shares(counts):
    # Evidently's zero filling: an empty bin gets 1e-4, or the smallest non-zero share / 1e6 when
    # that share is 1e-4 or less; the shares are not renormalized
    shares = counts / counts.sum()
    smallest = shares[shares > 0].min()
    fill = smallest / 10**6 if smallest <= PSI_EMPTY_BIN_SHARE else PSI_EMPTY_BIN_SHARE
    return np.where(shares == 0, fill, shares)


def psi(base, live):
    base = np.asarray(base)
    live = np.asarray(live)
    if base.sum() == 0 or live.sum() == 0:
        return 0.0  # no evidence, as for KS and Jensen-Shannon
    keep = (base + live) > 0  # bins empty on both sides are left out
    b = filled_shares(base[keep])
    q = filled_shares(live[keep])
    return float(np.sum((q - b) * np.log(q / b)))


def psi_case(name, base, live):
    return {"name": name, "baseline": base, "live": live, "psi": psi(base, live)}


def numeric_case(name, n_base, n_live, shift, scale, bins):
    base_vals = rng.normal(0, 1, n_base)
    live_vals = rng.normal(shift, scale, n_live)
    cuts = np.unique(np.quantile(base_vals, np.linspace(0, 1, bins + 1)[1:-1]))
    base = binned(base_vals, cuts)
    live = binned(live_vals, cuts)
    k = len(base)
    # KS over the bins: ks_2samp of the bin indices (exactly what a binned sample knows)
    ks = stats.ks_2samp(np.repeat(np.arange(k), base), np.repeat(np.arange(k), live),
                        method="asymp")
    # Wasserstein between weighted points: arbitrary positions and weights
    u_vals = rng.normal(0, 1, k)
    v_vals = rng.normal(shift, scale, k)
    w = stats.wasserstein_distance(u_vals, v_vals, u_weights=base, v_weights=live)
    return {
        "name": name,
        "baseline": base.tolist(),
        "live": live.tolist(),
        "psi": psi(base, live),
        "ks_statistic": float(ks.statistic),
        "ks_p_value": float(ks.pvalue),
        "jensen_shannon": float(jensenshannon(base, live, base=2)),
        "wasserstein_u_values": u_vals.tolist(),
        "wasserstein_v_values": v_vals.tolist(),
        "wasserstein": float(w),
    }


def categorical_case(name, base_probs, live_probs, n_base, n_live):
    base = rng.multinomial(n_base, base_probs)
    live = rng.multinomial(n_live, live_probs)
    keep = (base + live) > 0
    chi2, p, dof, _ = stats.chi2_contingency(np.array([base[keep], live[keep]]), correction=False)
    return {
        "name": name,
        "baseline": base.tolist(),
        "live": live.tolist(),
        "chi_square": float(chi2),
        "chi_square_p_value": float(p),
        "jensen_shannon": float(jensenshannon(base, live, base=2)),
        "psi": psi(base, live),
    }


def performance_case(name, n, separation, ties):
    y = rng.integers(0, 2, n).astype(float)
    s = 1 / (1 + np.exp(-(rng.normal(0, 1, n) + separation * (2 * y - 1))))
    if ties:
        s = np.round(s, 1)
    u = stats.mannwhitneyu(s[y == 1], s[y == 0]).statistic
    auc = u / ((y == 1).sum() * (y == 0).sum())
    p = np.clip(s, 1e-15, 1 - 1e-15)
    log_loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    return {"name": name, "scores": s.tolist(), "labels": y.tolist(), "auc": float(auc),
            "log_loss": float(log_loss)}


vectors = {
    "generator": "drift-detector/src/test/python/make_vectors.py",
    "scipy": scipy.__version__,
    "numpy": np.__version__,
    "numeric": [
        numeric_case("same distribution", 20000, 5000, 0.0, 1.0, 10),
        numeric_case("half sigma shift", 20000, 5000, 0.5, 1.0, 10),
        numeric_case("small shift, small window", 2000, 300, 0.1, 1.0, 10),
        numeric_case("wider spread", 10000, 1000, 0.0, 1.6, 20),
        numeric_case("far out of range", 5000, 500, 4.0, 0.3, 10),
        numeric_case("tiny samples", 50, 40, 0.3, 1.0, 5),
    ],
    "categorical": [
        categorical_case("same mix", [0.5, 0.3, 0.15, 0.05], [0.5, 0.3, 0.15, 0.05], 20000, 5000),
        categorical_case("mix change", [0.5, 0.3, 0.15, 0.05], [0.35, 0.3, 0.15, 0.2], 20000, 5000),
        categorical_case("empty category", [0.6, 0.4, 0.0], [0.55, 0.4, 0.05], 1000, 500),
        categorical_case("two categories", [0.9, 0.1], [0.85, 0.15], 3000, 800),
    ],
    "performance": [
        performance_case("separable", 400, 1.5, False),
        performance_case("weak, tied scores", 300, 0.3, True),
    ],
    # PSI's edge cases, from fixed counts (they draw nothing from rng)
    "psi": [
        psi_case("same shares, 30 against 300,000, the other bucket empty on both sides",
                 [150000, 90000, 30000, 30000, 0], [15, 9, 3, 3, 0]),
        psi_case("bins empty on both sides among others", [5000, 0, 3000, 0, 2000],
                 [40, 0, 35, 0, 25]),
        psi_case("a bin empty in the window", [100, 100, 100], [0, 150, 150]),
        psi_case("a category new in the window", [600, 400, 0], [270, 200, 30]),
        psi_case("a baseline share below 1e-4: its empty bin gets that share / 1e6",
                 [2000000, 999900, 100, 0], [2000, 950, 0, 10]),
        psi_case("an empty window", [10, 20, 30], [0, 0, 0]),
    ],
}

with open(OUT, "w") as f:
    json.dump(vectors, f, indent=1)
    f.write("\n")
print("wrote", os.path.normpath(OUT))
