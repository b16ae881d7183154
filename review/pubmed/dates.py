"""PubMed date limits and entry-date windows (pure).

``DateLimits`` is the one place the rules live: a limit is ``YYYY``, ``YYYY/MM`` or
``YYYY/MM/DD`` naming a real day, month or year; both limits or neither (E-utilities needs
both); the first not after the second; and the date they apply to (publication, entry or
modification; publication by default). The protocol, the command line and the client all
build one, so a date the protocol accepts is a date the search can run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from review.errors import SearchError

DateTypeName = Literal["pdat", "edat", "mdat"]
DATE_TYPES: tuple[DateTypeName, ...] = ("pdat", "edat", "mdat")
EARLIEST_EDAT = date(1800, 1, 1)

_DATE = re.compile(r"^(\d{4})(?:/(\d{2})(?:/(\d{2}))?)?$")


class DateLimitError(SearchError):
    """A date limit that PubMed cannot take. ``field`` names the limit ('mindate',
    'maxdate') and ``problem`` says what is wrong with ``value`` without naming it; a
    problem of both limits names them as ``{mindate}`` and ``{maxdate}``, so each front end
    can name them its own way (``render``)."""

    def __init__(self, problem: str, field: str | None = None, value: str | None = None) -> None:
        self.problem = problem
        self.field = field
        self.value = value
        super().__init__(self.render())

    def render(self, names: Mapping[str, str] | None = None) -> str:
        """The message with the limits called by ``names`` (default: their own names)."""
        names = names or {}
        mindate, maxdate = names.get("mindate", "mindate"), names.get("maxdate", "maxdate")
        if self.field:
            return f"{names.get(self.field, self.field)} {self.value!r} {self.problem}"
        return self.problem.format(mindate=mindate, maxdate=maxdate)


def limit_day(value: str, *, end: bool, field: str = "date") -> date:
    """A PubMed date limit as a day: its first day, or with ``end`` its last."""
    match = _DATE.match(value)
    if match is None:
        raise DateLimitError("is not a PubMed date; use YYYY, YYYY/MM or YYYY/MM/DD", field, value)
    year, month, day = (int(g) if g else None for g in match.groups())
    assert year is not None
    try:
        if day is not None and month is not None:
            return date(year, month, day)
        if month is not None:
            first = date(year, month, 1)
            return (first + timedelta(days=32)).replace(day=1) - timedelta(days=1) if end else first
        return date(year, 12, 31) if end else date(year, 1, 1)
    except ValueError:
        raise DateLimitError(
            "is not a calendar date; check the month and day", field, value
        ) from None


@dataclass(frozen=True)
class DateLimits:
    """Validated date limits of a search; no limits at all when both dates are None."""

    mindate: str | None = None
    maxdate: str | None = None
    datetype: DateTypeName | None = None

    def __post_init__(self) -> None:
        first = limit_day(self.mindate, end=False, field="mindate") if self.mindate else None
        last = limit_day(self.maxdate, end=True, field="maxdate") if self.maxdate else None
        if (first is None) != (last is None):
            raise DateLimitError(
                "give both {mindate} and {maxdate}, or neither (E-utilities needs both)"
            )
        if first is not None and last is not None and first > last:
            raise DateLimitError(f"{{mindate}} {self.mindate} is after {{maxdate}} {self.maxdate}")
        if self.datetype is not None and self.datetype not in DATE_TYPES:
            raise DateLimitError(
                f"datetype {self.datetype!r} is not one of {', '.join(DATE_TYPES)}"
            )
        if first is None:
            object.__setattr__(self, "datetype", None)
        elif self.datetype is None:
            object.__setattr__(self, "datetype", "pdat")

    @property
    def limited(self) -> bool:
        """True when the search is limited by dates."""
        return self.mindate is not None

    def params(self) -> list[tuple[str, str]]:
        """ESearch's date-limit parameters (none without limits)."""
        if self.mindate is None or self.maxdate is None:
            return []
        return [
            ("datetype", self.datetype or "pdat"),
            ("mindate", self.mindate),
            ("maxdate", self.maxdate),
        ]

    def edat_range(self, today: date) -> tuple[date, date]:
        """The entry dates to split a large result over: the limits if they are entry dates,
        else every entry date up to ``today``."""
        if self.mindate and self.maxdate and self.datetype == "edat":
            return (
                limit_day(self.mindate, end=False),
                min(limit_day(self.maxdate, end=True), today),
            )
        return EARLIEST_EDAT, today


@dataclass(frozen=True)
class DateWindow:
    """An inclusive range of entry dates ([EDAT]) searched on its own, with its hit count."""

    mindate: date
    maxdate: date
    count: int = 0

    def term(self, query: str) -> str:
        """``query`` restricted to this window of entry dates."""
        return f'({query}) AND ("{self.mindate:%Y/%m/%d}"[EDAT] : "{self.maxdate:%Y/%m/%d}"[EDAT])'


def split_window(lo: date, hi: date, parts: int) -> list[DateWindow]:
    """``[lo, hi]`` cut into ``parts`` non-overlapping, contiguous windows of whole days."""
    days = (hi - lo).days + 1
    parts = max(1, min(parts, days))
    bounds = [lo + timedelta(days=(days * i) // parts) for i in range(parts + 1)]
    return [DateWindow(bounds[i], bounds[i + 1] - timedelta(days=1)) for i in range(parts)]
