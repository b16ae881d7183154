"""The review store on SQLite and PostgreSQL: opening, migrations, all-or-nothing writes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from review.errors import StoreError
from review.records import Author, Record
from review.store import Store, open_store, redact_url, sqlite_url, store_url
from review.store.migrate import HEAD, REVISIONS, revision, script_revisions
from review.store.records import finish_load, insert_records, iter_records, start_load
from review.store.schema import RECORD_FIELDS, records

LEGACY = Path(__file__).resolve().parents[2] / "data" / "store"
AT = "2026-12-01T10:00:00Z"


def test_the_known_revisions_are_the_migration_scripts() -> None:
    assert script_revisions() == list(REVISIONS)
    assert REVISIONS[-1] == HEAD


def test_a_new_store_is_at_the_newest_revision(store: Store) -> None:
    with store.read() as tx:
        assert revision(tx.connection) == HEAD


def test_sqlite_stores_use_wal_and_foreign_keys(tmp_path: Path) -> None:
    with open_store(sqlite_url(tmp_path / "review.db"), create=True) as store, store.read() as tx:
        assert tx.connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert tx.connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_record_columns_come_from_the_record_definition() -> None:
    import dataclasses

    assert list(RECORD_FIELDS) == [f.name for f in dataclasses.fields(Record)]
    assert {c.name for c in records.columns} == {"id", "load_id", "deleted_at", *RECORD_FIELDS}


def test_a_store_of_the_first_release_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "review.db"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE schema_migrations (number INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL)"
    )
    for number, name in ((1, "core"), (2, "search"), (3, "dedup")):
        conn.executescript((LEGACY / f"legacy_{number:04d}_{name}.sql").read_text())
        conn.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", (number, name, AT))
    conn.execute(
        "INSERT INTO loads (kind, source, started_at, status) VALUES ('file', 'embase', ?,"
        " 'complete')",
        (AT,),
    )
    conn.execute(
        "INSERT INTO records (load_id, source, source_id, title) VALUES (1, 'embase', 'E1', 'A')"
    )
    conn.execute(
        "INSERT INTO dedup_decisions (kind, record_a, record_b, decided_at) VALUES"
        " ('keep_apart', 1, 2, ?)",
        (AT,),
    )
    conn.commit()
    conn.close()
    with open_store(sqlite_url(path)) as store, store.read() as tx:
        assert revision(tx.connection) == HEAD
        ((_, stored),) = list(iter_records(tx))
        assert stored.title == "A"
        row = tx.connection.execute(text("SELECT decided_by FROM dedup_decisions")).one()
        assert row.decided_by is None
    with open_store(sqlite_url(path)) as store, store.read() as tx:  # a second open: nothing
        assert revision(tx.connection) == HEAD


def test_a_store_from_a_newer_casepool_is_refused(store: Store, store_url: str) -> None:
    with store.transaction() as tx:
        tx.connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreError) as caught:
        open_store(store_url)
    assert str(caught.value) == (
        f"{redact_url(store_url)}: the store has schema revision 9999, which this casepool "
        f"does not know (its newest is {HEAD}); upgrade casepool"
    )


def test_opening_a_missing_store_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"no review store here; run 'casepool init' first$"):
        open_store(sqlite_url(tmp_path / "review.db"))


def test_a_database_of_something_else_is_not_taken_for_a_review(store_url: str) -> None:
    from sqlalchemy import create_engine

    if store_url.startswith("sqlite"):
        Path(store_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(store_url_with_driver(store_url))
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE invoices (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    with pytest.raises(StoreError, match="holds tables but no casepool review"):
        open_store(store_url)


def store_url_with_driver(url: str) -> str:
    return store_url(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u@h/db", "casepool stores reviews in SQLite or PostgreSQL, not 'mysql'"),
        ("not a url", "'not a url' is not a database URL"),
        ("sqlite://", "a SQLite store needs a file path"),
    ],
)
def test_an_unsupported_database_url_is_refused(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        store_url(url)


def test_postgres_urls_get_the_psycopg_driver_and_passwords_are_hidden() -> None:
    assert store_url("postgresql://a@h:5/d") == "postgresql+psycopg://a@h:5/d"
    assert store_url("postgres://a@h/d") == "postgresql+psycopg://a@h/d"
    assert redact_url("postgresql+psycopg://a:secret@h/d") == "postgresql://a:***@h/d"
    assert redact_url("sqlite:////x/review.db") == "/x/review.db"


def test_an_unreachable_server_is_a_one_line_error() -> None:
    with pytest.raises(StoreError) as caught:
        open_store("postgresql://nobody@127.0.0.1:9/nothing?connect_timeout=2")
    message = str(caught.value)
    assert message.startswith("postgresql://nobody@127.0.0.1:9/nothing")
    assert "cannot open the review store" in message and "\n" not in message


def test_a_failed_transaction_leaves_the_store_unchanged(store: Store) -> None:
    record = Record(source="pubmed", source_id="1", pmid="1", title="A")
    with pytest.raises(RuntimeError), store.transaction() as tx:
        load = start_load(tx, kind="file", source="pubmed", at=AT)
        insert_records(tx, load, [record])
        raise RuntimeError("killed half way")
    with store.read() as tx:
        assert list(iter_records(tx)) == []
        assert tx.connection.execute(text("SELECT COUNT(*) FROM loads")).scalar() == 0


def test_records_round_trip_and_duplicates_are_not_inserted_twice(store: Store) -> None:
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
    with store.transaction() as tx:
        load = start_load(tx, kind="search", source="pubmed", at=AT)
        assert insert_records(tx, load, [record, record]) == 1
        finish_load(tx, load, at=AT, n_read=2, n_new=1)
    with store.read() as tx:
        ((_, stored),) = list(iter_records(tx))
    assert stored == record
    assert stored.raw == "<PubmedArticle/>"


def test_nested_transactions_are_refused(store: Store) -> None:
    with (
        store.transaction(),
        pytest.raises(StoreError, match="already open"),
        store.transaction(),
    ):
        pass
