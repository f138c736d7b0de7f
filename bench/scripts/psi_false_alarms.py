"""How often drift-detector's PSI reaches 0.2 in live windows drawn from the baseline itself.

The baseline has 10 equal bins of 1,000 rows; each window draws its predictions uniformly from
those bins, so any PSI above 0 is sampling noise. Prints, for each window size, the share of
4,000 windows with PSI >= 0.2 under the smoothing drift-detector used before (0.5 added to every
bin of both sides) and under the current one (DriftStatistics.psi: shares from raw counts, bins
empty on both sides left out, a bin empty on one side given 1e-4, or that side's smallest share
/ 1e6 when that is 1e-4 or less). Standard library only: python3 bench/scripts/psi_false_alarms.py
"""
import math
import random


def current(baseline, live):
    n, m = sum(baseline), sum(live)

    def empty_share(counts, total):
        smallest = min(c for c in counts if c > 0) / total
        return smallest / 1e6 if smallest <= 1e-4 else 1e-4

    eb, el = empty_share(baseline, n), empty_share(live, m)
    psi = 0.0
    for b, l in zip(baseline, live):
        if b == 0 and l == 0:
            continue
        pb = eb if b == 0 else b / n
        pl = el if l == 0 else l / m
        psi += (pl - pb) * math.log(pl / pb)
    return psi


def pseudo_count(baseline, live):
    k = len(baseline)
    total_b, total_l = sum(baseline) + 0.5 * k, sum(live) + 0.5 * k
    psi = 0.0
    for b, l in zip(baseline, live):
        pb, pl = (b + 0.5) / total_b, (l + 0.5) / total_l
        psi += (pl - pb) * math.log(pl / pb)
    return psi


def main():
    random.seed(1)
    baseline = [1000] * 10
    trials = 4000
    for size in (30, 50, 100, 200, 500):
        before = after = 0
        for _ in range(trials):
            live = [0] * 10
            for _ in range(size):
                live[random.randrange(10)] += 1
            before += pseudo_count(baseline, live) >= 0.2
            after += current(baseline, live) >= 0.2
        print(f"window {size}: P(PSI >= 0.2) pseudo-count {before / trials:.3f}"
              f" current {after / trials:.3f}")


if __name__ == "__main__":
    main()
