"""A reviewer's records as a spreadsheet and back, on the store: ``export_sheet`` writes
the records to screen (decisions in force pre-filled, most relevant first if asked);
``import_sheet`` records the filled sheet's changed rows in one transaction, or nothing.

The sheet's format and checks are pure, in ``review.screening.sheet``; the rules a
decision obeys are ``workflow.decide``'s, so a sheet can record nothing the screener would
refuse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from review.errors import ScreeningError, SheetError
from review.screening.events import STAGE_NAMES, Decision, Paper, ScreeningEvent, Stage, check_name
from review.screening.state import ClusterState
from review.screening.workflow import (
    Settings,
    Snapshot,
    checked_note,
    read_snapshot,
    why_not_advanced,
    why_not_assigned,
    why_not_retrieved,
)
from review.store import Store
from review.store import screening as sql
from review.wording import count


@dataclass(frozen=True)
class SheetExport:
    """What ``export_sheet`` wrote: how many records, how many already decided, and whether
    they are the reviewer's assigned records (else every record to screen at the stage)."""

    path: Path
    format: str
    stage: Stage
    reviewer: str
    n_records: int
    n_decided: int
    assigned: bool
    notes: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        which = "assigned record" if self.assigned else "record"
        return (
            f"Wrote {count(self.n_records, which)} for {self.reviewer} to screen at "
            f"{STAGE_NAMES[self.stage]} to {self.path} ({self.n_decided:,} already decided)"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "format": self.format,
            "stage": self.stage,
            "reviewer": self.reviewer,
            "records": self.n_records,
            "decided": self.n_decided,
            "assigned": self.assigned,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class SheetImport:
    """What ``import_sheet`` recorded (one event per changed row) and left as it was."""

    path: Path
    stage: Stage
    reviewer: str
    recorded: tuple[ScreeningEvent, ...]
    unchanged: int
    blank: int
    cleared: tuple[tuple[int, int], ...]
    notes: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        return (
            f"Recorded {count(len(self.recorded), 'decision')} from {self.path.name} "
            f"({self.reviewer}, {STAGE_NAMES[self.stage]}); {self.unchanged:,} unchanged, "
            f"{self.blank:,} left blank"
        )

    @property
    def warnings(self) -> tuple[str, ...]:
        """An emptied decision cell takes nothing back: say so, and how to."""
        return tuple(
            f"row {row}: the decision on cluster {cluster} was emptied, but "
            f"{self.reviewer}'s decision stays in force; to take it back: 'casepool screen "
            f"reset {cluster} --stage {self.stage} --reviewer {self.reviewer}'"
            for row, cluster in self.cleared
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "stage": self.stage,
            "reviewer": self.reviewer,
            "recorded": len(self.recorded),
            "unchanged": self.unchanged,
            "blank": self.blank,
            "cleared": [{"row": r, "cluster": c} for r, c in self.cleared],
            "events": [e.as_dict() for e in self.recorded],
            "notes": list(self.notes),
            "warnings": list(self.warnings),
        }


def _in_force(state: ClusterState, reviewer: str) -> tuple[Decision, str | None, str | None] | None:
    """A reviewer's decision in force on a cluster (None when they have none, or their
    decisions on papers now merged disagree)."""
    latest = state.latest_of(reviewer)
    if latest is None or state.split(reviewer):
        return None
    return latest.decision, latest.reason, latest.note


def _sheet_clusters(
    view: Snapshot, stage: Stage, reviewer: str, has_assignments: bool
) -> tuple[list[int], list[str]]:
    eligible = view.eligible(stage)
    notes = []
    if has_assignments:
        assigned = view.assigned[stage]
        chosen = [c for c in eligible if reviewer in assigned.get(c, ())]
        if not chosen:
            people = sorted({p for names in assigned.values() for p in names})
            raise ScreeningError(
                f"no records are assigned to {reviewer} at {STAGE_NAMES[stage]}, so there is "
                f"nothing for them to screen there; the stage's records are assigned to "
                f"{', '.join(people) or 'no one now'}"
            )
    else:
        chosen = eligible
        notes.append(
            f"no records are assigned at {STAGE_NAMES[stage]}, so the sheet holds every "
            "record to screen there"
        )
    if stage == "ft":
        kept = [c for c in chosen if _sheet_refusal(view, stage, reviewer, c, False) is None]
        if len(kept) < len(chosen):
            gone = len(chosen) - len(kept)
            notes.append(f"{count(gone, 'record')} left out: full text marked not retrieved")
        chosen = kept
    if not chosen:
        raise ScreeningError(f"there are no records to screen at {STAGE_NAMES[stage]} yet")
    return chosen, notes


def _sheet_refusal(
    view: Snapshot, stage: Stage, reviewer: str, cluster: int, has_assignments: bool
) -> str | None:
    """Why a reviewer may not decide a cluster (as ``decide`` would refuse it), or None."""
    if stage == "ft":
        if "ta" in view.settings.stages:
            ta = view.states["ta"].get(cluster)
            if ta is None or ta.outcome(view.settings.advance) != "advanced":
                return why_not_advanced(view.settings, cluster)
        got = view.retrieval.get(cluster)
        if got is not None and got.state == "not_retrieved":
            return why_not_retrieved(cluster, got)
    if has_assignments:
        mine = view.assigned[stage].get(cluster, ())
        if reviewer not in mine:
            return why_not_assigned(stage, cluster, reviewer, mine)
    return None


def export_sheet(
    store: Store,
    settings: Settings,
    *,
    stage: Stage,
    reviewer: str,
    path: Path,
    order: Literal["default", "relevance"] = "default",
) -> SheetExport:
    """Write a reviewer's records at a stage to an XLSX or CSV sheet to screen in a
    spreadsheet (see ``review.screening.sheet``): the records assigned to them, or, when
    the stage has no assignments, every record to screen there; their decisions in force
    pre-filled. With ``order="relevance"`` the records still to screen come first, most
    relevant first, with a relevance column. The file appears whole or not at all."""
    from review.replacing import write_whole
    from review.screening.sheet import SheetRow, sheet_format, write_sheet
    from review.sources.exporting import ExportPlan, export_rows

    settings.check_stage(stage)
    reviewer = check_name(reviewer)
    if path.is_dir():
        raise ScreeningError(
            f"{path}: is a folder; give a file name, e.g. {path / f'{reviewer}-{stage}.xlsx'}"
        )
    fmt = sheet_format(path.name)
    scores: Mapping[int, float] | None = None
    if order == "relevance":
        from review.screening.relevance import make_ranker, rank, training_set

        training = training_set(store, settings, stage=stage, reviewer=reviewer)
        ranked = rank(training, make_ranker(training))
        scores, first = ranked.scores, ranked.clusters
    with store.read() as tx:
        view = read_snapshot(tx, settings)
        assigned = sql.has_assignments(tx, stage)
        clusters, notes = _sheet_clusters(view, stage, reviewer, assigned)
        if scores is not None:
            chosen = set(clusters)
            ahead = [c for c in first if c in chosen]
            placed = set(ahead)
            clusters = [*ahead, *(c for c in clusters if c not in placed)]
            if not ranked.ranked and ranked.why_unranked:
                notes.append(ranked.why_unranked)
        groups = view.membership.groups()
        primary = view.membership.primary_of
        plan = ExportPlan(
            tuple((c, (primary[c], *(r for r in groups[c] if r != primary[c]))) for c in clusters),
            include_all=False,
        )
        states = view.visible(stage, reviewer)
        rows = []
        for row in export_rows(tx, plan, view.membership):
            own = _in_force(states[row.cluster_id], reviewer)
            score = None if scores is None else scores.get(row.cluster_id)
            decision, reason, note = own if own is not None else (None, None, None)
            rows.append(SheetRow(row.cluster_id, row.record, decision, reason, note, score))
    data = write_sheet(
        rows,
        fmt,
        reviewer=reviewer,
        stage=stage,
        reasons=settings.reasons[stage],
        relevance=scores is not None,
    )
    write_whole(path, data)
    decided = sum(1 for r in rows if r.decision is not None)
    return SheetExport(path, fmt, stage, reviewer, len(rows), decided, assigned, tuple(notes))


def import_sheet(
    store: Store,
    settings: Settings,
    *,
    path: Path,
    reviewer: str,
    at: str,
    recorded_by: str | None = None,
) -> SheetImport:
    """Record a reviewer's decisions from a filled sheet, all in one transaction, once every
    row is checked; any problem refuses the whole sheet (``SheetError`` lists them all) and
    nothing is written. A row equal to the reviewer's decision in force changes nothing, so
    importing the same sheet twice records nothing the second time; a changed row is a new
    decision superseding the earlier one (via ``spreadsheet``, its source the file and row).
    An emptied decision cell takes nothing back (``SheetImport.warnings`` says so)."""
    from review.screening.sheet import Rules, check_sheet, read_sheet, sheet_stage

    reviewer = check_name(reviewer)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SheetError(f"{path}: no such file") from None
    except OSError as exc:
        raise SheetError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    sheet = read_sheet(data, path.name)
    stage = sheet_stage(sheet)
    settings.check_stage(stage)
    with store.transaction() as tx:
        view = read_snapshot(tx, settings)
        assigned = sql.has_assignments(tx, stage)
        states = view.visible(stage, reviewer)
        rules = Rules(
            membership=view.membership,
            reason=lambda code, decision: settings.reason(stage, code, decision),
            note=checked_note,
            refusal=lambda c: _sheet_refusal(view, stage, reviewer, c, assigned),
            current=lambda c: _in_force(states[c], reviewer),
            reason_codes=tuple(r.code for r in settings.reasons[stage]),
        )
        plan = check_sheet(sheet, reviewer=reviewer, stage=stage, rules=rules)
        groups = view.membership.groups()
        primary = view.membership.primary_of
        events = [
            ScreeningEvent(
                id=0,
                stage=stage,
                kind="decide",
                paper=Paper(d.cluster_id, primary[d.cluster_id], tuple(groups[d.cluster_id])),
                person=reviewer,
                at=at,
                decision=d.decision,
                reason=d.reason,
                note=d.note,
                via="spreadsheet",
                recorded_by=recorded_by,
                source=f"{path.name} row {d.row}",
            )
            for d in plan.decisions
        ]
        ids = sql.add_events(tx, events)
    recorded = tuple(replace(e, id=i) for e, i in zip(events, ids, strict=True))
    return SheetImport(
        path, stage, reviewer, recorded, plan.unchanged, plan.blank, plan.cleared, plan.notes
    )
