"""What the standing extraction values say for analysis (reads the store, no writes): each
study's values as the outcome rules see them, per-study counts of an outcome (from case
rows, or the aggregate row of a series reported in totals), and the patient rows of a
one-stage model. Missing stays missing: a cell pending or in conflict is not a value."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from extraction.derive import AggregateRow, OutcomeRule, StudyCount, study_counts
from extraction.values import Value, typed
from review.errors import ExtractError
from review.extract.events import FormName, Study
from review.extract.state import replay
from review.extract.workflow import forms_of
from review.protocol.model import Protocol
from review.store import Store
from review.store import extraction as sql


@dataclass(frozen=True)
class StudyValues:
    """The values that stand for one study: its study form, its patients and its
    aggregate rows (field -> value as rules see it)."""

    study: Study
    fields: Mapping[str, Any]
    cases: Mapping[str, Mapping[str, Any]]
    aggregates: Mapping[str, Mapping[str, Any]]


def standing_values(store: Store, protocol: Protocol) -> list[StudyValues]:
    """What analysis uses: for each study, the values that stand (agreed or resolved in
    dual extraction), typed for the rules; cells pending or in conflict are missing."""
    forms = forms_of(protocol)
    fields = {name: {f.name: f for f in form.fields} for name, form in forms.items()}
    with store.read() as tx:
        known = sql.studies(tx)
        states = replay(sql.events(tx), required=protocol.extraction.extractors)
    grouped: dict[int, dict[FormName, dict[str, dict[str, Any]]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    for (study_id, form, row, name), state in states.items():
        standing = state.standing
        rows = grouped[study_id][form]
        rows.setdefault(row, {})
        if standing is None or name not in fields[form]:
            continue
        value = Value(name, "value", standing.value) if standing.status == "value" else None
        rows[row][name] = typed(fields[form][name], value)
    out = []
    for study in known:
        forms_rows = grouped.get(study.id, {})
        out.append(
            StudyValues(
                study,
                forms_rows.get("study", {}).get("", {}),
                dict(sorted(forms_rows.get("case", {}).items())),
                dict(forms_rows.get("aggregate", {})),
            )
        )
    return out


def counts(store: Store, protocol: Protocol, outcome: str) -> list[StudyCount]:
    """Each study's count for ``outcome``: events and patients assessed, derived from its
    case rows, or its aggregate row when it has one."""
    return counts_of(protocol, standing_values(store, protocol), outcome)


def counts_of(protocol: Protocol, every: Sequence[StudyValues], outcome: str) -> list[StudyCount]:
    """``counts`` from values already read (one read for every outcome)."""
    spec = protocol.outcome(outcome)
    rule = OutcomeRule(spec.name, spec.rule, spec.assessed)
    labels = [v.study.label for v in every]
    cases = {v.study.label: list(v.cases.items()) for v in every}
    aggregates: dict[tuple[str, str], AggregateRow] = {}
    for v in every:
        row = v.aggregates.get(outcome)
        if row and row.get("events") is not None and row.get("assessed") is not None:
            aggregates[(v.study.label, outcome)] = AggregateRow(
                outcome, int(row["events"]), int(row["assessed"])
            )
    return study_counts(rule, labels, cases, aggregates)


@dataclass(frozen=True)
class PatientRows:
    """The case rows usable for a one-stage model of an outcome: each patient's outcome
    (0/1), study and covariates, and how many rows were left out and why."""

    outcome: tuple[int, ...]
    study: tuple[str, ...]
    covariates: Mapping[str, tuple[float, ...]]
    unknown_outcome: int
    missing_covariate: int
    aggregate_only: tuple[str, ...]


def patient_rows(
    store: Store, protocol: Protocol, outcome: str, covariates: Sequence[str] = ()
) -> PatientRows:
    """Each patient with a known outcome and every covariate known (numbers as they are,
    yes/no as 1/0); studies with an aggregate row only are named apart."""
    from extraction.derive import patient_outcome

    spec = protocol.outcome(outcome)
    rule = OutcomeRule(spec.name, spec.rule, spec.assessed)
    fields = {f.name: f for f in protocol.extraction.forms.case.fields}
    for name in covariates:
        if name not in fields:
            raise ExtractError(f"the case form has no field {name!r} to use as a covariate")
        if fields[name].type not in ("integer", "number", "yes-no-unknown"):
            raise ExtractError(
                f"covariate {name!r} is a {fields[name].type} field; a covariate is a number "
                "or yes/no"
            )
    ys: list[int] = []
    studies_of: list[str] = []
    xs: dict[str, list[float]] = {name: [] for name in covariates}
    unknown = missing = 0
    aggregate_only = []
    for values in standing_values(store, protocol):
        if not values.cases:
            if outcome in values.aggregates:
                aggregate_only.append(values.study.label)
            continue
        for patient, row in values.cases.items():
            result = patient_outcome(rule, patient, row)
            if result.event is None:
                unknown += 1
                continue
            numbers = [_covariate(row.get(name)) for name in covariates]
            if any(n is None for n in numbers):
                missing += 1
                continue
            ys.append(int(result.event))
            studies_of.append(values.study.label)
            for name, number in zip(covariates, numbers, strict=True):
                assert number is not None
                xs[name].append(number)
    return PatientRows(
        tuple(ys),
        tuple(studies_of),
        {name: tuple(v) for name, v in xs.items()},
        unknown,
        missing,
        tuple(aggregate_only),
    )


def _covariate(value: Any) -> float | None:
    if value is None or value == "unknown":
        return None
    if value in ("yes", "no"):
        return 1.0 if value == "yes" else 0.0
    return float(value)
