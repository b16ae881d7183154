"""The one place that draws progress: a rich bar per phase on stderr, while it is a terminal.

Library code reports through ``meta.progress.Progress``; this turns those calls into bars
(count, unit, elapsed time and time left), started at the first call, so an error before
any work prints alone, and cleared at the end, so the command's own summary line stays
the last thing on screen. Into a pipe or a log file it draws nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from meta.progress import Progress, silent


@contextmanager
def progress_bars(show: bool = True) -> Iterator[Progress]:
    """A ``Progress`` that draws bars on stderr (or nothing, when ``show`` is false or
    stderr is not a terminal)."""
    from rich.console import Console

    console = Console(stderr=True)
    if not show or not console.is_terminal:
        yield silent
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
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
            self._counts = MofNCompleteColumn()
            self._bytes = DownloadColumn()

        def render(self, task: Any) -> Any:
            unit = task.fields.get("unit", "records")
            if unit == "bytes":
                return self._bytes.render(task)
            return self._counts.render(task)

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

    def update(phase: str, done: int, total: int | None, unit: str = "records") -> None:
        if not tasks:
            bars.start()
        if phase not in tasks:
            shown = "" if unit == "bytes" else unit
            tasks[phase] = bars.add_task(phase, total=total, unit=unit, shown_unit=shown)
        bars.update(tasks[phase], completed=done, total=total)

    try:
        yield update
    finally:
        if tasks:
            bars.stop()
