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


def make_counts(
    events: Sequence[object],
    totals: Sequence[object],
    studies: Sequence[str] | None = None,
    subgroups: Sequence[str | None] | None = None,
) -> StudyCounts:
    """Validate counts: whole, non-negative, 1 <= total <= MAX_TOTAL, events <= total, at least
    one study."""
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
    if len(set(labels)) != len(labels):
        repeated = sorted({s for s in labels if labels.count(s) > 1})
        raise InputDataError(f"study labels must be unique; repeated: {', '.join(repeated)}")
    groups = tuple(subgroups) if subgroups is not None else (None,) * len(events)
    if len(groups) != len(events):
        raise InputDataError(f"{len(groups)} subgroup labels for {len(events)} studies")
    ev = []
    tot = []
    for label, e, n in zip(labels, events, totals, strict=True):
        e_int = _as_count(e, "events", label)
        n_int = _as_count(n, "total", label)
        if n_int == 0:
            raise InputDataError(f"study {label!r}: total is 0; a study needs at least 1 patient")
        if e_int > n_int:
            raise InputDataError(f"study {label!r}: events ({e_int}) exceed total ({n_int})")
        if n_int > MAX_TOTAL:
            raise InputDataError(
                f"study {label!r}: total {n_int} is more than {MAX_TOTAL:,} patients; "
                "check the count"
            )
        ev.append(e_int)
        tot.append(n_int)
    return StudyCounts(labels, tuple(ev), tuple(tot), groups)
