"""Terminal screener latency: from a key press to the next record on screen, on a review of
20,000 records, against the bare library calls the key makes, in the same run.

Usage (from the project root):

    python benchmarks/screener.py                   # 20,000 records, 200 decisions each
    python benchmarks/screener.py --records 2000 --decisions 100

Data: generated in the run (seeded): distinct case-report-like titles and abstracts of
120-250 words drawn from a 3,000-word vocabulary with the bundled protocol's include and
exclude terms mixed in (so the highlighting has work to do), three authors, a journal and a
year each; stored as one file load, clustered by ``Review.dedup``, on SQLite in a temporary
folder.

Figures, each the median, 95th percentile and maximum over the decisions, in milliseconds:

- ``bare API: decide + item``: the baseline, what a key costs the library alone: one
  ``Screening.decide`` (its committed transaction) and one ``Screening.item`` (the next
  record), by reviewer ``base``.
- ``screener: key -> next record shown``: the Textual app (``review.cli.screener``) run
  headless through its Pilot, by reviewer ``ana``, keys i / m / e then 1 in turn: from the
  key's post to the first screen refresh after the next record was drawn (Textual's
  ``call_after_refresh``); the next record's title is checked each time. The target is under
  50 ms at the 95th percentile.
- ``Textual floor: one Static redrawn``: a second baseline, what Textual itself needs here
  for a key and a redraw: a bare app that only puts the next record's text in one widget,
  timed the same way (on a busy machine every figure moves with the load; compare within a
  run).

Also printed: the process's CPU time per key for the screener and the floor (less moved by
other work on the machine than wall-clock time), the screener's start (queue and progress
read once) and one undo.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL = ROOT / "protocols" / "rtx-ssc-calcinosis.toml"
TARGET_MS = 50.0

sys.path.insert(0, str(ROOT))

from review.api import Review  # noqa: E402
from review.records import Author, Record  # noqa: E402

TERMS = (
    *("rituximab", "calcinosis", "calcification", "scleroderma", "CREST", "systemic sclerosis"),
    *("review", "mice", "murine", "rat", "in vitro", "dermatomyositis", "overlap"),
)


def generated(n: int, seed: int = 20261202) -> list[Record]:
    """``n`` distinct made-up reports (see the module docstring)."""
    rng = random.Random(seed)
    letters = "bcdfghjklmnprstvz"
    vocabulary = sorted(
        {
            "".join(rng.choice(letters) + rng.choice("aeiou") for _ in range(rng.randint(2, 4)))
            for _ in range(3200)
        }
    )[:3000]
    surnames = [w.capitalize() for w in vocabulary[:800]]
    records = []
    for i in range(n):

        def words(k: int) -> str:
            return " ".join(
                rng.choice(TERMS) if rng.random() < 0.06 else rng.choice(vocabulary)
                for _ in range(k)
            )

        sentences = [words(rng.randint(8, 20)).capitalize() + "." for _ in range(12)]
        records.append(
            Record(
                source="generated",
                source_id=f"gen-{i}",
                title=f"{words(rng.randint(6, 14)).capitalize()}: a case report ({i})",
                abstract=" ".join(sentences)[: rng.randint(800, 1600)],
                authors=tuple(
                    Author(last_name=rng.choice(surnames), initials=rng.choice("ABCDEFGHJK"))
                    for _ in range(3)
                ),
                journal=f"Journal of {rng.choice(surnames)} Medicine",
                year=1990 + i % 35,
                volume=str(1 + i % 60),
                pages=f"{i % 900}-{i % 900 + 7}",
            )
        )
    return records


def build(folder: Path, n: int) -> Path:
    from review.store import open_store
    from review.store.records import finish_load, insert_records, start_load
    from review.workspace import folder_store_url

    directory = folder / "review"
    Review.create(directory, PROTOCOL)
    records = generated(n)
    at = "2026-12-02T00:00:00Z"
    url = folder_store_url(directory)
    assert url is not None
    with open_store(url) as store, store.transaction() as tx:
        load = start_load(tx, kind="file", source="generated", at=at, file_name="generated.ris")
        stored = insert_records(tx, load, records)
        finish_load(tx, load, at=at, n_read=len(records), n_new=stored)
    with Review.open(directory) as rv:
        rv.dedup()
    return directory


def figures(label: str, seconds: list[float]) -> tuple[float, float, float]:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    median, top = statistics.median(ms), ms[-1]
    print(f"  {label:<40} median {median:6.1f}  p95 {p95:6.1f}  max {top:6.1f} ms")
    return median, p95, top


def bare_api(rv: Review, decisions: int) -> list[float]:
    """The baseline: one decide and the next item, as the library alone does them."""
    screening = rv.screening
    todo = screening.queue("ta", "base")
    out = []
    for k in range(decisions):
        start = time.perf_counter()
        screening.decide(todo[k], stage="ta", reviewer="base", decision="include", via="api")
        screening.item(todo[k + 1])
        out.append(time.perf_counter() - start)
    return out


async def screener(rv: Review, decisions: int) -> tuple[list[float], float, float, float]:
    """Key -> next record shown, in the real app through Pilot; the process's CPU time per
    key; its start and one undo."""
    from review.cli.screener import ScreenerApp, ScreenerSession

    class Timed(ScreenerApp):
        """The screener, noting when the screen has refreshed after each record drawn."""

        shown_at = 0.0

        def show(self, item: Any) -> None:
            super().show(item)
            self.drawn = asyncio.Event()
            self.call_after_refresh(self._refreshed)

        def _refreshed(self) -> None:
            self.shown_at = time.perf_counter()
            self.drawn.set()

    start = time.perf_counter()
    session = ScreenerSession(rv.screening, stage="ta", reviewer="ana")
    opened = time.perf_counter() - start
    expected = list(session.queue)
    app = Timed(rv, session)
    out = []
    async with app.run_test(size=(120, 40)) as pilot:
        await app.drawn.wait()
        cpu = time.process_time()
        for k in range(decisions):
            keys = ("i", "m", "e")[k % 3]
            if keys == "e":
                await pilot.press("e")
            app.drawn.clear()
            sent = time.perf_counter()
            await pilot.press("1" if keys == "e" else keys)
            await asyncio.wait_for(app.drawn.wait(), 5)
            out.append(app.shown_at - sent)
            title = str(app.query_one("#title").content)  # type: ignore[attr-defined]
            assert title == rv.screening.item(expected[k + 1]).record.title, (k, title)
        cpu = (time.process_time() - cpu) / decisions
        app.drawn.clear()
        sent = time.perf_counter()
        await pilot.press("u")
        await asyncio.wait_for(app.drawn.wait(), 5)
        undo = app.shown_at - sent
    return out, cpu, opened, undo


async def floor(texts: list[str], decisions: int) -> tuple[list[float], float]:
    """Textual's own cost of a key -> a redraw here: a bare app that, per key, only puts the
    next record's text in one Static (no store, no highlighting), timed the same way."""
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    class Bare(App[None]):
        BINDINGS: ClassVar = [("i", "next")]
        at = 0
        shown_at = 0.0

        def compose(self) -> ComposeResult:
            yield Static(texts[0], id="text", markup=False)

        def action_next(self) -> None:
            self.at += 1
            self.query_one("#text", Static).update(texts[self.at])
            self.call_after_refresh(self._refreshed)

        def _refreshed(self) -> None:
            self.shown_at = time.perf_counter()
            self.drawn.set()

    app = Bare()
    app.drawn = asyncio.Event()  # type: ignore[attr-defined]
    out = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        cpu = time.process_time()
        for _ in range(decisions):
            app.drawn.clear()  # type: ignore[attr-defined]
            sent = time.perf_counter()
            await pilot.press("i")
            await asyncio.wait_for(app.drawn.wait(), 5)  # type: ignore[attr-defined]
            out.append(app.shown_at - sent)
        cpu = (time.process_time() - cpu) / decisions
    return out, cpu


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000, help="records in the review")
    parser.add_argument("--decisions", type=int, default=200, help="decisions timed per side")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        directory = build(Path(folder), args.records)
        print(
            f"built a review of {args.records:,} records in {time.perf_counter() - started:.1f} s"
        )
        with Review.open(directory) as rv:
            clusters = len(rv.screening.queue("ta", "ana"))
            print(f"{clusters:,} clusters to screen at ta; {args.decisions} decisions per side")
            base = bare_api(rv, args.decisions)
            shown, cpu, opened, undo = asyncio.run(screener(rv, args.decisions))
            texts = [
                f"{item.record.title}\n\n{item.record.abstract}"
                for item in map(
                    rv.screening.item, rv.screening.queue("ta", "bare")[: args.decisions + 1]
                )
            ]
            bare, floor_cpu = asyncio.run(floor(texts, args.decisions))
        print("Per key (SQLite):")
        figures("bare API: decide + item (baseline)", base)
        figures("Textual floor: one Static redrawn", bare)
        _, p95, _ = figures("screener: key -> next record shown", shown)
        print(
            f"  CPU per key (the process, harness included): screener {cpu * 1000:.1f} ms, "
            f"Textual floor {floor_cpu * 1000:.1f} ms"
        )
        print(f"  screener start (queue and progress, once)  {opened * 1000:8.0f} ms")
        print(f"  undo -> its record shown again             {undo * 1000:8.1f} ms")
        verdict = "meets" if p95 < TARGET_MS else "MISSES"
        print(f"p95 {p95:.1f} ms {verdict} the {TARGET_MS:.0f} ms target")


if __name__ == "__main__":
    main()
