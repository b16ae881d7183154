"""The review store: migrations on empty and existing databases, all-or-nothing writes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from review.errors import StoreError
from review.records import Author, Record
from review.store import available_migrations, connect, migrate, open_store, schema_version
from review.store.records import finish_load, insert_records, iter_records, start_load


def test_migrations_are_numbered_without_gaps() -> None:
    numbers = [m.number for m in available_migrations()]
    assert numbers == list(range(1, len(numbers) + 1))


def test_migrations_run_on_an_empty_database(tmp_path: Path) -> None:
    with open_store(tmp_path / "review.db", create=True) as store:
        assert store.schema_version() == available_migrations()[-1].number
        mode = store.conn.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"
        assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_migrations_bring_an_existing_database_up_to_date(tmp_path: Path) -> None:
    path = tmp_path / "review.db"
    conn = connect(path)
    conn.execute(
        "CREATE TABLE schema_migrations (number INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL)"
    )
    first = available_migrations()[0]
    conn.executescript(first.sql)
    conn.execute(
        "INSERT INTO schema_migrations VALUES (1, ?, '2026-01-01T00:00:00Z')", (first.name,)
    )
    conn.execute(
        "INSERT INTO loads (kind, source, started_at, status) VALUES"
        " ('file', 'embase', '2026-01-01T00:00:00Z', 'complete')"
    )
    conn.close()
    with open_store(path) as store:
        assert store.schema_version() == available_migrations()[-1].number
        assert store.conn.execute("SELECT source FROM loads").fetchall()[0][0] == "embase"
    with open_store(path) as store:  # a second open applies nothing
        assert migrate(store.conn) == []


def test_a_store_from_a_newer_casepool_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "review.db"
    open_store(path, create=True).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', 'x')")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError) as caught:
        open_store(path)
    known = available_migrations()[-1].number
    assert str(caught.value) == (
        f"{path}: the store has schema 999, newer than this casepool knows ({known}); "
        "upgrade casepool"
    )


def test_opening_a_missing_store_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"no review store here; run 'casepool init' first$"):
        open_store(tmp_path / "review.db")


def test_a_failed_transaction_leaves_the_store_unchanged(tmp_path: Path) -> None:
    record = Record(source="pubmed", source_id="1", pmid="1", title="A")
    with open_store(tmp_path / "review.db", create=True) as store:
        with pytest.raises(RuntimeError), store.transaction() as conn:
            load = start_load(conn, kind="file", source="pubmed")
            insert_records(conn, load, [record])
            raise RuntimeError("killed half way")
        assert list(iter_records(store.conn)) == []
        assert store.conn.execute("SELECT COUNT(*) FROM loads").fetchone()[0] == 0


def test_records_round_trip_and_duplicates_are_not_inserted_twice(tmp_path: Path) -> None:
    record = Record(
        source="pubmed",
        source_id="30639647",
        pmid="30639647",
        doi="10.1016/j.autrev.2018.10.006",
        title="Effectiveness and safety of rituximab",
        authors=(Author("Narváez", "J", "J", affiliations=("Bellvitge",)),),
        year=2019,
        publication_types=("Observational Study",),
        extra=(("N1", "note"),),
        raw="<PubmedArticle/>",
    )
    with open_store(tmp_path / "review.db", create=True) as store:
        with store.transaction() as conn:
            load = start_load(conn, kind="search", source="pubmed")
            assert insert_records(conn, load, [record, record]) == 1
            finish_load(conn, load, n_read=2, n_new=1)
        ((_, stored),) = list(iter_records(store.conn))
        assert stored == record
        assert stored.raw == "<PubmedArticle/>"


def test_nested_transactions_are_refused(tmp_path: Path) -> None:
    with open_store(tmp_path / "review.db", create=True) as store:
        outer = store.transaction()
        outer.__enter__()
        with pytest.raises(StoreError, match="already open"), store.transaction():
            pass
        outer.__exit__(None, None, None)


def test_schema_version_of_an_empty_database_is_zero(tmp_path: Path) -> None:
    assert schema_version(sqlite3.connect(tmp_path / "x.db")) == 0
