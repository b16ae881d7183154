"""SQL for file imports: finding an earlier import of the same file, and records an import meets."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PriorLoad:
    """A completed import of a file with the same sha256 into the same source."""

    id: int
    file_name: str | None
    finished_at: str | None
    n_read: int
    n_new: int
    details: dict[str, Any]


def find_file_load(conn: sqlite3.Connection, *, source: str, sha256: str) -> PriorLoad | None:
    """The first complete import of a file with this sha256 into ``source``, if any."""
    row = conn.execute(
        "SELECT id, file_name, finished_at, n_read, n_new, details FROM loads"
        " WHERE kind = 'file' AND source = ? AND sha256 = ? AND status = 'complete'"
        " ORDER BY id LIMIT 1",
        (source, sha256),
    ).fetchone()
    if row is None:
        return None
    return PriorLoad(
        int(row["id"]),
        row["file_name"],
        row["finished_at"],
        int(row["n_read"]),
        int(row["n_new"]),
        json.loads(row["details"] or "{}"),
    )


def stored_by_source_id(
    conn: sqlite3.Connection, source: str, source_ids: Iterable[str]
) -> dict[str, tuple[int, str | None, str | None]]:
    """source_id -> (record id, title, doi) of the records ``source`` already holds."""
    ids = list(dict.fromkeys(source_ids))
    found: dict[str, tuple[int, str | None, str | None]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        for row in conn.execute(
            f"SELECT id, source_id, title, doi FROM records WHERE source = ?"
            f" AND source_id IN ({marks})",
            (source, *chunk),
        ):
            found[row["source_id"]] = (int(row["id"]), row["title"], row["doi"])
    return found


def file_loads(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every file import, oldest first, as plain dicts (for reports and PRISMA counts)."""
    rows = conn.execute(
        "SELECT id, source, file_name, sha256, started_at, finished_at, status, n_read, n_new,"
        " details FROM loads WHERE kind = 'file' ORDER BY id"
    ).fetchall()
    return [{**dict(row), "details": json.loads(row["details"] or "{}")} for row in rows]
