"""A review's screening decisions as a CSV (the bundled example's
``NAME.screening.csv``): read into steps (pure), then applied in order through the
screening API, skipping every step the store already holds.

Columns: ``stage`` (``ta`` or ``ft``), ``doi`` (the record), ``record`` (a label for
people, not read), ``person``, ``action`` (``decide``, ``unblind``, ``resolve``,
``retrieved``), ``decision``, ``reason`` and ``note``. Rows are applied top to bottom, so
a stage's decisions come before its ``unblind`` and its resolutions after it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

from review.errors import ScreeningError

if TYPE_CHECKING:
    from review.api import Review
    from review.screening.events import Decision, Stage

Action = Literal["decide", "unblind", "resolve", "retrieved"]
COLUMNS = ("stage", "doi", "record", "person", "action", "decision", "reason", "note")
ACTIONS: tuple[Action, ...] = ("decide", "unblind", "resolve", "retrieved")


@dataclass(frozen=True)
class Step:
    """One row of the file: an action on a record (none for ``unblind``) at a stage."""

    line: int
    stage: Stage
    action: Action
    person: str
    doi: str | None
    decision: Decision | None
    reason: str | None
    note: str | None


@dataclass(frozen=True)
class Applied:
    """What applying the file did: steps recorded now, and steps already in the store."""

    recorded: int
    already: int
    conflicts: dict[str, int]
    """Conflicts found at each stage when it was unblinded (by stage)."""


def read_steps(path: Path) -> list[Step]:
    """The steps of a screening CSV; a bad row is an error naming the file and line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScreeningError(f"{path}: cannot be read as UTF-8 text ({exc})") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ScreeningError(f"{path}, line 1: missing columns {', '.join(missing)}")
    return [_step(path, n, row) for n, row in enumerate(reader, start=2)]


def _step(path: Path, line: int, row: dict[str, str]) -> Step:
    def cell(name: str) -> str | None:
        value = (row.get(name) or "").strip()
        return value or None

    where = f"{path}, line {line}"
    stage, action, person = cell("stage"), cell("action"), cell("person")
    if stage not in ("ta", "ft"):
        raise ScreeningError(f"{where}: stage {stage!r} is not ta or ft")
    if action not in ACTIONS:
        raise ScreeningError(f"{where}: action {action!r} is not one of {', '.join(ACTIONS)}")
    if person is None:
        raise ScreeningError(f"{where}: no person")
    doi, decision = cell("doi"), cell("decision")
    if action != "unblind" and doi is None:
        raise ScreeningError(f"{where}: {action} needs the record's doi")
    if action in ("decide", "resolve") and decision not in ("include", "exclude", "maybe"):
        raise ScreeningError(f"{where}: decision {decision!r} is not include, exclude or maybe")
    return Step(
        line,
        cast("Stage", stage),
        cast(Action, action),
        person,
        doi.lower() if doi else None,
        cast("Decision | None", decision),
        cell("reason"),
        cell("note"),
    )


def apply_steps(review: Review, steps: list[Step], path: Path) -> Applied:
    """Record each step the store does not hold yet, in the file's order (a decision, a
    resolution or a retrieval already in force, an unblinded stage, is left alone)."""
    from review.screening.workflow import snapshot

    screening = review.screening
    clusters = clusters_by_doi(review)
    recorded = already = 0
    conflicts: dict[str, int] = {}
    for step in steps:
        view = snapshot(review.store, screening.settings)
        cluster = None
        if step.doi is not None:
            cluster = clusters.get(step.doi)
            if cluster is None:
                raise ScreeningError(
                    f"{path}, line {step.line}: no record of the review has DOI {step.doi}"
                )
        try:
            done = _apply(review, step, cluster, view, conflicts)
        except ScreeningError as exc:
            raise ScreeningError(f"{path}, line {step.line}: {exc}") from None
        recorded += done
        already += not done
    return Applied(recorded, already, conflicts)


def _apply(
    review: Review, step: Step, cluster: int | None, view: object, conflicts: dict[str, int]
) -> bool:
    from review.screening.workflow import Snapshot

    assert isinstance(view, Snapshot)
    screening = review.screening
    if step.action == "unblind":
        if not view.blind[step.stage]:
            return False
        screening.unblind(step.stage, by=step.person)
        conflicts[step.stage] = len(screening.conflicts(step.stage))
        return True
    assert cluster is not None
    if step.action == "retrieved":
        got = view.retrieval.get(cluster)
        if got is not None and got.state == "retrieved":
            return False
        screening.retrieved(cluster)
        return True
    state = view.states[step.stage].get(cluster)
    assert step.decision is not None
    if step.action == "decide":
        vote = state.latest_of(step.person) if state is not None else None
        if vote is not None and (vote.decision, vote.reason) == (step.decision, step.reason):
            return False
        screening.decide(
            cluster,
            stage=step.stage,
            reviewer=step.person,
            decision=step.decision,
            reason=step.reason,
            note=step.note,
            via="spreadsheet",
        )
        return True
    resolution = state.resolutions[-1] if state is not None and state.resolutions else None
    if resolution is not None and (resolution.decision, resolution.reason) == (
        step.decision,
        step.reason,
    ):
        return False
    screening.resolve(
        cluster,
        stage=step.stage,
        decision=step.decision,
        by=step.person,
        reason=step.reason,
        why=step.note,
    )
    return True


def clusters_by_doi(review: Review) -> dict[str, int]:
    """Each DOI of the review (lower case) and the cluster of its record."""
    found: dict[str, int] = {}
    for cluster in sorted(review.clusters().groups()):
        doi = review.cluster(cluster).doi
        if doi:
            found.setdefault(doi.lower(), cluster)
    return found
