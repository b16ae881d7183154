"""The terminal screener driven as a reviewer drives it: keys through Textual's own test
harness (Pilot) on both stores, each key's events read back from the store; and the real
``casepool screen`` in a pseudo-terminal, killed in the middle of a session."""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from screening import ready_review
from stores import add_records
from typer.testing import CliRunner

from review.api import Review
from review.cli import app as cli_app
from review.cli.screener import (
    EXCLUDE_STYLE,
    INCLUDE_STYLE,
    Panel,
    ReasonPicker,
    ScreenerApp,
    ScreenerSession,
)
from review.records import Record

Steps = Callable[[Any, ScreenerApp], Awaitable[None]]


def drive(review_dir: Path, steps: Steps, *, stage: str = "ta", reviewer: str = "ana") -> None:
    """Open the screener on the review, run ``steps(pilot, app)``, close it."""

    async def main() -> None:
        with Review.open(review_dir) as rv:
            session = ScreenerSession(rv.screening, stage=stage, reviewer=reviewer)  # type: ignore[arg-type]
            app = ScreenerApp(rv, session)
            async with app.run_test(size=(110, 40)) as pilot:
                await steps(pilot, app)

    asyncio.run(main())


def trail(review_dir: Path, cluster: int, viewer: str = "ana") -> list[tuple[Any, ...]]:
    """The cluster's events as ``viewer`` sees them: (stage, kind, decision, reason, note, via)."""
    with Review.open(review_dir) as rv:
        _, events = rv.screening.history(cluster, viewer=viewer)
    return [(e.stage, e.kind, e.decision, e.reason, e.note, e.via) for e in events]


def text(app: ScreenerApp, selector: str) -> str:
    """What a widget shows, on the screen on top (a panel) or else the record's screen."""
    found = app.screen.query(selector) or app.query(selector)
    return str(found.first().content)  # type: ignore[attr-defined]


def test_include_exclude_with_a_reason_and_maybe_each_record_one_event(review_dir: Path) -> None:
    cids = ready_review(review_dir, 4)

    async def steps(pilot: Any, app: ScreenerApp) -> None:
        assert text(app, "#title").startswith("Paper 1:")
        await pilot.press("i")
        assert text(app, "#title").startswith("Paper 2:")
        await pilot.press("e")
        assert app.query_one(ReasonPicker).open
        await pilot.press("2")
        assert not app.query_one(ReasonPicker).open
        assert text(app, "#message") == f"Saved: exclude (no-calcinosis) on cluster {cids[1]}."
        await pilot.press("m")
        assert text(app, "#title").startswith("Paper 4:")

    drive(review_dir, steps)
    assert trail(review_dir, cids[0]) == [("ta", "decide", "include", None, None, "terminal")]
    assert trail(review_dir, cids[1]) == [
        ("ta", "decide", "exclude", "no-calcinosis", None, "terminal")
    ]
    assert trail(review_dir, cids[2]) == [("ta", "decide", "maybe", None, None, "terminal")]
    assert trail(review_dir, cids[3]) == []


def test_exclude_without_a_reason_at_title_abstract_and_esc_cancels(review_dir: Path) -> None:
    cids = ready_review(review_dir, 3)

    async def steps(pilot: Any, app: ScreenerApp) -> None:
        await pilot.press("e", "escape")
        assert text(app, "#message") == "Exclusion cancelled; nothing recorded."
        assert text(app, "#title").startswith("Paper 1:")
        await pilot.press("e", "enter")
        await pilot.press("e", "0")
        assert text(app, "#title").startswith("Paper 3:")

    drive(review_dir, steps)
    assert trail(review_dir, cids[0]) == [("ta", "decide", "exclude", None, None, "terminal")]
    assert trail(review_dir, cids[1]) == [("ta", "decide", "exclude", None, None, "terminal")]
    assert trail(review_dir, cids[2]) == []


def test_full_text_exclusion_needs_a_reason_from_the_full_text_list(review_dir: Path) -> None:
    cids = ready_review(review_dir, 2)
    with Review.open(review_dir) as rv:
        for person in ("ana", "bo"):
            rv.screening.decide(cids[0], stage="ta", reviewer=person, decision="include")

    async def steps(pilot: Any, app: ScreenerApp) -> None:
        assert text(app, "#title").startswith("Paper 1:")
        await pilot.press("e")
        shown = text(app, "#reasons-text")
        assert "9  Full text could not be obtained (full-text-unavailable)" in shown
        assert "A reason is required at full text." in shown
        await pilot.press("enter")
        assert app.query_one(ReasonPicker).open
        assert text(app, "#reasons-message") == (
            "A reason is required at full text: press its number."
        )
        await pilot.press("0")
        assert text(app, "#reasons-message") == (
            "A reason is required at full text: press its number."
        )
        await pilot.press("9")
        assert text(app, "#title") == "Nothing left to screen at ft for ana."

    drive(review_dir, steps, stage="ft")
    assert trail(review_dir, cids[0])[-1] == (
        "ft",
        "decide",
        "exclude",
        "full-text-unavailable",
        None,
        "terminal",
    )


