"""Extraction's tables: the studies to extract and every value as an event. Rows are
appended, never updated or deleted; ``review.extract.state`` says what they mean today."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import insert, select

from review.extract.events import AppraisalEvent, ExtractionEvent, Study
from review.store.engine import Tx
from review.store.schema import appraisal_events, extraction_events, extraction_studies


def _study(row: Any) -> Study:
    return Study(int(row.id), row.label, row.cluster_id, row.added_at, row.added_by)


def add_study(
    tx: Tx, label: str, *, cluster_id: int | None, record_id: int | None, at: str, by: str | None
) -> Study:
    """Register a study to extract; return it with its id."""
    statement = (
        insert(extraction_studies)
        .values(label=label, cluster_id=cluster_id, record_id=record_id, added_at=at, added_by=by)
        .returning(extraction_studies.c.id)
    )
    new_id = int(tx.connection.execute(statement).scalar_one())
    return Study(new_id, label, cluster_id, at, by)


def studies(tx: Tx) -> list[Study]:
    """Every study to extract, by id."""
    query = select(extraction_studies).order_by(extraction_studies.c.id)
    return [_study(row) for row in tx.connection.execute(query)]


def add_events(tx: Tx, events: Sequence[ExtractionEvent]) -> int:
    """Append extraction events (their ``id`` is ignored); return how many."""
    rows = [
        {
            "study_id": e.study_id,
            "form": e.form,
            "row_key": e.row,
            "field": e.field,
            "kind": e.kind,
            "status": e.status,
            "value": e.value,
            "person": e.person,
            "at": e.at,
            "via": e.via,
            "source": e.source,
        }
        for e in events
    ]
    if rows:
        tx.connection.execute(insert(extraction_events), rows)
    return len(rows)


def events(tx: Tx, *, study_id: int | None = None) -> Iterator[ExtractionEvent]:
    """Extraction events, oldest first (of one study when given)."""
    query = select(extraction_events).order_by(extraction_events.c.id)
    if study_id is not None:
        query = query.where(extraction_events.c.study_id == study_id)
    for row in tx.connection.execute(query):
        yield ExtractionEvent(
            int(row.id),
            int(row.study_id),
            row.form,
            row.row_key,
            row.field,
            row.kind,
            row.status,
            row.value,
            row.person,
            row.at,
            row.via,
            row.source,
        )


def add_appraisal_events(tx: Tx, events: Sequence[AppraisalEvent]) -> int:
    """Append appraisal answers (their ``id`` is ignored); return how many."""
    rows = [
        {
            "study_id": e.study_id,
            "tool": e.tool,
            "item": e.item,
            "kind": e.kind,
            "answer": e.answer,
            "note": e.note,
            "person": e.person,
            "at": e.at,
            "via": e.via,
            "source": e.source,
        }
        for e in events
    ]
    if rows:
        tx.connection.execute(insert(appraisal_events), rows)
    return len(rows)


def appraisal_events_of(tx: Tx, *, study_id: int | None = None) -> Iterator[AppraisalEvent]:
    """Appraisal answers, oldest first (of one study when given)."""
    query = select(appraisal_events).order_by(appraisal_events.c.id)
    if study_id is not None:
        query = query.where(appraisal_events.c.study_id == study_id)
    for row in tx.connection.execute(query):
        yield AppraisalEvent(
            int(row.id),
            int(row.study_id),
            row.tool,
            row.item,
            row.kind,
            row.answer,
            row.person,
            row.at,
            row.via,
            row.note,
            row.source,
        )
