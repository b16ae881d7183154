"""The one shape of progress callback that every long computation in casepool takes.

It lives in ``meta`` because ``meta`` is the bottom layer: the statistics report progress
too, and the rest of casepool may import ``meta`` but not the other way round. A front end
draws it (``review.cli.progress`` draws terminal bars); library code only calls it.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Called as work moves: ``phase`` names the step ('reading embase.ris', 'comparing
    candidate pairs'), ``done`` of ``total`` (None while unknown) counted in ``unit``
    ('records', 'bytes', 'pairs', ...)."""

    def __call__(self, phase: str, done: int, total: int | None, unit: str = "records") -> None: ...


def silent(phase: str, done: int, total: int | None, unit: str = "records") -> None:
    """A ``Progress`` that shows nothing."""
