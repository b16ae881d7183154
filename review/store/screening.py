"""Screening's tables: decision events, a stage's blinding, work allocation, full-text
retrieval and the links of reports to studies. Rows are appended, never updated or
deleted; what they mean today is worked out by ``review.screening.state``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import func, insert, select, text

from review.screening.events import (
    BlindEvent,
    LinkEvent,
    Paper,
    RetrievalEvent,
    ScreeningEvent,
    Stage,
)
from review.store.engine import Tx
from review.store.records import chunks
from review.store.schema import (
    fulltext_events,
    screening_assignments,
    screening_blinding,
    screening_events,
    study_links,
)


def _paper(row: Any, prefix: str = "") -> Paper:
    return Paper(
        int(getattr(row, f"{prefix}cluster_id")),
        int(getattr(row, f"{prefix}record_id")),
        tuple(int(m) for m in json.loads(getattr(row, f"{prefix}members"))),
    )


def _paper_values(paper: Paper, prefix: str = "") -> dict[str, Any]:
    return {
        f"{prefix}cluster_id": paper.cluster_id,
        f"{prefix}record_id": paper.record_id,
        f"{prefix}members": json.dumps(list(paper.members)),
    }


# --- decisions --------------------------------------------------------------------------


def add_events(tx: Tx, events: Sequence[ScreeningEvent]) -> list[int]:
    """Append screening events (their ``id`` is ignored); return the ids given, in order.
    Many events go in one batched statement (a spreadsheet's rows in one round trip)."""
    rows = [
        {
            "stage": event.stage,
            "kind": event.kind,
            **_paper_values(event.paper),
            "person": event.person,
            "decision": event.decision,
            "reason": event.reason,
            "note": event.note,
            "decided_at": event.at,
            "via": event.via,
            "recorded_by": event.recorded_by,
            "source": event.source,
        }
        for event in events
    ]
    if not rows:
        return []
    statement = insert(screening_events).returning(
        screening_events.c.id, sort_by_parameter_order=True
    )
    return [int(row.id) for row in tx.connection.execute(statement, rows)]


def lock_decisions(tx: Tx, stage: Stage, person: str) -> None:
    """Hold, until the transaction ends, the right to add ``person``'s decisions at
    ``stage``: a check-then-write on them is then atomic. SQLite's write transaction
    (BEGIN IMMEDIATE) already serialises writers; PostgreSQL takes an advisory lock."""
    if tx.dialect == "postgresql":
        tx.connection.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
            {"key": f"casepool-decide:{stage}:{person}"},
        )


def _event(r: Any) -> ScreeningEvent:
    return ScreeningEvent(
        id=int(r.id),
        stage=r.stage,
        kind=r.kind,
        paper=_paper(r),
        person=r.person,
        at=r.decided_at,
        decision=r.decision,
        reason=r.reason,
        note=r.note,
        via=r.via,
        recorded_by=r.recorded_by,
        source=r.source,
    )


def events(
    tx: Tx, stage: Stage | None = None, *, records: Sequence[int] | None = None
) -> list[ScreeningEvent]:
    """Every screening event (of one stage; on the given records shown), oldest first."""
    query = select(screening_events).order_by(screening_events.c.id)
    if stage is not None:
        query = query.where(screening_events.c.stage == stage)
    if records is not None:
        found: list[ScreeningEvent] = []
        for part in chunks(sorted(set(records))):
            found.extend(
                _event(r)
                for r in tx.connection.execute(query.where(screening_events.c.record_id.in_(part)))
            )
        return sorted(found, key=lambda e: e.id)
    return [_event(r) for r in tx.connection.execute(query)]


def events_of(tx: Tx, stage: Stage, person: str) -> Iterator[ScreeningEvent]:
    """A person's decisions and resets at a stage, newest first, read as they are used."""
    query = (
        select(screening_events)
        .where(
            screening_events.c.stage == stage,
            screening_events.c.person == person,
            screening_events.c.kind.in_(("decide", "reset")),
        )
        .order_by(screening_events.c.id.desc())
    )
    for row in tx.connection.execute(query):
        yield _event(row)


def count_events(tx: Tx) -> int:
    return int(
        tx.connection.execute(select(func.count()).select_from(screening_events)).scalar_one()
    )


# --- blinding ---------------------------------------------------------------------------


