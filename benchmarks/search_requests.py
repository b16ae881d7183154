"""Requests used and wall time to retrieve 25,000 records from the local E-utilities server.

Politeness makes the rate limit, not the client, the bottleneck: at r requests per second
(3 without an API key) over any one-second window, n requests cannot finish before request
n-1 may start, at floor((n - 1) / r) seconds. The fewest requests for N hits with ESearch's
cap C and EFetch batch size b are

    1 + ceil(N / C) ESearch (the query, then one per entry-date window when N > C; none
                             extra when N <= C)
  + ceil(N / b)     EFetch (the stored PMIDs, POSTed b at a time).

Run: python benchmarks/search_requests.py [--records 25000] [--batch-size 500]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "support"))

from eutils_server import EUtilsServer, synthetic_corpus  # noqa: E402

from review.clock import utc_now  # noqa: E402
from review.pubmed.dates import DateLimits  # noqa: E402
from review.pubmed.entrez import EntrezConfig  # noqa: E402
from review.pubmed.search import run_search  # noqa: E402
from review.store import open_store, sqlite_url  # noqa: E402
from review.store.records import iter_records  # noqa: E402

START, END = date(2015, 1, 1), date(2020, 12, 31)


def run(server: EUtilsServer, n: int, batch: int, cap: int, limits: bool) -> dict[str, float]:
    server.requests.clear()
    with (
        tempfile.TemporaryDirectory() as tmp,
        open_store(sqlite_url(Path(tmp) / "r.db"), create=True) as store,
    ):
        config = EntrezConfig(email="bench@example.org", base_url=server.url, esearch_cap=cap)
        dates = (
            DateLimits(f"{START:%Y/%m/%d}", f"{END:%Y/%m/%d}", "edat") if limits else DateLimits()
        )
        began = time.monotonic()
        summary = run_search(
            store, "case report", clock=utc_now, limits=dates, config=config, batch_size=batch
        )
        wall = time.monotonic() - began
        with store.read() as tx:
            stored = len({r.source_id for _, r in iter_records(tx)})
    esearch = len(server.calls("esearch"))
    efetch = len(server.calls("efetch"))
    rate = config.requests_per_second
    total = esearch + efetch
    allowed = math.floor((total - 1) / rate)
    return {
        "records": stored,
        "identified": summary.identified,
        "windows": len(summary.log.windows),
        "esearch": esearch,
        "efetch": efetch,
        "requests": total,
        "minimum": (1 + (math.ceil(n / cap) if n > cap else 0)) + math.ceil(n / batch),
        "wall": wall,
        "allowed": allowed,
        "max_in_1s": server.max_in_window(1.0),
        "retries": summary.retries,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=25_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--cap", type=int, default=10_000)
    parser.add_argument(
        "--no-limits-too",
        action="store_true",
        help="also run without date limits (splits over 1800..today)",
    )
    args = parser.parse_args()
    corpus = synthetic_corpus(args.records, start=START, end=END)
    with EUtilsServer(corpus, cap=args.cap) as server:
        cases = [("entry-date limits = corpus span", True)]
        if args.no_limits_too:
            cases.append(("no date limits", False))
        for label, limits in cases:
            r = run(server, args.records, args.batch_size, args.cap, limits)
            over = (r["wall"] / r["allowed"] - 1) * 100 if r["allowed"] else float("nan")
            print(
                f"== {args.records:,} records, batch {args.batch_size}, cap {args.cap:,}, {label}"
            )
            print(f"  records stored        {r['records']:,} (identified {r['identified']:,})")
            print(f"  split windows         {r['windows']}")
            print(
                f"  requests              {r['requests']} = {r['esearch']} ESearch + "
                f"{r['efetch']} EFetch; minimum 1 + ceil(N/C) + ceil(N/b) = {r['minimum']}"
                f" -> {'MINIMUM' if r['requests'] == r['minimum'] else 'ABOVE MINIMUM'}"
            )
            print(
                f"  wall time             {r['wall']:.2f} s; the 3/s limit allows no less than "
                f"{r['allowed']:.0f} s -> {over:+.1f}% "
                f"({'within' if over <= 15 else 'OUTSIDE'} 15%)"
            )
            steady = r["requests"] / 3
            print(
                f"  (against n/r = {steady:.1f} s, the steady-state bound: "
                f"{(r['wall'] / steady - 1) * 100:+.1f}%)"
            )
            print(f"  most requests in 1 s  {r['max_in_1s']} (server-side), retries {r['retries']}")


if __name__ == "__main__":
    main()
