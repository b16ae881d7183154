"""Progress bars: drawn once work lasts, whatever the input's size; bytes shown as MB."""

from __future__ import annotations

import io
import time

from rich.console import Console

from review.cli.progress import progress_bars


def _terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=100), out


def test_quick_work_draws_no_bars() -> None:
    console, out = _terminal()
    with progress_bars(console=console, delay=5) as progress:
        progress("reading x.ris", 0, 1000, "bytes")
        progress("reading x.ris", 1000, 1000, "bytes")
    assert out.getvalue() == ""


def test_work_that_lasts_draws_bars_even_when_no_call_comes() -> None:
    console, out = _terminal()
    with progress_bars(console=console, delay=0.05) as progress:
        progress("compressing out.xlsx", 0, None, "steps")
        time.sleep(0.5)  # a long step that reports nothing until it ends
    assert "compressing out.xlsx" in out.getvalue()


def test_bytes_are_drawn_as_megabytes_and_records_as_counts() -> None:
    console, out = _terminal()
    with progress_bars(console=console, delay=0) as progress:
        progress("reading big.xml.gz", 8_400_000, 16_700_000, "bytes")
        progress("writing", 12_000, 30_000)
        console.print()
    text = out.getvalue()
    assert "8.4/16.7 MB" in text
    assert "12,000/30,000" in text and "records" in text


def test_nothing_is_drawn_into_a_pipe() -> None:
    out = io.StringIO()
    with progress_bars(console=Console(file=out, force_terminal=False), delay=0) as progress:
        progress("writing", 1, 2)
    assert out.getvalue() == ""