def test_with_more_than_nine_reasons_a_reason_takes_two_digits_or_one_and_enter(
    tmp_path: Path, bundled_protocol: Path
) -> None:
    more = "".join(
        f'\n[[exclusion_reasons]]\ncode = "extra-{n}"\nlabel = "Extra reason {n}"\n'
        for n in range(1, 3)
    )
    source = bundled_protocol.read_text(encoding="utf-8").replace(
        "\n[screening]\n", more + "\n[screening]\n", 1
    )
    protocol = tmp_path / "protocol.toml"
    protocol.write_text(source, encoding="utf-8")
    review_dir = tmp_path / "review"
    Review.create(review_dir, protocol)
    cids = ready_review(review_dir, 3)

    async def steps(pilot: Any, app: ScreenerApp) -> None:
        await pilot.press("e")
        assert "  10  Extra reason 2 (extra-2)" in text(app, "#reasons-text")
        await pilot.press("1")
        assert app.query_one(ReasonPicker).open
        await pilot.press("0")
        await pilot.press("e", "3", "enter")
        await pilot.press("e", "0", "0")
        assert text(app, "#title") == "Nothing left to screen at ta for ana."

    drive(review_dir, steps)
    assert [trail(review_dir, c)[0][3] for c in cids] == ["extra-2", "no-rtx", None]


def test_a_note_is_saved_and_its_record_stays_on_screen(review_dir: Path) -> None:
    cids = ready_review(review_dir, 2)

    async def steps(pilot: Any, app: ScreenerApp) -> None:
        await pilot.press("n", *"quite sure: figure 2", "enter")
        assert text(app, "#message") == "Note saved."
        assert text(app, "#title").startswith("Paper 1:")
        await pilot.press("n", *"never mind", "escape")
        assert text(app, "#message") == "No note saved."

    drive(review_dir, steps)
    assert trail(review_dir, cids[0]) == [
        ("ta", "note", None, None, "quite sure: figure 2", "terminal")
    ]


def test_undo_takes_back_the_last_decision_and_brings_its_record_back(review_dir: Path) -> None:
    cids = ready_review(review_dir, 3)

    async def steps(pilot: Any, app: ScreenerApp) -> None:
        await pilot.press("i", "m")
        assert text(app, "#title").startswith("Paper 3:")
        await pilot.press("u")
        assert text(app, "#title").startswith("Paper 2:")
        assert text(app, "#message") == (
            f"Undid your maybe on cluster {cids[1]} (unscreened); decide it again."
        )
        assert " 1/3 done · include 1  exclude 0  maybe 0 · 2 left" in text(app, "#progress")
        await pilot.press("e", "1")
        await pilot.press("u", "u")
        assert text(app, "#title").startswith("Paper 1:")
        await pilot.press("u")
        assert text(app, "#message") == "Nothing to undo: you have no decision at ta."

    drive(review_dir, steps)
    undo = ("ta", "reset", None, None, None, "terminal")
    assert trail(review_dir, cids[0]) == [("ta", "decide", "include", None, None, "terminal"), undo]
    assert trail(review_dir, cids[1]) == [
        ("ta", "decide", "maybe", None, None, "terminal"),
        undo,
        ("ta", "decide", "exclude", "not-ssc", None, "terminal"),
        undo,
    ]
    assert trail(review_dir, cids[2]) == []


def test_undo_of_an_earlier_change_of_mind_restores_the_decision_before_it(
    review_dir: Path,
) -> None:
    cids = ready_review(review_dir, 3)
    with Review.open(review_dir) as rv:
        for decision in ("include", "exclude"):
            rv.screening.decide(cids[0], stage="ta", reviewer="ana", decision=decision)  # type: ignore[arg-type]

    async def steps(pilot: Any, app: ScreenerApp) -> None:
        assert text(app, "#title").startswith("Paper 2:")
        await pilot.press("u")
        assert text(app, "#title").startswith("Paper 1:")
        assert text(app, "#message") == (
            f"Undid your last decision on cluster {cids[0]} (back to your earlier include); "
            "decide it again."
        )
        assert "1/3 done · include 1  exclude 0  maybe 0 · 3 left" in text(app, "#progress")
        await pilot.press("m")
        assert "1/3 done · include 0  exclude 0  maybe 1 · 2 left" in text(app, "#progress")

    drive(review_dir, steps)
    assert [(e[2], e[5]) for e in trail(review_dir, cids[0])] == [
        ("include", "api"),
        ("exclude", "api"),
        ("include", "terminal"),
        ("maybe", "terminal"),
    ]


