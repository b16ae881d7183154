"""Per-study counts (events out of total), validated: the input of every pooling function."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from meta.errors import InputDataError


@dataclass(frozen=True)
class StudyCounts:
    """Events and totals per study, with labels and optional subgroup names."""

    studies: tuple[str, ...]
    events: tuple[int, ...]
    totals: tuple[int, ...]
    subgroups: tuple[str | None, ...]

    @property
    def k(self) -> int:
        return len(self.studies)

    def subset(self, keep: Sequence[int]) -> StudyCounts:
        """The studies at the positions in ``keep``, in that order."""
        return StudyCounts(
            studies=tuple(self.studies[i] for i in keep),
            events=tuple(self.events[i] for i in keep),
            totals=tuple(self.totals[i] for i in keep),
            subgroups=tuple(self.subgroups[i] for i in keep),
        )


# More patients than this is a typing error, not a study; far larger counts also overflow
# the floating-point arithmetic of every measure (1 - p rounds to 0).
MAX_TOTAL = 10**9


def _as_count(value: object, what: str, study: str) -> int:
    if isinstance(value, bool):
        raise InputDataError(f"study {study!r}: {what} must be a whole number, not {value!r}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        number = int(value)
    else:
        try:
            number = int(str(value).strip())
        except ValueError:
            raise InputDataError(
                f"study {study!r}: {what} must be a whole number, not {value!r}"
            ) from None
    if number < 0:
        raise InputDataError(f"study {study!r}: {what} must not be negative ({number})")
    return number


@dataclass(frozen=True)
class CountPlace:
    """Where one study's counts came from, so a message can point at it: a row of a table
    file (with the columns of each field, and the sheet of a workbook), or just the study's
    label."""

    study: str
    file: str | None = None
    row: int | None = None
    columns: tuple[tuple[str, str], ...] = ()
    sheet: str | None = None

    def of(self, field: str | None = None) -> str:
        """'counts.csv, row 3, column 'n'', "counts.xlsx, sheet 'Counts', row 3" (a table)
        or "study 'Smith 2019'"."""
        if self.file is None:
            return f"study {self.study!r}"
        sheet = "" if self.sheet is None else f", sheet {self.sheet!r}"
        where = f"{self.file}{sheet}, row {self.row}"
        column = dict(self.columns).get(field or "")
        return f"{where}, column {column!r}" if column else where

    def column(self, field: str) -> str:
        """ ", column 'events'" for a table, nothing otherwise."""
        name = dict(self.columns).get(field)
        return f", column {name!r}" if name and self.file is not None else ""


def make_counts(
    events: Sequence[object],
    totals: Sequence[object],
    studies: Sequence[str] | None = None,
    subgroups: Sequence[str | None] | None = None,
    places: Sequence[CountPlace] | None = None,
) -> StudyCounts:
    """Validate counts: whole, non-negative, 1 <= total <= MAX_TOTAL, events <= total, unique
    labels, at least one study. The one place these rules live: every way into ``meta``
    (a table file, the review's extraction, a notebook) comes through here; ``places`` says
    where each study's counts came from, for the messages."""
    if len(events) != len(totals):
        raise InputDataError(
            f"{len(events)} event counts but {len(totals)} totals: give one of each per study"
        )
    if len(events) == 0:
        raise InputDataError("no studies to pool: give at least one study's events and total")
    labels = (
        tuple(str(s) for s in studies)
        if studies is not None
        else tuple(f"Study {i + 1}" for i in range(len(events)))
    )
    if len(labels) != len(events):
        raise InputDataError(f"{len(labels)} study labels for {len(events)} studies")
    groups = tuple(subgroups) if subgroups is not None else (None,) * len(events)
    if len(groups) != len(events):
        raise InputDataError(f"{len(groups)} subgroup labels for {len(events)} studies")
    where = tuple(places) if places is not None else tuple(CountPlace(s) for s in labels)
    first: dict[str, CountPlace] = {}
    ev = []
    tot = []
    for label, e, n, place in zip(labels, events, totals, where, strict=True):
        if label in first and place.file is not None:
            raise InputDataError(
                f"{place.of('study')}: study {label!r} already appears in row "
                f"{first[label].row}; study labels must be unique"
            )
        first.setdefault(label, place)
        e_int = _as_count(e, "events", label)
        n_int = _as_count(n, "total", label)
        if n_int == 0:
            raise InputDataError(
                f"{place.of('total')}: total is 0; a study needs at least 1 patient"
                + (" (remove the row or correct the total)" if place.file else "")
            )
        if e_int > n_int:
            raise InputDataError(
                f"{place.of()}: events ({e_int}{place.column('events')}) exceed total "
                f"({n_int}{place.column('total')})"
            )
        if n_int > MAX_TOTAL:
            raise InputDataError(
                f"{place.of('total')}: total {n_int} is more than {MAX_TOTAL:,} patients; "
                "check the count"
            )
        ev.append(e_int)
        tot.append(n_int)
    if len(set(labels)) != len(labels):
        repeated = sorted({s for s in labels if labels.count(s) > 1})
        raise InputDataError(f"study labels must be unique; repeated: {', '.join(repeated)}")
    return StudyCounts(labels, tuple(ev), tuple(tot), groups)
