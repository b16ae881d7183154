"""The protocol's versions: the original and every dated amendment."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from review.protocol.versions import ProtocolVersion
from review.store.engine import Tx
from review.store.schema import protocol_versions


def _version(row: Any) -> ProtocolVersion:
    return ProtocolVersion(
        number=int(row.id),
        kind=row.kind,
        file_name=row.file_name,
        sha256=row.sha256,
        recorded_at=row.recorded_at,
        recorded_by=row.recorded_by,
        text=row.text,
    )


def latest_version(tx: Tx) -> ProtocolVersion | None:
    """The protocol in force: the last version recorded."""
    query = select(protocol_versions).order_by(protocol_versions.c.id.desc()).limit(1)
    row = tx.connection.execute(query).first()
    return _version(row) if row else None


def all_versions(tx: Tx) -> list[ProtocolVersion]:
    """Every version, the original first."""
    query = select(protocol_versions).order_by(protocol_versions.c.id)
    return [_version(r) for r in tx.connection.execute(query)]


def add_version(
    tx: Tx, *, kind: str, file_name: str, sha256: str, text: str, at: str, by: str | None
) -> ProtocolVersion:
    """Record a protocol version, recorded ``at`` by ``by``."""
    values = {
        "kind": kind,
        "file_name": file_name,
        "sha256": sha256,
        "text": text,
        "recorded_at": at,
        "recorded_by": by,
    }
    number = tx.connection.execute(
        insert(protocol_versions).values(**values).returning(protocol_versions.c.id)
    ).scalar_one()
    return ProtocolVersion(int(number), kind, file_name, sha256, at, text, by)
