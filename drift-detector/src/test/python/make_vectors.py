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
PSI_PSEUDO_COUNT = 0.5


def binned(values, cuts):
    # bin 0 is (-inf, c1), bin i is [c_i, c_{i+1}), the last is [c_{k-1}, inf): the Histogram contract
    idx = np.searchsorted(np.asarray(cuts), values, side="right")
    return np.bincount(idx, minlength=len(cuts) + 1)


def psi(base, live):
    b = (base + PSI_PSEUDO_COUNT) / (base.sum() + PSI_PSEUDO_COUNT * len(base))
    q = (live + PSI_PSEUDO_COUNT) / (live.sum() + PSI_PSEUDO_COUNT * len(live))
    return float(np.sum((q - b) * np.log(q / b)))


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
}

with open(OUT, "w") as f:
    json.dump(vectors, f, indent=1)
    f.write("\n")
print("wrote", os.path.normpath(OUT))
