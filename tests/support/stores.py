"""Stores in tests: opening a review folder's store, seeding records, snapshots of every row
(to assert that a refused command wrote nothing, on SQLite and PostgreSQL alike)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from review.records import Record
from review.store import Store, open_store

AT = "2026-12-01T10:00:00Z"


@contextmanager
def folder_store(review_dir: Path) -> Iterator[Store]:
    """The store of a review folder, whichever database it is on."""
    from review.workspace import folder_store_url

    url = folder_store_url(review_dir)
    assert url is not None, f"{review_dir} is not a review folder"
    with open_store(url) as store:
        yield store


@contextmanager
def _as_store(target: Path | Store) -> Iterator[Store]:
    if isinstance(target, Store):
        yield target
    else:
        with folder_store(target) as store:
            yield store


def add_records(
    target: Path | Store, source: str, records: Sequence[Record], file_name: str | None = None
) -> int:
    """Store ``records`` as one complete file load of ``source``; return how many were new."""
    from review.store.records import finish_load, insert_records, start_load

    with _as_store(target) as store, store.transaction() as tx:
        load_id = start_load(
            tx, kind="file", source=source, at=AT, file_name=file_name or f"{source}.ris"
        )
        n = insert_records(tx, load_id, records)
        finish_load(tx, load_id, at=AT, n_read=len(records), n_new=n)
        return n


def membership(target: Path | Store) -> dict[int, tuple[int, bool]]:
    """Record id -> (cluster id, is primary) for every live record."""
    from review.store.dedup import membership as stored

    with _as_store(target) as store, store.read() as tx:
        current = stored(tx)
    return {rid: (cid, current.is_primary(rid)) for rid, cid in current.cluster_of.items()}


def store_snapshot(target: Path | Store) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, ordered: equal snapshots mean nothing was written."""
    from sqlalchemy import select

    from review.store.schema import TABLES_IN_ORDER

    snapshot: dict[str, list[dict[str, Any]]] = {}
    with _as_store(target) as store, store.read() as tx:
        for table in TABLES_IN_ORDER:
            query = select(table).order_by(*table.primary_key.columns)
            snapshot[table.name] = [row._asdict() for row in tx.connection.execute(query)]
    return snapshot


def clock() -> str:
    """A clock for tests: always ``AT``."""
    return AT


def records_of(target: Path | Store) -> dict[int, Record]:
    """Every live record by id."""
    from review.store.records import iter_records

    with _as_store(target) as store, store.read() as tx:
        return dict(iter_records(tx))


def link(target: Path | Store, members: Sequence[int], primary: int) -> int:
    """Store a cluster of ``members`` (named by the smallest) with ``primary``; return its id."""
    from review.dedup.clusters import Cluster
    from review.store.dedup import write_clusters

    ids = tuple(sorted(members))
    reasons = tuple((m, "primary" if m == primary else "linked") for m in ids)
    with _as_store(target) as store, store.transaction() as tx:
        write_clusters(tx, [Cluster(ids, primary, reasons, ids[0])])
    return ids[0]
