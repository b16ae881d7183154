"""Extraction's tables: the studies to extract and every value as an event. Rows are
appended, never updated or deleted; ``review.extract.state`` says what they mean today."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import fields
from typing import Any, TypeVar

from sqlalchemy import Table, insert, select

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


COLUMN_OF = {"row": "row_key"}
"""Event fields stored under another column name (``row`` is a reserved word in SQL)."""

Event = TypeVar("Event", ExtractionEvent, AppraisalEvent)


def _append(tx: Tx, table: Table, events: Sequence[Any]) -> int:
    """Append events as rows of ``table``, a column per field but the ``id``."""
    rows = [
        {COLUMN_OF.get(f.name, f.name): getattr(e, f.name) for f in fields(e) if f.name != "id"}
        for e in events
    ]
    if rows:
        tx.connection.execute(insert(table), rows)
    return len(rows)


def _read(tx: Tx, table: Table, kind: type[Event], study_id: int | None) -> Iterator[Event]:
    """The rows of ``table`` as ``kind``, oldest first (of one study when given)."""
    query = select(table).order_by(table.c.id)
    if study_id is not None:
        query = query.where(table.c.study_id == study_id)
    names = [f.name for f in fields(kind)]
    for row in tx.connection.execute(query):
        mapping = row._mapping
        yield kind(**{n: mapping[COLUMN_OF.get(n, n)] for n in names})


def add_events(tx: Tx, events: Sequence[ExtractionEvent]) -> int:
    """Append extraction events (their ``id`` is ignored); return how many."""
    return _append(tx, extraction_events, events)


def events(tx: Tx, *, study_id: int | None = None) -> Iterator[ExtractionEvent]:
    """Extraction events, oldest first (of one study when given)."""
    return _read(tx, extraction_events, ExtractionEvent, study_id)


def add_appraisal_events(tx: Tx, events: Sequence[AppraisalEvent]) -> int:
    """Append appraisal answers (their ``id`` is ignored); return how many."""
    return _append(tx, appraisal_events, events)


def appraisal_events_of(tx: Tx, *, study_id: int | None = None) -> Iterator[AppraisalEvent]:
    """Appraisal answers, oldest first (of one study when given)."""
    return _read(tx, appraisal_events, AppraisalEvent, study_id)
