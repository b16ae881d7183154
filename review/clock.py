"""The clock: the one place casepool reads the time. The store and the pure core are given
times as values (ISO 8601 UTC text); a test or a replay can pass its own clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], str]
"""A function returning the current time as ISO 8601 UTC text, seconds precision."""


def utc_now() -> str:
    """The current time as an ISO 8601 UTC timestamp (``2026-12-01T22:06:36Z``)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
