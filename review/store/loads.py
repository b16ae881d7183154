"""File imports as loads: finding an earlier import of the same file, and the records of a
source an import meets."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from review.store.engine import Tx
from review.store.records import chunks
from review.store.schema import loads, records


@dataclass(frozen=True)
class PriorLoad:
    """A completed import of a file with the same sha256 into the same source."""

    id: int
    file_name: str | None
    finished_at: str | None
    n_read: int
    n_new: int
    details: dict[str, Any]


def find_file_loads(tx: Tx, *, source: str, sha256: str) -> list[PriorLoad]:
    """The complete imports of a file with this sha256 into ``source``, oldest first."""
    rows = tx.connection.execute(
        select(loads)
        .where(
            loads.c.kind == "file",
            loads.c.source == source,
            loads.c.sha256 == sha256,
            loads.c.status == "complete",
        )
        .order_by(loads.c.id)
    )
    return [
        PriorLoad(
            int(row.id),
            row.file_name,
            row.finished_at,
            int(row.n_read),
            int(row.n_new),
            json.loads(row.details or "{}"),
        )
        for row in rows
    ]


def stored_by_source_id(
    tx: Tx, source: str, source_ids: Iterable[str]
) -> dict[str, tuple[int, str | None, str | None]]:
    """source_id -> (record id, title, doi) of the records ``source`` already holds."""
    found: dict[str, tuple[int, str | None, str | None]] = {}
    columns = (records.c.id, records.c.source_id, records.c.title, records.c.doi)
    for part in chunks(list(dict.fromkeys(source_ids))):
        query = select(*columns).where(records.c.source == source, records.c.source_id.in_(part))
        for row in tx.connection.execute(query):
            found[row.source_id] = (int(row.id), row.title, row.doi)
    return found


def file_loads(tx: Tx) -> list[dict[str, Any]]:
    """Every file import, oldest first, as plain dicts (for reports and PRISMA counts)."""
    query = select(loads).where(loads.c.kind == "file").order_by(loads.c.id)
    return [
        {**row._asdict(), "details": json.loads(row.details or "{}")}
        for row in tx.connection.execute(query)
    ]
