"""Team mode under load: sustained decisions per second, and the latency of "next record"
(GET /screen/ta.json) and "decide" (POST /screen/ta/decide.json), with 5 and 50 reviewers
screening at once a review of 10,000 records, on SQLite and on PostgreSQL, served by one
and by two ``casepool serve`` processes; against the bare library calls the two requests
make, in the same run.

Usage (from the project root; PostgreSQL from $CASEPOOL_TEST_POSTGRES or --postgres):

    nice -n 10 python benchmarks/serve.py                       # every combination, 12 s each
    python benchmarks/serve.py --records 2000 --seconds 5 --clients 5 --backends sqlite
    python benchmarks/serve.py --json

Data: generated in the run (seeded): 10,000 distinct case-report-like records (a title of
8-14 words and an abstract of 120-200 from a 3,000-word vocabulary with the protocol's
terms mixed in, so highlighting has work to do), stored as one load through the store's
bulk insert, each its own cluster; on PostgreSQL in a schema of its own, dropped after.

Each run: that many reviewer accounts, each a thread in one of four client processes on
loopback with its own HTTP session; each logs in and opens its first record on every server
(the server reads that reviewer's queue once: a full replay, some 0.3 s at 10,000 records),
then, from a common start, loops next record -> decide (include / exclude /
maybe in turn) for ``--seconds``; the first two seconds are warm-up and not counted. Two
modes: ``flat out`` (no pause: the server's saturation, where latency is mostly queueing)
and ``paced`` (each reviewer one decision every ``--pace`` seconds, default 0.5 s, still
several times faster than a person reads an abstract). The
servers are separate processes; with two, each reviewer's requests alternate between
them. After each run the store is checked: exactly one decide event per acknowledged
decision.

Figures: decisions per second (acknowledged, counted after warm-up), and the median and
95th percentile in milliseconds of each request, as the client measured it. Baseline,
``bare API``: what the two requests cost the library alone in one process
(``Screening.to_screen`` + ``Screening.item`` for next, ``Screening.decide`` for decide), on
the same store. Target: p95 under 50 ms at 5 clients.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL = ROOT / "protocols" / "rtx-ssc-calcinosis.toml"
PASSWORD = "benchmark password 1"
TARGET_MS = 50.0
WARMUP = 2.0
CLIENT_PROCESSES = 4
AT = "2026-12-02T00:00:00Z"

sys.path.insert(0, str(ROOT))

TERMS = ("rituximab", "calcinosis", "scleroderma", "systemic sclerosis", "murine", "review")


def generated(n: int, seed: int = 20261202) -> list[Any]:
    from review.records import Author, Record

    rng = random.Random(seed)
    vocabulary = sorted(
        {
            "".join(rng.choice("bcdfghjklmnprstvz") + rng.choice("aeiou") for _ in range(3))
            for _ in range(3200)
        }
    )[:3000]

    def words(k: int) -> str:
        return " ".join(
            rng.choice(TERMS) if rng.random() < 0.05 else rng.choice(vocabulary) for _ in range(k)
        )

    return [
        Record(
            source="pubmed",
            source_id=str(30_000_000 + i),
            pmid=str(30_000_000 + i),
            title=f"{words(rng.randint(8, 14)).capitalize()} {i}",
            abstract=words(rng.randint(120, 200)),
            authors=(Author(last_name=rng.choice(vocabulary).capitalize(), initials="A"),),
            journal=f"Journal {i % 50}",
            year=1990 + i % 35,
        )
        for i in range(n)
    ]


def make_review(folder: Path, db: str | None, n: int) -> None:
    from review.api import Review
    from review.store import open_store
    from review.store.records import finish_load, insert_records, start_load
    from review.workspace import folder_store_url

    Review.create(folder, PROTOCOL, db=db)
    url = folder_store_url(folder)
    assert url is not None
    records = generated(n)
    with open_store(url) as store, store.transaction() as tx:
        load = start_load(tx, kind="file", source="pubmed", at=AT, file_name="bench.xml")
        added = insert_records(tx, load, records)
        finish_load(tx, load, at=AT, n_read=n, n_new=added)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def bare_api(folder: Path, decisions: int) -> dict[str, float]:
    """The library alone: next (to_screen + item) and decide, one process, no HTTP."""
    from review.api import Review

    nexts, decides = [], []
    with Review.open(folder) as review:
        screening = review.screening
        queue = screening.queue("ta", "bare")
        for cluster in queue[:decisions]:
            start = time.perf_counter()
            screening.to_screen(cluster, stage="ta", reviewer="bare")
            screening.item(cluster)
            nexts.append(time.perf_counter() - start)
            start = time.perf_counter()
            screening.decide(cluster, stage="ta", reviewer="bare", decision="include", via="web")
            decides.append(time.perf_counter() - start)
    return {
        "next_p50_ms": 1000 * statistics.median(nexts),
        "next_p95_ms": 1000 * percentile(nexts, 0.95),
        "decide_p50_ms": 1000 * statistics.median(decides),
        "decide_p95_ms": 1000 * percentile(decides, 0.95),
    }


class Server:
    def __init__(self, folder: Path) -> None:
        casepool = str(Path(sys.executable).parent / "casepool")
        self.errors = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed in stop)
        self.popen = subprocess.Popen(
            [casepool, "serve", "--port", "0", "--review", str(folder)],
            stdout=subprocess.PIPE,
            stderr=self.errors,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.popen.stdout is not None
        line = self.popen.stdout.readline()
        found = re.search(r"at (http://127\.0\.0\.1:\d+)/", line)
        if found is None:
            self.stop()
            raise SystemExit(f"casepool serve did not start: {line!r}")
        self.url = found.group(1)

    def stop(self) -> None:
        self.popen.terminate()
        try:
            self.popen.wait(10)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(10)
        if self.popen.stdout is not None:
            self.popen.stdout.close()
        self.errors.close()


def client_process(
    names: list[str], urls: list[str], seconds: float, start: Any, pace: float, ready: Any, out: Any
) -> None:
    """Reviewer threads: log in and open the first record (each server reads that
    reviewer's queue once), say so, wait for the common start, then next -> decide."""
    import requests

    results: list[dict[str, Any]] = []
    lock = threading.Lock()

    def reviewer(name: str, offset: int) -> None:
        http = requests.Session()
        reply = http.post(f"{urls[0]}/login", json={"name": name, "password": PASSWORD})
        reply.raise_for_status()
        headers = {"X-CSRF-Token": reply.json()["csrf"]}
        for url in urls:
            http.get(f"{url}/screen/ta.json").raise_for_status()
        ready.put(name)
        nexts: list[tuple[float, float]] = []
        decides: list[tuple[float, float]] = []
        acked = 0
        turn = offset
        while start.value == 0 or time.time() < start.value:
            time.sleep(0.005)
        start_at = start.value
        end = start_at + seconds
        k = 0
        slot = start_at + offset * pace / max(1, len(names))
        while time.time() < end:
            if pace:
                time.sleep(max(0.0, slot - time.time()))
                slot += pace
            base = urls[turn % len(urls)]
            turn += 1
            t0 = time.perf_counter()
            page = http.get(f"{base}/screen/ta.json")
            t1 = time.perf_counter()
            cluster = page.json()["cluster"]
            if cluster is None:
                break
            decision = ("include", "exclude", "maybe")[k % 3]
            k += 1
            done = http.post(
                f"{urls[turn % len(urls)]}/screen/ta/decide.json",
                json={"cluster": cluster, "decision": decision},
                headers=headers,
            )
            t2 = time.perf_counter()
            turn += 1
            done.raise_for_status()
            now = time.time()
            nexts.append((now, t1 - t0))
            decides.append((now, t2 - t1))
            acked += 1
        with lock:
            results.append({"name": name, "next": nexts, "decide": decides, "acked": acked})

    threads = [threading.Thread(target=reviewer, args=(name, i)) for i, name in enumerate(names)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put(results)


def run_load(
    folder: Path, urls: list[str], clients: int, seconds: float, tag: str, pace: float
) -> dict[str, Any]:
    from review.api import Review

    names = [f"{tag}-{i}" for i in range(clients)]
    with Review.open(folder) as review:
        for name in names:
            review.team.add_user(name, password=PASSWORD)
    context = multiprocessing.get_context("spawn")
    queue, ready = context.Queue(), context.Queue()
    start = context.Value("d", 0.0)
    groups = [names[i::CLIENT_PROCESSES] for i in range(CLIENT_PROCESSES)]
    procs = [
        context.Process(target=client_process, args=(g, urls, seconds, start, pace, ready, queue))
        for g in groups
        if g
    ]
    for proc in procs:
        proc.start()
    for _ in names:
        ready.get(timeout=300)
    start_at = time.time() + 0.5
    start.value = start_at
    results: list[dict[str, Any]] = []
    for _ in procs:
        results.extend(queue.get(timeout=seconds + 120))
    for proc in procs:
        proc.join(30)
    counted_from = start_at + WARMUP
    nexts = [d for r in results for t, d in r["next"] if t >= counted_from]
    decides = [d for r in results for t, d in r["decide"] if t >= counted_from]
    acked = sum(r["acked"] for r in results)
    stored = count_decisions(folder, set(names))
    return {
        "decisions_per_s": len(decides) / (seconds - WARMUP),
        "next_p50_ms": 1000 * statistics.median(nexts) if nexts else None,
        "next_p95_ms": 1000 * percentile(nexts, 0.95) if nexts else None,
        "decide_p50_ms": 1000 * statistics.median(decides) if decides else None,
        "decide_p95_ms": 1000 * percentile(decides, 0.95) if decides else None,
        "acknowledged": acked,
        "stored": stored,
    }


def count_decisions(folder: Path, people: set[str]) -> int:
    from review.store import open_store
    from review.store.screening import events
    from review.workspace import folder_store_url

    url = folder_store_url(folder)
    assert url is not None
    with open_store(url) as store, store.read() as tx:
        return sum(1 for e in events(tx, "ta") if e.kind == "decide" and e.person in people)


def postgres_schema(server: str) -> tuple[str, str, Any]:
    from sqlalchemy import create_engine, text

    schema = f"bench_serve_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in server else "?"
    return f"{server}{separator}options=-csearch_path%3D{schema}", schema, admin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--clients", default="5,50")
    parser.add_argument("--processes", default="1,2")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--postgres", default=os.environ.get("CASEPOOL_TEST_POSTGRES"))
    parser.add_argument(
        "--pace",
        type=float,
        default=0.5,
        help="seconds per decision of each reviewer in the paced runs (0: no paced runs)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    modes = [("flat out", 0.0)] + ([("paced", args.pace)] if args.pace else [])
    client_counts = [int(c) for c in args.clients.split(",")]
    process_counts = [int(p) for p in args.processes.split(",")]
    rows: list[dict[str, Any]] = []
    for backend in args.backends.split(","):
        if backend == "postgresql" and not args.postgres:
            print("skipping PostgreSQL: set $CASEPOOL_TEST_POSTGRES or --postgres", file=sys.stderr)
            continue
        base = Path(tempfile.mkdtemp(prefix="casepool-bench-serve-"))
        db, schema, admin = (None, None, None)
        if backend == "postgresql":
            db, schema, admin = postgres_schema(args.postgres)
        try:
            folder = base / "review"
            make_review(folder, db, args.records)
            baseline = bare_api(folder, 200)
            rows.append(
                {
                    "backend": backend,
                    "processes": 0,
                    "clients": 1,
                    "what": "bare API",
                    "mode": "-",
                    **baseline,
                    "decisions_per_s": None,
                }
            )
            for (mode, pace), processes, clients in itertools.product(
                modes, process_counts, client_counts
            ):
                servers = [Server(folder) for _ in range(processes)]
                try:
                    tag = f"{backend[:2]}{mode[0]}{processes}x{clients}"
                    urls = [server.url for server in servers]
                    figures = run_load(folder, urls, clients, args.seconds, tag, pace)
                finally:
                    for server in servers:
                        server.stop()
                rows.append(
                    {
                        "backend": backend,
                        "processes": processes,
                        "clients": clients,
                        "what": "HTTP",
                        "mode": mode,
                        "pace_s": pace,
                        **figures,
                    }
                )
                if not args.json:
                    print_row(rows[-1])
        finally:
            shutil.rmtree(base, ignore_errors=True)
            if admin is not None:
                from sqlalchemy import text

                with admin.begin() as connection:
                    connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
                admin.dispose()
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print()
    print(
        f"{'backend':<11}{'mode':>9}{'servers':>9}{'clients':>8}  {'dec/s':>7}  {'next p50':>9}"
        f"{'p95':>7}  {'decide p50':>10}{'p95':>7}  {'acked = stored':>15}"
    )
    for row in rows:
        print_row(row, header=False)
    for mode, _ in modes:
        five = [r for r in rows if r["what"] == "HTTP" and r["clients"] == 5 and r["mode"] == mode]
        worst = max((max(r["next_p95_ms"] or 0, r["decide_p95_ms"] or 0) for r in five), default=0)
        verdict = "met" if worst < TARGET_MS else "NOT met"
        print(
            f"Target p95 < {TARGET_MS:.0f} ms at 5 clients, {mode}: {verdict} "
            f"(worst p95 {worst:.1f} ms)"
        )
    lost = [r for r in rows if r["what"] == "HTTP" and r["acknowledged"] != r["stored"]]
    print("Every acknowledged decision stored once:", "yes" if not lost else f"NO: {lost}")


def print_row(row: dict[str, Any], header: bool = True) -> None:
    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v:.1f}"

    rate = "-" if row.get("decisions_per_s") is None else f"{row['decisions_per_s']:.0f}"
    servers = row["what"] if row["what"] == "bare API" else str(row["processes"])
    check = f"{row['acknowledged']} = {row['stored']}" if row["what"] == "HTTP" else "-"
    print(
        f"{row['backend']:<11}{row['mode']:>9}{servers:>9}{row['clients']:>8}  {rate:>7}  "
        f"{ms(row['next_p50_ms']):>9}{ms(row['next_p95_ms']):>7}  "
        f"{ms(row['decide_p50_ms']):>10}{ms(row['decide_p95_ms']):>7}  {check:>15}",
        flush=True,
    )


if __name__ == "__main__":
    main()
