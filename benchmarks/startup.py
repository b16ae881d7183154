"""Start-up time of the commands people run most, against a bare interpreter in the same run.

Targets (issue "A house that can hold the whole review"): ``casepool --help`` under 0.3 s,
and ``casepool pool`` on a 3-row CSV without ``--forest`` at most 1.0 s. The baseline is
``python -c pass`` measured in the same run, so a slow machine shows as a slow baseline.

    python benchmarks/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(command: list[str], runs: int) -> tuple[float, float]:
    """(median, min) wall seconds over ``runs`` runs after one warm-up."""
    subprocess.run(command, capture_output=True, check=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    casepool = shutil.which("casepool")
    if casepool is None:
        sys.exit("casepool is not on PATH: pip install -e . first")
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "counts.csv"
        table.write_text("study,events,total\nA,4,8\nB,1,1\nC,0,1\n", encoding="utf-8")
        pool = [casepool, "pool", "--input", str(table), "--events", "events", "--total", "total"]
        rows = [
            ("python -c pass (baseline)", [sys.executable, "-c", "pass"], None),
            ("casepool --help", [casepool, "--help"], 0.3),
            ("casepool pool (3-row CSV)", pool, 1.0),
        ]
        print(f"{'command':<28} {'median s':>9} {'min s':>7} {'target s':>9}")
        for name, command, target in rows:
            median, fastest = timed(command, args.runs)
            goal = "" if target is None else f"{target:.1f}"
            print(f"{name:<28} {median:>9.3f} {fastest:>7.3f} {goal:>9}")


if __name__ == "__main__":
    main()
