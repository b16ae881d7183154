"""Copying a whole store between SQLite and PostgreSQL: checked row for row, all or nothing."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from dedup_examples import ARTICLE, EMBASE_COPY
from stores import add_records, clock, store_snapshot

from review.dedup.workflow import decide, run_dedup
from review.errors import StoreError
from review.records import Record
from review.store import Store, open_store, sqlite_url
from review.store.copy import copy_store


def filled(store: Store) -> None:
    add_records(store, "pubmed", [ARTICLE])
    add_records(store, "embase", [EMBASE_COPY])
    other = Record(source="wos", source_id="W", title="Calcinosis cutis treated with rituximab")
    lookalike = dataclasses.replace(other, source="scopus", source_id="S")
    add_records(store, "wos", [other])
    add_records(store, "scopus", [lookalike])
    run_dedup(store, clock=clock)
    decide(store, 3, 4, "keep_apart", at=clock(), by="ana")


def test_a_sqlite_store_copies_to_postgresql_and_back_unchanged(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import review.store.copy as copying

    monkeypatch.setattr(copying, "_BATCH", 3)  # several pages per table, composite keys too
    source_url = sqlite_url(tmp_path / "review.db")
    with open_store(source_url, create=True) as source:
        filled(source)
        original = store_snapshot(source)
    report = copy_store(source_url, postgres_url)
    assert report.total == sum(len(rows) for rows in original.values())
    assert dict(report.rows)["records"] == 4
    with open_store(postgres_url) as target:
        assert store_snapshot(target) == original
        add_records(target, "cinahl", [dataclasses.replace(ARTICLE, source="cinahl")])
        assert max(store_snapshot(target)["records"], key=lambda r: r["id"])["id"] == 5
    back = sqlite_url(tmp_path / "back.db")
    copy_store(postgres_url, back)
    with open_store(back) as copied:
        assert store_snapshot(copied)["records"][:4] == original["records"]


def test_a_target_that_is_not_empty_is_refused_and_left_as_it_was(
    tmp_path: Path, store: Store, store_url: str
) -> None:
    filled(store)
    before = store_snapshot(store)
    source_url = sqlite_url(tmp_path / "other.db")
    with open_store(source_url, create=True) as other:
        filled(other)
    with pytest.raises(StoreError, match=r"exists; copy into a new file|the target is not empty"):
        copy_store(source_url, store_url)
    assert store_snapshot(store) == before


def test_a_copy_that_does_not_verify_leaves_nothing_behind(
    tmp_path: Path, store: Store, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import review.store.copy as copying

    filled(store)
    target = tmp_path / "copy.db"
    real = copying._digest
    calls: list[int] = []

    def lying(connection, table):  # type: ignore[no-untyped-def]
        calls.append(1)
        n, digest = real(connection, table)
        return (n, digest + "x") if table.name == "records" and len(calls) % 2 == 0 else (n, digest)

    monkeypatch.setattr(copying, "_digest", lying)
    with pytest.raises(StoreError) as caught:
        copy_store(store_url, sqlite_url(target))
    assert str(caught.value) == (
        f"{target}: the copy of table records differs from the source; nothing was copied"
    )
    assert not target.exists()


def test_copying_a_store_onto_itself_is_refused(store_url: str, store: Store) -> None:
    with pytest.raises(StoreError, match="the source and the target are the same database"):
        copy_store(store_url, store_url)
