"""Draw the forest plots to look at by eye: k = 1, 3, 12 and 150, subgroups, rare events.

Run from the project root: ``python benchmarks/forest_gallery.py [--method GLMM] [--format png]``.
Writes into ``benchmarks/out/`` (git-ignored) and prints how long each plot took. The k = 1
and k = 3 plots use the worked example (``protocols/rtx-ssc-calcinosis.counts.csv``); the
others simulate binomial counts with a fixed seed.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from meta.counts import StudyCounts, make_counts
from meta.forest import draw_forest
from meta.pooling import pool
from meta.subgroups import pool_subgroups
from meta.tables import read_counts_table

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
EXAMPLE = ROOT / "protocols" / "rtx-ssc-calcinosis.counts.csv"


def simulated(k: int, seed: int, mean_logit: float, tau: float, max_n: int) -> StudyCounts:
    """k studies with sizes 1..max_n (a third of them single-case reports) and binomial events."""
    rng = np.random.default_rng(seed)
    totals = np.where(rng.random(k) < 1 / 3, 1, rng.integers(2, max_n + 1, size=k))
    p = 1 / (1 + np.exp(-(mean_logit + tau * rng.standard_normal(k))))
    events = rng.binomial(totals, p)
    years = rng.integers(1995, 2025, size=k)
    labels = [f"Report {i + 1} ({y})" for i, y in enumerate(years)]
    groups = ["case report" if n == 1 else "case series" for n in totals]
    return make_counts(events.tolist(), totals.tolist(), labels, groups)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--method", default="GLMM")
    parser.add_argument("--format", default="png", choices=["png", "svg", "pdf"])
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    example = read_counts_table(
        EXAMPLE, events="clinical_response", total="total", study="study", subgroup="source_type"
    )
    jobs = {
        "k1": (pool(example.subset([0]), method=args.method), "Narváez 2019 alone (k = 1)"),
        "k3": (pool(example, method=args.method), "Clinical response to rituximab (k = 3)"),
        "k3_subgroups": (
            pool_subgroups(example, method=args.method),
            "Clinical response: local series vs published",
        ),
        "k12": (pool(simulated(12, 1, 0.0, 0.6, 25), method=args.method), "Simulated, k = 12"),
        "k12_subgroups": (
            pool_subgroups(simulated(12, 1, 0.0, 0.6, 25), method=args.method),
            "Simulated, k = 12, case reports vs series",
        ),
        "k150": (pool(simulated(150, 2, -0.5, 0.8, 40), method=args.method), "Simulated, k = 150"),
        "rare": (
            pool(simulated(20, 3, -3.5, 0.3, 80), method=args.method),
            "Simulated rare events, k = 20",
        ),
    }
    for name, (result, title) in jobs.items():
        start = time.perf_counter()
        path = draw_forest(result, OUT / f"forest_{name}.{args.format}", title=title)
        seconds = time.perf_counter() - start
        print(f"{path.relative_to(ROOT)}  {seconds:.2f} s")


if __name__ == "__main__":
    main()
