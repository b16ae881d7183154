"""Outcomes derived from case rows, and per-study counts for pooling (pure).

For each patient an outcome's rule gives yes (an event), no, or unknown (Kleene logic:
missing stays unknown, never "no"). An outcome with an ``assessed`` rule counts only the
patients it was assessed in (``assessed`` false: not assessed; unknown: unknown). A study's
count is then events out of the patients assessed with a known result; patients whose
result is unknown are counted apart, never as non-events.

A series reported only as totals has an aggregate row per outcome instead: events and the
number assessed, as the report gives them. Where a study has both, the aggregate row is
the count (it is what the report says of all its patients; its case rows may describe only
some) and the count says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from extraction.rules import parse_rule

CountSource = Literal["patients", "aggregate"]


@dataclass(frozen=True, slots=True)
class OutcomeRule:
    """An outcome's name, its rule, and (optionally) the rule saying it was assessed."""

    name: str
    rule: str
    assessed: str | None = None


@dataclass(frozen=True, slots=True)
class PatientOutcome:
    """One patient's outcome: ``assessed`` and ``event`` are True, False or None (unknown)."""

    patient: str
    assessed: bool | None
    event: bool | None


def _truth(value: Any) -> bool | None:
    return None if value is None else bool(value)


def patient_outcome(
    outcome: OutcomeRule, patient: str, values: Mapping[str, Any]
) -> PatientOutcome:
    """The outcome of one patient, from their case values (missing values as None)."""
    assessed = (
        True if outcome.assessed is None else _truth(parse_rule(outcome.assessed).evaluate(values))
    )
    event = None if assessed is not True else _truth(parse_rule(outcome.rule).evaluate(values))
    return PatientOutcome(patient, assessed, event)


@dataclass(frozen=True, slots=True)
class AggregateRow:
    """A series' totals for one outcome, as reported."""

    outcome: str
    events: int
    assessed: int


@dataclass(frozen=True, slots=True)
class StudyCount:
    """One study's count for one outcome: ``events`` of ``assessed`` patients, ``unknown``
    patients whose result cannot be told, ``not_assessed`` patients the outcome was not
    assessed in, and where the count came from. ``patients`` holds each patient's outcome
    when it came from case rows; ``note`` says when an aggregate row overrode case rows."""

    study: str
    outcome: str
    events: int
    assessed: int
    unknown: int
    not_assessed: int
    source: CountSource
    patients: tuple[PatientOutcome, ...] = ()
    note: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "study": self.study,
            "outcome": self.outcome,
            "events": self.events,
            "assessed": self.assessed,
            "unknown": self.unknown,
            "not_assessed": self.not_assessed,
            "source": self.source,
            "note": self.note,
        }


def study_count(
    study: str,
    outcome: OutcomeRule,
    cases: Sequence[tuple[str, Mapping[str, Any]]],
    aggregate: AggregateRow | None = None,
) -> StudyCount | None:
    """The study's count for the outcome (None when it has neither case rows nor an
    aggregate row for it)."""
    if aggregate is not None:
        note = (
            f"the aggregate row is used; the {len(cases)} case "
            f"{'rows describe' if len(cases) != 1 else 'row describes'} only some of the "
            "patients"
            if cases
            else None
        )
        return StudyCount(
            study, outcome.name, aggregate.events, aggregate.assessed, 0, 0, "aggregate", (), note
        )
    if not cases:
        return None
    results = tuple(patient_outcome(outcome, patient, values) for patient, values in cases)
    return StudyCount(
        study,
        outcome.name,
        events=sum(1 for r in results if r.event is True),
        assessed=sum(1 for r in results if r.event is not None),
        unknown=sum(1 for r in results if r.event is None and r.assessed is not False),
        not_assessed=sum(1 for r in results if r.assessed is False),
        source="patients",
        patients=results,
    )


def study_counts(
    outcome: OutcomeRule,
    studies: Iterable[str],
    cases: Mapping[str, Sequence[tuple[str, Mapping[str, Any]]]],
    aggregates: Mapping[tuple[str, str], AggregateRow],
) -> list[StudyCount]:
    """Every study's count for the outcome, in the order given (studies with no data for
    it are left out)."""
    out = []
    for study in studies:
        found = study_count(
            study, outcome, cases.get(study, ()), aggregates.get((study, outcome.name))
        )
        if found is not None:
            out.append(found)
    return out