def add_blinding(tx: Tx, stage: Stage, kind: str, *, at: str, by: str) -> None:
    tx.connection.execute(insert(screening_blinding).values(stage=stage, kind=kind, at=at, by=by))


def blinding(tx: Tx) -> list[BlindEvent]:
    """Every unblinding (and re-blinding), oldest first."""
    query = select(screening_blinding).order_by(screening_blinding.c.id)
    return [
        BlindEvent(int(r.id), r.stage, r.kind, r.at, r.by) for r in tx.connection.execute(query)
    ]


# --- allocation -------------------------------------------------------------------------


def add_assignments(
    tx: Tx,
    stage: Stage,
    assigned: Iterable[tuple[Paper, Sequence[str]]],
    *,
    seed: int,
    at: str,
    by: str | None,
) -> int:
    """Store one allocation (a batch); return its number."""
    batch = (
        int(
            tx.connection.execute(
                select(func.coalesce(func.max(screening_assignments.c.batch), 0))
            ).scalar_one()
        )
        + 1
    )
    rows = [
        {
            "stage": stage,
            "batch": batch,
            "cluster_id": paper.cluster_id,
            "record_id": paper.record_id,
            "reviewer": person,
            "seed": seed,
            "assigned_at": at,
            "assigned_by": by,
        }
        for paper, people in assigned
        for person in people
    ]
    if rows:
        tx.connection.execute(insert(screening_assignments), rows)
    return batch


def assignments(
    tx: Tx, stage: Stage, *, records: Sequence[int] | None = None
) -> list[tuple[int, int, str]]:
    """(cluster id then, record, reviewer) of every assignment at ``stage`` (of the given
    records), oldest first."""
    columns = screening_assignments.c
    query = (
        select(columns.id, columns.cluster_id, columns.record_id, columns.reviewer)
        .where(columns.stage == stage)
        .order_by(columns.id)
    )
    parts = [None] if records is None else list(chunks(sorted(set(records))))
    rows: list[Any] = []
    for part in parts:
        chosen = query if part is None else query.where(columns.record_id.in_(part))
        rows.extend(tx.connection.execute(chosen))
    rows.sort(key=lambda r: r[0])
    return [(int(c), int(r), str(p)) for _, c, r, p in rows]


def has_assignments(tx: Tx, stage: Stage) -> bool:
    """True once any record is assigned at ``stage``."""
    query = select(screening_assignments.c.id).where(screening_assignments.c.stage == stage)
    return tx.connection.execute(query.limit(1)).first() is not None


# --- full texts and studies -------------------------------------------------------------


def add_retrieval(
    tx: Tx,
    kind: str,
    paper: Paper,
    *,
    at: str,
    by: str | None,
    location: str | None = None,
    reason: str | None = None,
) -> None:
    tx.connection.execute(
        insert(fulltext_events).values(
            kind=kind, **_paper_values(paper), location=location, reason=reason, at=at, by=by
        )
    )


def retrieval_events(tx: Tx, *, records: Sequence[int] | None = None) -> list[RetrievalEvent]:
    """Every full-text retrieval event (on the given records), oldest first."""
    query = select(fulltext_events).order_by(fulltext_events.c.id)
    rows = []
    if records is None:
        rows = list(tx.connection.execute(query))
    else:
        for part in chunks(sorted(set(records))):
            rows.extend(tx.connection.execute(query.where(fulltext_events.c.record_id.in_(part))))
        rows.sort(key=lambda r: r.id)
    return [
        RetrievalEvent(int(r.id), r.kind, _paper(r), r.at, r.by, r.location, r.reason) for r in rows
    ]


def add_link(
    tx: Tx, kind: str, paper: Paper, study: Paper | None, *, at: str, by: str | None
) -> None:
    values = _paper_values(paper)
    if study is not None:
        values.update(_paper_values(study, "study_"))
    tx.connection.execute(insert(study_links).values(kind=kind, **values, at=at, by=by))


def link_events(tx: Tx) -> list[LinkEvent]:
    query = select(study_links).order_by(study_links.c.id)
    return [
        LinkEvent(
            int(r.id),
            r.kind,
            _paper(r),
            _paper(r, "study_") if r.study_record_id is not None else None,
            r.at,
            r.by,
        )
        for r in tx.connection.execute(query)
    ]