def test_skip_puts_the_record_at_the_end_of_the_session_and_decides_nothing(
    review_dir: Path,
) -> None:
    cids = ready_review(review_dir, 3)

    async def steps(pilot: Any, app: ScreenerApp) -> None:
        await pilot.press("s")
        assert text(app, "#title").startswith("Paper 2:")
        await pilot.press("i", "i")
        assert text(app, "#title").startswith("Paper 1:")
        await pilot.press("s")
        assert text(app, "#message") == (
            "This is the last record left in this session; nothing to skip to."
        )

    drive(review_dir, steps)
    assert [len(trail(review_dir, c)) for c in cids] == [0, 1, 1]


def test_quit_closes_the_screener_with_every_decision_kept(review_dir: Path) -> None:
    cids = ready_review(review_dir, 2)

    async def steps(pilot: Any, app: ScreenerApp) -> None:
        await pilot.press("m", "q")
        assert not app.is_running

    drive(review_dir, steps)
    assert trail(review_dir, cids[0]) == [("ta", "decide", "maybe", None, None, "terminal")]
    with Review.open(review_dir) as rv:
        assert rv.screening.queue("ta", "ana") == [cids[1]]


def test_progress_counts_the_reviewers_own_decisions(review_dir: Path) -> None:
    cids = ready_review(review_dir, 4)
    with Review.open(review_dir) as rv:
        rv.screening.decide(cids[0], stage="ta", reviewer="ana", decision="exclude")
        rv.screening.decide(cids[1], stage="ta", reviewer="bo", decision="include")

    async def steps(pilot: Any, app: ScreenerApp) -> None:
        assert text(app, "#progress") == (
            "ta · ana · 1/4 done · include 0  exclude 1  maybe 0 · 3 left in this session"
        )
        await pilot.press("i")
        assert text(app, "#progress") == (
            "ta · ana · 2/4 done · include 1  exclude 1  maybe 0 · 2 left in this session"
        )

    drive(review_dir, steps)


def test_include_and_exclude_terms_are_shown_in_two_colours(review_dir: Path) -> None:
    add_records(
        review_dir,
        "pubmed",
        [
            Record(
                source="pubmed",
                source_id="1",
                title="Rituximab in murine scleroderma: a review",
                abstract="Calcified nodules in systemic  sclerosis; not in vitro.",
            )
        ],
    )
    with Review.open(review_dir) as rv:
        rv.dedup()

    async def steps(pilot: Any, app: ScreenerApp) -> None:
        for selector, expected in (
            (
                "#title",
                [
                    ("Rituximab", INCLUDE_STYLE),
                    ("murine", EXCLUDE_STYLE),
                    ("scleroderma", INCLUDE_STYLE),
                    ("review", EXCLUDE_STYLE),
                ],
            ),
            (
                "#abstract",
                [
                    ("Calcified", INCLUDE_STYLE),
                    ("systemic  sclerosis", INCLUDE_STYLE),
                    ("in vitro", EXCLUDE_STYLE),
                ],
            ),
        ):
            content = app.query_one(selector).content  # type: ignore[attr-defined]
            marked = [(content.plain[s.start : s.end], s.style) for s in content.spans]
            assert marked == expected

    assert INCLUDE_STYLE != EXCLUDE_STYLE
    drive(review_dir, steps)


def test_the_keys_are_in_the_footer_question_mark_shows_them_and_c_the_criteria(
    review_dir: Path,
) -> None:
    cids = ready_review(review_dir, 2)

    async def steps(pilot: Any, app: ScreenerApp) -> None:
        assert text(app, "#keys") == (
            "i include  e exclude  m maybe  n note  u undo  s skip  c criteria  ? keys  q quit"
        )
        await pilot.press("question_mark")
        assert isinstance(app.screen, Panel)
        keys = text(app, "#panel-text")
        assert "  e  exclude (then the reason's number)" in keys
        assert "  u  undo your last decision (its record comes back)" in keys
        await pilot.press("i")
        assert isinstance(app.screen, Panel)
        await pilot.press("question_mark")
        assert not isinstance(app.screen, Panel)
        await pilot.press("c")
        criteria = text(app, "#panel-text")
        assert "  + Calcinosis present before rituximab" in criteria
        assert "  - Animal or in-vitro studies" in criteria
        assert "  Intervention: Rituximab (anti-CD20), any regimen" in criteria
        await pilot.press("escape")
        assert not isinstance(app.screen, Panel)
        assert text(app, "#title").startswith("Paper 1:")

    drive(review_dir, steps)
    assert trail(review_dir, cids[0]) == []


