"""Records and loads: the tables every source (a search run, a file import) writes to."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import func, insert, select, update

from review.records import Author, Record
from review.store.engine import Tx
from review.store.schema import RECORD_FIELDS, loads, record_field_kinds, records

_KINDS = record_field_kinds()
_JSON_FIELDS = tuple(name for name in RECORD_FIELDS if _KINDS[name] == "json")
_CHUNK = 1000
"""Ids per IN (...) list: far below every database's limit on bound parameters."""


def chunks(values: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    """``values`` in slices of at most ``size``."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def start_load(
    tx: Tx,
    *,
    kind: str,
    source: str,
    at: str,
    file_name: str | None = None,
    sha256: str | None = None,
    details: dict[str, Any] | None = None,
) -> int:
    """Open a load (a search run or a file import) started ``at``; return its id."""
    row = tx.connection.execute(
        insert(loads)
        .values(
            kind=kind,
            source=source,
            file_name=file_name,
            sha256=sha256,
            started_at=at,
            status="running",
            details=json.dumps(details or {}),
        )
        .returning(loads.c.id)
    )
    return int(row.scalar_one())


def finish_load(
    tx: Tx,
    load_id: int,
    *,
    at: str,
    status: str = "complete",
    n_read: int,
    n_new: int,
    details: dict[str, Any] | None = None,
) -> None:
    """Close a load with its counts (and, optionally, replace its details)."""
    values: dict[str, Any] = {"finished_at": at, "status": status, "n_read": n_read}
    values["n_new"] = n_new
    if details is not None:
        values["details"] = json.dumps(details)
    tx.connection.execute(update(loads).where(loads.c.id == load_id).values(**values))


def _author_to_json(author: Author) -> dict[str, Any]:
    data: dict[str, Any] = {
        k: v
        for k, v in (
            ("last_name", author.last_name),
            ("fore_name", author.fore_name),
            ("initials", author.initials),
            ("collective_name", author.collective_name),
        )
        if v is not None
    }
    if author.affiliations:
        data["affiliations"] = list(author.affiliations)
    return data


def _author_from_json(data: dict[str, Any]) -> Author:
    return Author(
        last_name=data.get("last_name"),
        fore_name=data.get("fore_name"),
        initials=data.get("initials"),
        collective_name=data.get("collective_name"),
        affiliations=tuple(data.get("affiliations", ())),
    )


def record_to_row(record: Record) -> dict[str, Any]:
    """The column values of ``record``: its fields, the tuples as JSON arrays."""
    row = {name: getattr(record, name) for name in RECORD_FIELDS}
    for name in _JSON_FIELDS:
        value = row[name]
        if name == "authors":
            value = [_author_to_json(a) for a in value]
        row[name] = json.dumps(
            [list(v) if isinstance(v, tuple) else v for v in value], ensure_ascii=False
        )
    return row


def row_to_record(row: Any) -> Record:
    """Rebuild the ``Record`` stored in ``row`` (a row of ``records``)."""
    mapping = row._mapping
    return _decode([mapping[name] for name in RECORD_FIELDS])


def _decode(values: list[Any]) -> Record:
    """A ``Record`` from its column values in ``RECORD_FIELDS`` order."""
    fields = dict(zip(RECORD_FIELDS, values, strict=True))
    for name in _JSON_FIELDS:
        items = json.loads(fields[name])
        if name == "authors":
            fields[name] = tuple(_author_from_json(a) for a in items)
        else:
            fields[name] = tuple(tuple(v) if isinstance(v, list) else v for v in items)
    return Record(**fields)


def _insert_ignoring_duplicates(tx: Tx) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING on ``records`` in the store's dialect."""
    if tx.dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(records).on_conflict_do_nothing()
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(records).on_conflict_do_nothing()


def count_of_load(tx: Tx, load_id: int) -> int:
    """Records the load has added so far."""
    query = select(func.count()).select_from(records).where(records.c.load_id == load_id)
    return int(tx.connection.execute(query).scalar_one())


def insert_records(tx: Tx, load_id: int, batch: Iterable[Record]) -> int:
    """Insert the records not yet in the store (same source and source_id) as part of the
    load; return how many were new."""
    rows = [{"load_id": load_id, **record_to_row(r)} for r in batch]
    if not rows:
        return 0
    before = count_of_load(tx, load_id)
    tx.connection.execute(_insert_ignoring_duplicates(tx), rows)
    return count_of_load(tx, load_id) - before


def iter_records(tx: Tx, *, include_deleted: bool = False) -> Iterator[tuple[int, Record]]:
    """Every stored record with its id, in insertion order."""
    query = select(records.c.id, *(records.c[name] for name in RECORD_FIELDS))
    query = query.order_by(records.c.id)
    if not include_deleted:
        query = query.where(records.c.deleted_at.is_(None))
    for row in tx.connection.execute(query):
        yield int(row[0]), _decode(list(row[1:]))


def records_by_id(tx: Tx, ids: Iterable[int]) -> dict[int, Record]:
    """The records with these ids (withdrawn ones included)."""
    found: dict[int, Record] = {}
    for part in chunks(sorted(set(ids))):
        for row in tx.connection.execute(select(records).where(records.c.id.in_(part))):
            found[int(row.id)] = row_to_record(row)
    return found


def live_record_ids(tx: Tx) -> set[int]:
    """Ids of the records not withdrawn by their source."""
    query = select(records.c.id).where(records.c.deleted_at.is_(None))
    return {int(i) for i in tx.connection.execute(query).scalars()}


def mark_deleted(tx: Tx, source: str, source_ids: Iterable[str], *, at: str) -> int:
    """Mark records withdrawn by their source (PubMed DeleteCitation) ``at``; return how many."""
    done = 0
    for part in chunks(sorted(set(source_ids))):
        result = tx.connection.execute(
            update(records)
            .where(
                records.c.source == source,
                records.c.source_id.in_(part),
                records.c.deleted_at.is_(None),
            )
            .values(deleted_at=at)
        )
        done += int(result.rowcount)
    return done


def per_source_counts(tx: Tx) -> list[tuple[str, int]]:
    """Live records per source, by source name."""
    query = (
        select(records.c.source, func.count())
        .where(records.c.deleted_at.is_(None))
        .group_by(records.c.source)
        .order_by(records.c.source)
    )
    return [(str(source), int(n)) for source, n in tx.connection.execute(query)]


def record_sources(tx: Tx) -> dict[int, str]:
    """Each live record's source."""
    query = select(records.c.id, records.c.source).where(records.c.deleted_at.is_(None))
    return {int(i): str(s) for i, s in tx.connection.execute(query)}
