"""The one place that draws progress: a rich bar per phase on stderr, while it is a terminal.

Library code reports through ``meta.progress.Progress``; this turns those calls into bars
(count, unit, elapsed time and time left). The bars appear once the work has run for
``DELAY`` seconds, whatever the size of the input, so a quick command prints only its
summary and an error before any work prints alone; they are cleared at the end, so the
command's own summary line stays the last thing on screen. Into a pipe or a log file it
draws nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from meta.progress import Progress, silent

DELAY = 0.5
"""Seconds of work before the bars appear."""


@contextmanager
def progress_bars(
    show: bool = True, *, console: Any = None, delay: float = DELAY, drop_done: bool = False
) -> Iterator[Progress]:
    """A ``Progress`` that draws bars on stderr (or nothing, when ``show`` is false or
    stderr is not a terminal) once ``delay`` seconds have passed since its first call;
    with ``drop_done`` a finished phase's bar goes (for a run of many stages)."""
    from rich.console import Console

    console = console or Console(stderr=True)
    if not show or not console.is_terminal:
        yield silent
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.progress import (
        Progress as Bars,
    )

    class _Count(ProgressColumn):
        """'1,200/30,000 records', or bytes as MB for a file read in bytes."""

        def __init__(self) -> None:
            super().__init__()
            self._bytes = DownloadColumn()

        def render(self, task: Any) -> Any:
            from rich.text import Text

            unit = task.fields.get("unit", "records")
            if task.total is None and not task.completed:
                return Text("")  # a step that cannot count: the bar pulses, the time runs
            if unit == "bytes":
                return self._bytes.render(task)
            done = int(task.completed)
            if task.total is None:
                return Text(f"{done:,}/?", style="progress.download")
            total = f"{int(task.total):,}"
            return Text(f"{done:>{len(total)},}/{total}", style="progress.download")

    bars = Bars(
        TextColumn("{task.description}"),
        BarColumn(),
        _Count(),
        TextColumn("{task.fields[shown_unit]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    tasks: dict[str, Any] = {}
    state = {"drawing": False, "done": False}
    lock = threading.Lock()
    timer: list[threading.Timer] = []

    def begin() -> None:
        with lock:
            if not state["done"] and not state["drawing"]:
                state["drawing"] = True
                bars.start()

    def update(phase: str, done: int, total: int | None, unit: str = "records") -> None:
        if phase not in tasks:
            shown = "" if unit in ("bytes", "steps") else unit
            tasks[phase] = bars.add_task(phase, total=total, unit=unit, shown_unit=shown)
        bars.update(tasks[phase], completed=done, total=total)
        if drop_done and total is not None and done >= total:
            bars.remove_task(tasks.pop(phase))
        if not timer:  # the first call: draw once the work has lasted ``delay`` seconds
            timer.append(threading.Timer(delay, begin))
            timer[0].daemon = True
            if delay > 0:
                timer[0].start()
            else:
                begin()

    try:
        yield update
    finally:
        with lock:
            state["done"] = True
            if timer:
                timer[0].cancel()
            if state["drawing"]:
                bars.stop()
