"""SQL for the protocol's versions: the original and every dated amendment."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from review.store import utc_now


@dataclass(frozen=True)
class ProtocolVersion:
    """One recorded version of the protocol text."""

    number: int
    kind: str
    file_name: str
    sha256: str
    recorded_at: str
    text: str


def _version(row: sqlite3.Row) -> ProtocolVersion:
    return ProtocolVersion(
        number=row["id"],
        kind=row["kind"],
        file_name=row["file_name"],
        sha256=row["sha256"],
        recorded_at=row["recorded_at"],
        text=row["text"],
    )


def latest_version(conn: sqlite3.Connection) -> ProtocolVersion | None:
    row = conn.execute("SELECT * FROM protocol_versions ORDER BY id DESC LIMIT 1").fetchone()
    return _version(row) if row else None


def all_versions(conn: sqlite3.Connection) -> list[ProtocolVersion]:
    return [_version(r) for r in conn.execute("SELECT * FROM protocol_versions ORDER BY id")]


def add_version(
    conn: sqlite3.Connection, *, kind: str, file_name: str, sha256: str, text: str
) -> ProtocolVersion:
    """Record a protocol version (call inside a transaction)."""
    recorded_at = utc_now()
    cur = conn.execute(
        "INSERT INTO protocol_versions (kind, file_name, sha256, text, recorded_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (kind, file_name, sha256, text, recorded_at),
    )
    return ProtocolVersion(int(cur.lastrowid or 0), kind, file_name, sha256, recorded_at, text)
