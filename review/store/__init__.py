"""The review store: one SQLite file per review, schema by numbered migrations.

This package is the only place that speaks SQL. Every write that matters goes through
``Store.transaction()``: one ``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any error,
so a failed or killed command leaves the store exactly as it was.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from review.errors import StoreError

MIGRATION_PACKAGE = "review.store.migrations"


@dataclass(frozen=True)
class Migration:
    """One numbered schema change, from ``migrations/NNNN_name.sql``."""

    number: int
    name: str
    sql: str


def utc_now() -> str:
    """The current time as an ISO 8601 UTC timestamp (seconds)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def available_migrations() -> list[Migration]:
    """The migrations shipped with this version, in order."""
    found = []
    for entry in resources.files(MIGRATION_PACKAGE).iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append(Migration(int(name[:4]), name[5:-4], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.number)
    numbers = [m.number for m in found]
    if len(set(numbers)) != len(numbers):
        raise StoreError(f"two migrations share a number: {numbers}")
    return found


class Store:
    """An open review database."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; commits on success, rolls back on any exception."""
        if self.conn.in_transaction:
            raise StoreError("a transaction is already open on this store (nested writes)")
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.rollback()
            raise
        else:
            self.conn.commit()

    def schema_version(self) -> int:
        """The number of the last migration applied (0 for an empty database)."""
        return schema_version(self.conn)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def schema_version(conn: sqlite3.Connection) -> int:
    row = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone()
    if row is None:
        return 0
    (number,) = conn.execute("SELECT COALESCE(MAX(number), 0) FROM schema_migrations").fetchone()
    return int(number)


def migrate(conn: sqlite3.Connection) -> list[int]:
    """Apply every pending migration, each in its own transaction; return those applied."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    current = schema_version(conn)
    applied = []
    for migration in available_migrations():
        if migration.number <= current:
            continue
        script = (
            "BEGIN IMMEDIATE;\n"
            + migration.sql
            + "\nINSERT INTO schema_migrations (number, name, applied_at) VALUES "
            + f"({migration.number}, '{migration.name}', '{utc_now()}');\nCOMMIT;"
        )
        try:
            conn.executescript(script)
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.rollback()
            raise StoreError(
                f"migration {migration.number:04d}_{migration.name} failed: {exc}"
            ) from exc
        applied.append(migration.number)
    return applied


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, foreign keys on."""
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=30.0)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.Error as exc:
        raise StoreError(
            f"{path}: cannot open the review store: {exc}; check that its folder exists and "
            "that you may write to it"
        ) from exc
    return conn


def open_store(path: Path, *, create: bool = False) -> Store:
    """Open (or with ``create``, make) the store at ``path`` and bring its schema up to date."""
    if not create and not path.is_file():
        raise StoreError(f"{path}: no review store here; run 'casepool init' first")
    conn = connect(path)
    try:
        known = max((m.number for m in available_migrations()), default=0)
        if schema_version(conn) > known:
            raise StoreError(
                f"{path}: the store has schema {schema_version(conn)}, newer than this "
                f"casepool knows ({known}); upgrade casepool"
            )
        migrate(conn)
    except BaseException:
        conn.close()
        raise
    return Store(conn, path)
