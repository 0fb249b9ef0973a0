#!/usr/bin/env python3
"""Reference values for crates/analysis/src/stats.rs, computed once with SciPy.

Writes crates/analysis/tests/data/stats_reference.json, which the Rust tests compare to (1e-12).
The tests never run Python; rerun this only to extend the cases:

    /work/main/.venv/bin/pip install scipy numpy
    .venv/bin/python scripts/scipy_reference.py

Every Wilcoxon case is a vector of paired differences d (candidate − baseline), tested with
scipy.stats.wilcoxon(d, zero_method='wilcox', alternative=..., method=..., correction=...).
Ties and zeros with n <= 13 make SciPy's method='auto' run an exhaustive permutation test (the
exact conditional distribution); those p-values are checked here against a brute-force
enumeration of all 2^n sign assignments as well.
"""

import itertools
import json
import pathlib

import numpy as np
import scipy
from scipy import stats

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/analysis/tests/data/stats_reference.json"


def brute_force_p(d, alternative):
    """p-value over all 2^n sign flips of the non-zero |d| (exact conditional distribution)."""
    d = np.asarray(d, dtype=float)
    d = d[d != 0]
    if d.size == 0:
        return 1.0
    r = stats.rankdata(np.abs(d))
    obs = r[d > 0].sum()
    hits = 0
    for signs in itertools.product([0, 1], repeat=d.size):
        t = float(np.dot(signs, r))
        hits += (t >= obs) if alternative == "greater" else (t <= obs)
    return hits / 2 ** d.size


def main():
    rng = np.random.default_rng(20261125)
    cases = []

    def add(name, d, alternative, method, correction=False):
        d = [float(v) for v in d]
        res = stats.wilcoxon(d, zero_method="wilcox", alternative=alternative, method=method,
                             correction=correction)
        entry = dict(name=name, d=d, alternative=alternative, method=method,
                     correction=correction, statistic=float(res.statistic),
                     pvalue=float(res.pvalue))
        cases.append(entry)
        return entry

    # Exact null distribution, no ties, no zeros.
    for alt in ("greater", "less"):
        add("n3 all positive", [0.1, 0.2, 0.3], alt, "exact")
        add("n5 mixed", [0.5, -0.1, 0.3, 0.2, 0.4], alt, "exact")
        add("n5 all negative", [-0.05, -0.01, -0.2, -0.3, -0.07], alt, "exact")
        add("n1", [0.7], alt, "exact")
        for n in (8, 12, 20, 35, 50):
            d = rng.normal(0.3, 1.0, n).round(6)
            assert len(np.unique(np.abs(d))) == n and np.all(d != 0)
            add(f"n{n} normal shift 0.3", d, alt, "exact")
            add(f"n{n} normal shift 0.3 auto", d, alt, "auto", True)
    # Zeros (dropped under zero_method='wilcox'), no ties among the rest: method='exact' uses the
    # null distribution of the non-zero count.
    for alt in ("greater", "less"):
        add("zeros exact", [0.0, 0.4, -0.1, 0.0, 0.25, 0.3], alt, "exact")
        # auto + zeros + n<=13 -> exhaustive permutation test.
        add("zeros auto permutation", [0.0, 0.4, -0.1, 0.0, 0.25, 0.3], alt, "auto", True)
        add("ties auto permutation", [0.1, -0.1, 0.2, 0.2, 0.3, -0.05, 0.3, 0.3], alt, "auto", True)
        add("ties and zeros auto permutation", [0.0, 0.1, 0.1, -0.1, 0.5, 0.0, 0.2, -0.2, 0.2,
                                                0.7, 0.7, 0.9, 1.1], alt, "auto", True)
        add("all zero auto", [0.0, 0.0, 0.0], alt, "auto", True)
    # Asymptotic (normal approximation), with and without continuity correction, with ties.
    for alt in ("greater", "less"):
        for corr in (False, True):
            d = rng.normal(0.2, 1.0, 15).round(6)
            add("n15 asymptotic", d, alt, "asymptotic", corr)
            d = np.round(rng.normal(0.2, 1.0, 30), 1)  # many ties
            d[d == 0] = 0.05
            add("n30 ties asymptotic", d, alt, "asymptotic", corr)
            d = np.concatenate([np.round(rng.normal(0.1, 1.0, 40), 1), [0.0, 0.0]])
            add("n42 ties zeros asymptotic", d, alt, "asymptotic", corr)
        # auto with > 50 values -> asymptotic; 14..50 with ties -> asymptotic.
        d = rng.normal(0.1, 1.0, 80).round(6)
        add("n80 auto asymptotic", d, alt, "auto", True)
        d = np.round(rng.normal(0.2, 1.0, 20), 1)
        add("n20 ties auto asymptotic", d, alt, "auto", True)
        d = rng.normal(-3.0, 1.0, 200).round(6)
        add("n200 strong effect asymptotic", d, alt, "asymptotic", True)

    for c in cases:
        if c["method"] == "auto" and "permutation" in c["name"] or c["name"] == "all zero auto":
            bf = brute_force_p(c["d"], c["alternative"])
            assert abs(bf - c["pvalue"]) < 1e-12, (c["name"], bf, c["pvalue"])
        if c["method"] == "exact":
            bf = brute_force_p(c["d"], c["alternative"]) if len(c["d"]) <= 16 else None
            assert bf is None or abs(bf - c["pvalue"]) < 1e-12, (c["name"], bf, c["pvalue"])

    bh = []
    for ps in ([0.01, 0.02, 0.03, 0.04, 0.05],
               [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216, 0.222,
                0.251, 0.269, 0.275, 0.34, 0.341, 0.384, 0.569, 0.594, 0.696, 0.762, 0.94, 0.942,
                0.975, 0.986],
               [0.5, 0.01, 1.0, 0.01, 0.2],
               [0.125],
               list(rng.uniform(0, 1, 40) ** 3)):
        adj = stats.false_discovery_control(ps, method="bh")
        bh.append(dict(p=[float(p) for p in ps], adjusted=[float(a) for a in adj]))

    medians = []
    for xs in ([3.0], [1.0, 2.0], [5.0, -1.0, 2.0], [0.1, 0.7, 0.3, -0.2],
               list(rng.normal(0, 1, 11)), list(rng.normal(0, 1, 12))):
        medians.append(dict(x=[float(x) for x in xs], median=float(np.median(xs))))

    out = dict(
        generator="scripts/scipy_reference.py",
        scipy_version=scipy.__version__,
        numpy_version=np.__version__,
        wilcoxon=cases,
        benjamini_hochberg=bh,
        median=medians,
    )
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {len(cases)} Wilcoxon, {len(bh)} BH and {len(medians)} median cases to {OUT}")


if __name__ == "__main__":
    main()
