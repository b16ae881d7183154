"""ASReview's own simulations of the Cohen 2006 reviews, the baseline of benchmarks/screening.py.

Usage (from the project root; long: start it early, in the background, with nice):

    nice -n 10 python benchmarks/asreview_runs.py --seeds 10 > /tmp/casepool-asreview.log 2>&1

ASReview cannot share casepool's virtual environment: asreview 2.2 (the newest release that
asreview-insights 1.6.1, ASReview's metrics tool, accepts) pins ``pandas<3`` and
``rispy~=0.9.0``, casepool runs on pandas 3. So this script makes its own venv under /tmp
(``--venv``) with the pinned versions below, and talks to it through ``asreview simulate``
and a small reader run by that venv's Python.

Each run: ``asreview simulate DATA.csv --ai elas_u4 --n-prior-included 1
--n-prior-excluded 1 --prior-seed SEED --seed SEED`` on a CSV of the review's title,
abstract and one label column (renamed ``included``), rows in the file's order; it runs to
the last relevant record (ASReview's default stopper), as asreview-insights pads the rest
with irrelevant records. The reader writes, per run, a JSON with the priors (row numbers),
the labels in screening order after the priors, and asreview-insights' own WSS@95,
WSS@100, recall at 10% (RRF@10) and ATD, so casepool's metrics can be checked against them.
Finished runs are kept (``--out``) and not run again.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
if not (SHARED / "data" / "screening").is_dir():
    SHARED = Path("/work/shared")
DATA = SHARED / "data" / "screening" / "cohen2006"
REVIEWS = (
    "ADHD",
    "Antihistamines",
    "NSAIDS",
    "OralHypoglycemics",
    "ProtonPumpInhibitors",
    "Triptans",
    "UrinaryIncontinence",
)
LABELS = ("label_included", "label_abstract_screening")
PINS = ("asreview==2.2", "asreview-insights==1.6.1")

READER = r"""
import json, sys
from asreview import open_state
from asreviewcontrib.insights import metrics
from asreviewcontrib.insights.utils import get_simulation_labels

project, out = sys.argv[1], sys.argv[2]
with open_state(project) as state:
    table = state.get_results_table(columns=["record_id", "label", "querier"], priors=True)
    priors = state.get_priors()["record_id"].tolist()
order = [int(r) for r, q in zip(table["record_id"], table["querier"]) if q is not None]
labels = [int(v) for v in get_simulation_labels(project, priors=False)]
result = {
    "priors": [int(p) for p in priors],
    "order": order,
    "labels": labels,
    "insights": {
        "wss95": float(metrics._wss(labels, 0.95)),
        "wss100": float(metrics._wss(labels, 1.0)),
        "rrf10": float(metrics._recall(labels, 0.1)),
        # average_time_to_discovery() itself calls a state method asreview 2.2 lacks
        "atd": float(metrics._average_time_to_discovery(metrics.time_to_discovery(project))),
    },
}
with open(out, "w") as handle:
    json.dump(result, handle)
"""


def ensure_venv(venv: Path) -> Path:
    """The venv's ``bin`` folder, making the venv with ``PINS`` first if it is not there."""
    bin_dir = venv / "bin"
    if not (bin_dir / "asreview").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(bin_dir / "pip"), "install", "-q", *PINS], check=True)
    return bin_dir


def write_input(review: str, label: str, folder: Path) -> Path:
    """The review as ASReview reads it: title, abstract, ``included`` (the chosen label)."""
    path = folder / f"{review}-{label}.csv"
    if path.exists():
        return path
    with (DATA / f"{review}.csv").open(encoding="utf-8", newline="") as source:
        rows = list(csv.DictReader(source))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["title", "abstract", "included"])
        for row in rows:
            writer.writerow([row["title"], row["abstract"], row[label]])
    return path


def run_one(bin_dir: Path, data: Path, seed: int, out: Path, n_in: int, n_ex: int) -> float:
    """One ``asreview simulate`` and the reader; returns the seconds it took."""
    project = out.with_suffix(".asreview")
    project.unlink(missing_ok=True)
    start = time.perf_counter()
    subprocess.run(
        [
            str(bin_dir / "asreview"),
            "simulate",
            str(data),
            "--ai",
            "elas_u4",
            "--n-prior-included",
            str(n_in),
            "--n-prior-excluded",
            str(n_ex),
            "--prior-seed",
            str(seed),
            "--seed",
            str(seed),
            "-o",
            str(project),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=out.parent,  # asreview leaves a dataset cache (synergy_cache.sqlite) where it runs
    )
    subprocess.run(
        [str(bin_dir / "python"), "-c", READER, str(project), str(out)], check=True, cwd=out.parent
    )
    project.unlink()
    return time.perf_counter() - start


def result_path(out: Path, review: str, label: str, seed: int, n_in: int, n_ex: int) -> Path:
    return out / f"{review}-{label}-in{n_in}-ex{n_ex}-seed{seed}.json"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--prior-included", type=int, default=1)
    parser.add_argument("--prior-excluded", type=int, default=1)
    parser.add_argument("--venv", type=Path, default=Path("/tmp/casepool-asreview-venv"))
    parser.add_argument("--out", type=Path, default=Path("/tmp/casepool-asreview-runs"))
    parser.add_argument("--reviews", nargs="*", default=list(REVIEWS))
    args = parser.parse_args(argv)
    bin_dir = ensure_venv(args.venv)
    args.out.mkdir(parents=True, exist_ok=True)
    for seed in range(args.seeds):
        for review in args.reviews:
            for label in LABELS:
                out = result_path(
                    args.out, review, label, seed, args.prior_included, args.prior_excluded
                )
                if out.exists():
                    continue
                data = write_input(review, label, args.out)
                seconds = run_one(
                    bin_dir, data, seed, out, args.prior_included, args.prior_excluded
                )
                print(f"{review} {label} seed {seed}: {seconds:.1f} s", flush=True)


if __name__ == "__main__":
    main()
