"""Pooling benchmark: casepool against metafor (R) on the same data, in the same run.

Usage (from the project root):

    python benchmarks/pooling.py               # k = 10, 100, 1000, with metafor if Rscript exists
    python benchmarks/pooling.py --ks 10 100   # other sizes
    python benchmarks/pooling.py --no-r        # casepool only

Data: k studies generated with a fixed seed (n = 1 + Poisson(15), true logits normal with
mean -0.5 and SD 0.6, events binomial), the same counts passed to R. Timings are per fit,
taken inside each language over repeated fits (R startup and data transfer excluded):
``meta.pooling.pool(method="REML", measure="PLO")`` against ``metafor::rma(measure="PLO",
method="REML")``, and ``pool(method="GLMM")`` (and the bare ``meta.glmm.fit_glmm``) against
``metafor::rma.glmm(measure="PLO", nAGQ=7)``. The table also shows the largest absolute
difference of estimate, SE and tau2 between the two, so speed is never bought with numbers.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from meta.counts import make_counts  # noqa: E402
from meta.glmm import fit_glmm  # noqa: E402
from meta.pooling import pool  # noqa: E402

R_SCRIPT = r"""
suppressMessages({library(metafor); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
data <- fromJSON(args[1], simplifyVector = FALSE)
out <- list()
timed <- function(reps, f) {
  t0 <- proc.time()[["elapsed"]]
  for (i in seq_len(reps)) r <- f()
  list(r = r, seconds = (proc.time()[["elapsed"]] - t0) / reps)
}
for (d in data$datasets) {
  x <- unlist(d$events); n <- unlist(d$totals)
  reml <- timed(d$r_reps_reml, function() rma(measure = "PLO", xi = x, ni = n, method = "REML"))
  glmm <- timed(d$r_reps_glmm, function() suppressWarnings(
    rma.glmm(measure = "PLO", xi = x, ni = n, method = "ML", nAGQ = 7)))
  out[[length(out) + 1]] <- list(
    k = length(x),
    REML = list(seconds = reml$seconds, mu = reml$r$beta[1], se = reml$r$se, tau2 = reml$r$tau2),
    GLMM = list(seconds = glmm$seconds, mu = glmm$r$beta[1], se = glmm$r$se, tau2 = glmm$r$tau2))
}
cat(toJSON(list(results = out, metafor = as.character(packageVersion("metafor")),
                lme4 = as.character(packageVersion("lme4"))), auto_unbox = TRUE, digits = NA))
"""


def make_data(k: int, seed: int = 2026) -> tuple[list[int], list[int]]:
    """k studies: n = 1 + Poisson(15), logit p ~ N(-0.5, 0.6^2), events ~ Binomial(n, p)."""
    rng = np.random.default_rng(seed + k)
    totals = 1 + rng.poisson(15, size=k)
    p = 1 / (1 + np.exp(-rng.normal(-0.5, 0.6, size=k)))
    events = rng.binomial(totals, p)
    return [int(e) for e in events], [int(n) for n in totals]


def per_fit_seconds(fit: Callable[[], object], min_seconds: float = 0.5) -> float:
    """Median per-fit time over batches repeated until ``min_seconds`` has passed."""
    fit()
    times = []
    start = time.perf_counter()
    while time.perf_counter() - start < min_seconds or len(times) < 3:
        t0 = time.perf_counter()
        fit()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def run_python(k: int) -> dict[str, dict[str, float]]:
    events, totals = make_data(k)
    counts = make_counts(events, totals)
    reml = pool(counts, method="REML", measure="PLO")
    glmm = pool(counts, method="GLMM")
    bare = fit_glmm(events, totals)
    return {
        "REML": {
            "seconds": per_fit_seconds(lambda: pool(counts, method="REML", measure="PLO")),
            "mu": reml.estimate_transformed,
            "se": reml.se,
            "tau2": float(reml.tau2 or 0.0),
        },
        "GLMM": {
            "seconds": per_fit_seconds(lambda: pool(counts, method="GLMM")),
            "mu": glmm.estimate_transformed,
            "se": glmm.se,
            "tau2": float(glmm.tau2 or 0.0),
        },
        "GLMM (fit_glmm only)": {
            "seconds": per_fit_seconds(lambda: fit_glmm(events, totals)),
            "mu": bare.mu,
            "se": bare.se,
            "tau2": bare.tau2,
        },
    }


def run_r(ks: list[int]) -> dict[str, object] | None:
    """Time metafor in one Rscript run; None when R or metafor is missing."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    datasets = []
    for k in ks:
        events, totals = make_data(k)
        datasets.append(
            {
                "events": events,
                "totals": totals,
                "r_reps_reml": max(3, 2000 // k),
                "r_reps_glmm": 1 if k >= 1000 else max(2, 200 // k),
            }
        )
    with tempfile.TemporaryDirectory() as tmp:
        data_path = Path(tmp) / "data.json"
        data_path.write_text(json.dumps({"datasets": datasets}))
        script = Path(tmp) / "bench.R"
        script.write_text(R_SCRIPT)
        done = subprocess.run(
            [rscript, str(script), str(data_path)], capture_output=True, text=True, check=False
        )
    if done.returncode != 0:
        print(f"metafor run failed: {done.stderr.strip()[:400]}", file=sys.stderr)
        return None
    parsed: dict[str, object] = json.loads(done.stdout)
    return parsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ks", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--no-r", action="store_true", help="skip metafor")
    args = parser.parse_args()

    ours = {k: run_python(k) for k in args.ks}
    theirs = None if args.no_r else run_r(args.ks)
    by_k: dict[int, dict[str, dict[str, float]]] = {}
    if theirs is not None:
        for row in theirs["results"]:  # type: ignore[attr-defined]
            by_k[int(row["k"])] = row
        print(f"baseline: metafor {theirs['metafor']} (lme4 {theirs['lme4']}), same data, same run")
    else:
        print("baseline: none (Rscript/metafor unavailable or failed; see above)")

    header = (
        f"{'k':>5} {'method':<22} {'casepool ms':>12} {'metafor ms':>11} {'speed-up':>9} "
        f"{'|d mu|':>9} {'|d se|':>9} {'|d tau2|':>9}"
    )
    print(header)
    print("-" * len(header))
    for k in args.ks:
        for method, mine in ours[k].items():
            base = by_k.get(k, {}).get(method.split(" ")[0])
            ms = mine["seconds"] * 1e3
            if base is None:
                print(f"{k:>5} {method:<22} {ms:>12.2f} {'-':>11}")
                continue
            theirs_ms = float(base["seconds"]) * 1e3
            diffs = [abs(mine[f] - float(base[f])) for f in ("mu", "se", "tau2")]
            print(
                f"{k:>5} {method:<22} {ms:>12.2f} {theirs_ms:>11.2f} {theirs_ms / ms:>8.1f}x "
                + " ".join(f"{d:>9.1e}" for d in diffs)
            )


if __name__ == "__main__":
    main()
