"""Copying a whole review store to another database, checked row for row, all or nothing.

The target must be empty. Its schema is built, every table copied parents first, each table
compared with the source (row count and a digest of every row in key order) and, on
PostgreSQL, the id sequences moved past the copied ids, all in ONE transaction on the
target: a failure or a difference at any point leaves the target as it was (a new SQLite
file is removed again).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Integer, Table, func, insert, select, text, tuple_

from meta.progress import Progress
from review.errors import StoreError
from review.store import open_store
from review.store.engine import Store, Tx, make_engine, store_url
from review.store.migrate import HEAD, revision, upgrade
from review.store.schema import TABLES_IN_ORDER

_BATCH = 2000


@dataclass(frozen=True)
class CopyReport:
    """What was copied: rows per table, and the schema revision of both stores."""

    source: str
    target: str
    rows: tuple[tuple[str, int], ...]
    revision: str

    @property
    def total(self) -> int:
        return sum(n for _, n in self.rows)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {
            "from": self.source,
            "to": self.target,
            "revision": self.revision,
            "rows": dict(self.rows),
            "total_rows": self.total,
            "verified": True,
        }


def _ordered(table: Table) -> Any:
    return select(table).order_by(*table.primary_key.columns)


def _rows(connection: Connection, table: Table) -> Iterator[tuple[Any, ...]]:
    """Every row in key order, a page at a time (keyset pagination: memory stays bounded
    without server-side cursors)."""
    key = list(table.primary_key.columns)
    positions = [list(table.columns).index(c) for c in key]
    last: tuple[Any, ...] | None = None
    while True:
        query = _ordered(table).limit(_BATCH)
        if last is not None:
            query = query.where(tuple_(*key) > tuple_(*last))
        page = [tuple(row) for row in connection.execute(query)]
        yield from page
        if len(page) < _BATCH:
            return
        last = tuple(page[-1][i] for i in positions)


def _digest(connection: Connection, table: Table) -> tuple[int, str]:
    digest = hashlib.sha256()
    n = 0
    for row in _rows(connection, table):
        digest.update(repr(row).encode("utf-8"))
        n += 1
    return n, digest.hexdigest()


def _tables(connection: Connection) -> list[str]:
    from sqlalchemy import inspect

    return sorted(inspect(connection).get_table_names())


def copy_store(
    source_url: str,
    target_url: str,
    *,
    progress: Progress | None = None,
) -> CopyReport:
    """Copy the store at ``source_url`` into the empty database at ``target_url``."""
    source_url, target_url = store_url(source_url), store_url(target_url)
    if source_url == target_url:
        raise StoreError("the source and the target are the same database; name another target")
    with open_store(source_url) as source, source.read() as src:
        current = revision(src.connection)
        if current != HEAD:  # pragma: no cover - open_store refuses or migrates first
            raise StoreError(f"{source.display_url}: the store is at revision {current}")
        return _copy_into(src, target_url, source.display_url, progress)


def _copy_into(
    src: Tx,
    target_url: str,
    source_name: str,
    progress: Progress | None,
) -> CopyReport:
    from sqlalchemy.engine import make_url

    parsed = make_url(target_url)
    new_file: Path | None = None
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if path.exists() and path.stat().st_size > 0:
            raise StoreError(f"{path}: exists; copy into a new file or an empty database")
        if not path.parent.is_dir():
            raise StoreError(f"{path}: the folder {path.parent} does not exist; create it first")
        new_file = path
    target = Store(make_engine(target_url), target_url)
    try:
        with target.transaction() as dst:
            tables = _tables(dst.connection)
            if tables:
                raise StoreError(
                    f"{target.display_url}: the target is not empty (it has tables "
                    f"{', '.join(tables[:5])}{', ...' if len(tables) > 5 else ''}); copy into "
                    "a new, empty database"
                )
            upgrade(dst.connection, None)
            counts = [
                (table.name, _copy_table(src.connection, dst.connection, table, progress))
                for table in TABLES_IN_ORDER
            ]
            _verify(src.connection, dst.connection, target.display_url)
            if dst.dialect == "postgresql":
                _advance_sequences(dst.connection)
        return CopyReport(source_name, target.display_url, tuple(counts), HEAD)
    except BaseException:
        target.close()
        if new_file is not None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{new_file}{suffix}").unlink(missing_ok=True)
        raise
    finally:
        target.close()


def _copy_table(
    source: Connection,
    target: Connection,
    table: Table,
    progress: Progress | None,
) -> int:
    total = int(source.execute(select(func.count()).select_from(table)).scalar_one())
    names = [c.name for c in table.columns]
    done = 0
    batch: list[dict[str, Any]] = []
    for row in _rows(source, table):
        batch.append(dict(zip(names, row, strict=True)))
        if len(batch) >= _BATCH:
            target.execute(insert(table), batch)
            done += len(batch)
            batch = []
            if progress:
                progress(f"copying {table.name}", done, total)
    if batch:
        target.execute(insert(table), batch)
        done += len(batch)
    if progress:
        progress(f"copying {table.name}", done, total)
    return done


def _verify(source: Connection, target: Connection, target_name: str) -> None:
    for table in TABLES_IN_ORDER:
        if _digest(source, table) != _digest(target, table):
            raise StoreError(
                f"{target_name}: the copy of table {table.name} differs from the source; "
                "nothing was copied"
            )


def _advance_sequences(connection: Connection) -> None:
    """Move each id sequence past the copied ids, so new rows get new ids."""
    for table in TABLES_IN_ORDER:
        key = list(table.primary_key.columns)
        if len(key) != 1 or not isinstance(key[0].type, Integer) or key[0].autoincrement is False:
            continue
        column = key[0].name
        sequence = connection.execute(
            text("SELECT pg_get_serial_sequence(:table, :column)"),
            {"table": table.name, "column": column},
        ).scalar()
        if sequence is None:
            continue
        connection.execute(
            text(
                f"SELECT setval(:sequence, COALESCE((SELECT MAX({column}) FROM {table.name}), 0)"
                " + 1, false)"
            ),
            {"sequence": sequence},
        )