def test_an_empty_queue_says_so_and_keys_that_decide_do_nothing(review_dir: Path) -> None:
    cids = ready_review(review_dir, 1)
    with Review.open(review_dir) as rv:
        rv.screening.decide(cids[0], stage="ta", reviewer="ana", decision="include")

    async def steps(pilot: Any, app: ScreenerApp) -> None:
        assert text(app, "#title") == "Nothing left to screen at ta for ana."
        await pilot.press("e", "1", "m", "s", "n")
        assert not app.query_one(ReasonPicker).open

    drive(review_dir, steps)
    assert trail(review_dir, cids[0]) == [("ta", "decide", "include", None, None, "api")]


def test_a_refused_decision_is_one_line_on_screen_and_writes_nothing(review_dir: Path) -> None:
    cids = ready_review(review_dir, 2)

    async def steps(pilot: Any, app: ScreenerApp) -> None:
        app.review.screening.assign("ta", ["bo", "cy"], per_record=2)
        await pilot.press("i")
        assert text(app, "#message") == (
            f"Not recorded: cluster {cids[0]} is not assigned to ana at title/abstract "
            "(assigned to bo, cy)"
        )
        assert text(app, "#title").startswith("Paper 1:")
        assert app.is_running

    drive(review_dir, steps)
    assert trail(review_dir, cids[0]) == []


def test_the_cli_refuses_a_bad_reviewer_name_before_the_screen_opens(review_dir: Path) -> None:
    ready_review(review_dir, 1)
    result = CliRunner().invoke(
        cli_app, ["screen", "--stage", "ta", "--reviewer", "ana,bo", "--review", str(review_dir)]
    )
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: reviewer name 'ana,bo' cannot be used: names may not hold commas, semicolons "
        "or control characters\n"
    )


# --- the real program in a pseudo-terminal ----------------------------------------------


class Terminal:
    """``casepool`` running in a pseudo-terminal of 120 x 40, its output read as it comes."""

    def __init__(self, *args: str) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
        env.pop("CASEPOOL_REVIEWER", None)
        program = Path(sys.executable).with_name("casepool")
        self.process = subprocess.Popen(
            [str(program), *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self.master = master
        self.output = bytearray()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk

    def send(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def wait_for(self, shown: str, timeout: float = 20.0) -> None:
        until(lambda: shown.encode() in self.output, f"{shown!r} on screen", timeout)

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        os.close(self.master)
        self._reader.join(timeout=5)


def until(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what} after {timeout:.0f} s")
        time.sleep(0.05)


def test_killing_the_screener_mid_session_loses_no_decision(sqlite_review_dir: Path) -> None:
    cids = ready_review(sqlite_review_dir, 6)
    terminal = Terminal(
        "screen", "--stage", "ta", "--reviewer", "ana", "--review", str(sqlite_review_dir)
    )

    def events_on(cluster: int, n: int) -> Callable[[], bool]:
        return lambda: len(trail(sqlite_review_dir, cluster)) == n

    try:
        terminal.wait_for("left in this session")
        terminal.send("i")
        until(events_on(cids[0], 1), "the include in the store")
        terminal.send("e")
        terminal.wait_for("Exclude: why?")
        terminal.send("3")
        until(events_on(cids[1], 1), "the exclusion in the store")
        terminal.send("m")
        until(events_on(cids[2], 1), "the maybe in the store")
        terminal.send("n")
        terminal.wait_for("Enter saves")
        terminal.send("seen at the kill\r")
        until(events_on(cids[3], 1), "the note in the store")
    finally:
        terminal.kill()
    assert terminal.process.returncode == -signal.SIGKILL

    assert trail(sqlite_review_dir, cids[0]) == [
        ("ta", "decide", "include", None, None, "terminal")
    ]
    assert trail(sqlite_review_dir, cids[1]) == [
        ("ta", "decide", "exclude", "no-rtx", None, "terminal")
    ]
    assert trail(sqlite_review_dir, cids[2]) == [("ta", "decide", "maybe", None, None, "terminal")]
    assert trail(sqlite_review_dir, cids[3]) == [
        ("ta", "note", None, None, "seen at the kill", "terminal")
    ]
    with Review.open(sqlite_review_dir) as rv:
        assert rv.screening.queue("ta", "ana") == cids[3:]
        rv.screening.decide(cids[3], stage="ta", reviewer="ana", decision="include")
    database = next(sqlite_review_dir.rglob("*.db"))
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_the_screener_needs_a_reviewer(review_dir: Path) -> None:
    result = CliRunner(env={"CASEPOOL_REVIEWER": None}).invoke(
        cli_app, ["screen", "--stage", "ta", "--review", str(review_dir)]
    )
    assert result.exit_code == 2
    assert "say who is screening: --reviewer NAME (or set CASEPOOL_REVIEWER)" in result.stderr
