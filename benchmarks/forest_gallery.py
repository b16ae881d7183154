"""Draw the forest plots to look at by eye: k = 1, 3, 12 and 150, subgroups, rare events.

Run from the project root: ``python benchmarks/forest_gallery.py [--method GLMM] [--format png]``.
Writes into ``benchmarks/out/`` (git-ignored) and prints how long each plot took. The k = 1
and k = 3 plots use the worked example (``protocols/rtx-ssc-calcinosis.counts.csv``); the
others simulate binomial counts with a fixed seed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from meta.counts import StudyCounts, make_counts  # noqa: E402
from meta.errors import MetaError  # noqa: E402
from meta.forest import draw_forest  # noqa: E402
from meta.pooling import pool  # noqa: E402
from meta.subgroups import pool_subgroups  # noqa: E402
from meta.tables import read_counts_table  # noqa: E402

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
    method = args.method
    series = simulated(12, 1, 0.0, 0.6, 25)
    jobs: dict[str, tuple[Callable[[], Any], str]] = {
        "k1": (lambda: pool(example.subset([0]), method=method), "Narváez 2019 alone (k = 1)"),
        "k3": (lambda: pool(example, method=method), "Clinical response to rituximab (k = 3)"),
        "k3_subgroups": (
            lambda: pool_subgroups(example, method=method),
            "Clinical response: local series vs published",
        ),
        "k3_subgroups_REML": (
            lambda: pool_subgroups(example, method="REML"),
            "Clinical response: local series vs published (REML)",
        ),
        "k12": (lambda: pool(series, method=method), "Simulated, k = 12"),
        "k12_subgroups": (
            lambda: pool_subgroups(series, method="REML"),
            "Simulated, k = 12, case reports vs series (REML)",
        ),
        "k150": (
            lambda: pool(simulated(150, 2, -0.5, 0.8, 40), method=method),
            "Simulated, k = 150",
        ),
        "rare": (
            lambda: pool(simulated(20, 3, -3.5, 0.3, 80), method=method),
            "Simulated rare events, k = 20",
        ),
    }
    for name, (fit, title) in jobs.items():
        try:
            result = fit()
        except MetaError as exc:  # e.g. a GLMM that cannot be fitted to these counts
            print(f"forest_{name}: not drawn, pooling failed: {exc}")
            continue
        start = time.perf_counter()
        path = draw_forest(result, OUT / f"forest_{name}.{args.format}", title=title)
        seconds = time.perf_counter() - start
        print(f"{path.relative_to(ROOT)}  drawn in {seconds:.2f} s")


if __name__ == "__main__":
    main()
