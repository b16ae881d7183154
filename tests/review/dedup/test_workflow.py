"""What a person does with duplicates, against the store on SQLite and PostgreSQL: runs,
decisions, undo, export, withdrawn records, and cluster ids that last."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from dedup_examples import ARTICLE, EMBASE_COPY
from sqlalchemy import Column, Integer, MetaData, Table, Text, insert, select
from stores import add_records, membership, store_snapshot

from review.dedup.workflow import (
    cluster_view,
    counts,
    decide,
    export_membership,
    pending_pairs,
    run_dedup,
    undo_cluster,
)
from review.errors import DedupError
from review.records import Record
from review.store import Store
from review.store.records import mark_deleted

AT = "2026-12-01T10:00:00Z"


def clock() -> str:
    return AT


OTHER = dataclasses.replace(
    ARTICLE, source_id="9", title="Other paper entirely about mice", pages="1-2"
)


@pytest.fixture
def filled(store: Store) -> Store:
    add_records(store, "pubmed", [ARTICLE, OTHER])
    add_records(store, "embase", [EMBASE_COPY])
    return store


def test_membership_before_any_run_is_all_singletons(filled: Store) -> None:
    assert membership(filled) == {1: (1, True), 2: (2, True), 3: (3, True)}


def test_run_links_records_and_counts_for_prisma(filled: Store) -> None:
    result = run_dedup(filled, clock=clock)
    assert membership(filled) == {1: (1, True), 2: (2, True), 3: (1, False)}
    assert result.per_source == (("embase", 1), ("pubmed", 2))
    assert (result.records_identified, result.duplicates_removed) == (3, 1)
    assert (result.records_after_dedup, result.clusters, result.pairs_queued) == (2, 1, 0)
    assert counts(filled) == result


def test_cluster_view_fills_the_abstract(filled: Store) -> None:
    run_dedup(filled, clock=clock)
    assert cluster_view(filled, 1).abstract == "We describe five patients."


def test_undo_splits_and_a_rerun_does_not_merge_again(filled: Store) -> None:
    run_dedup(filled, clock=clock)
    assert undo_cluster(filled, 1, at=AT, by="ana") == (1, 3)
    assert membership(filled)[3] == (3, True)
    run_dedup(filled, clock=clock)
    assert membership(filled)[3] == (3, True)
    assert counts(filled).duplicates_removed == 0


def test_undo_of_a_missing_cluster_names_it_and_changes_nothing(filled: Store) -> None:
    run_dedup(filled, clock=clock)
    before = store_snapshot(filled)
    with pytest.raises(DedupError) as err:
        undo_cluster(filled, 2, at=AT, by="ana")
    assert str(err.value) == (
        "there is no cluster 2 of two or more records; "
        "'casepool dedup --export FILE.csv' lists the clusters"
    )
    assert store_snapshot(filled) == before


def two_lookalikes(store: Store) -> None:
    a = Record(source="scopus", source_id="S", title="Calcinosis cutis treated with rituximab")
    b = Record(source="wos", source_id="W", title="Calcinosis cutis treated with rituximab")
    add_records(store, "scopus", [a])
    add_records(store, "wos", [b])


def test_keep_apart_from_review_is_respected_on_rerun(store: Store) -> None:
    two_lookalikes(store)
    assert run_dedup(store, clock=clock).pairs_queued == 1
    (pair,) = pending_pairs(store)
    decide(store, pair.a, pair.b, "keep_apart", at=AT, by="ana")
    assert pending_pairs(store) == []
    result = run_dedup(store, clock=clock)
    assert (result.pairs_queued, result.clusters) == (0, 0)


def test_merge_from_review_survives_a_rerun_and_records_who_decided(store: Store) -> None:
    two_lookalikes(store)
    run_dedup(store, clock=clock)
    assert decide(store, 2, 1, "merge", at=AT, by="ana") == 1
    assert membership(store) == {1: (1, True), 2: (1, False)}
    result = run_dedup(store, clock=clock)
    assert (result.clusters, result.pairs_queued) == (1, 0)
    (row,) = store_snapshot(store)["dedup_decisions"]
    assert (row["kind"], row["decided_at"], row["decided_by"]) == ("merge", AT, "ana")


def test_merge_refused_when_a_person_kept_members_apart(filled: Store) -> None:
    run_dedup(filled, clock=clock)
    decide(filled, 1, 2, "keep_apart", at=AT, by="ana")
    with pytest.raises(DedupError) as err:
        decide(filled, 3, 2, "merge", at=AT, by="ana")
    assert str(err.value) == (
        "cannot merge records 2 and 3: records 1 and 2 of their clusters were kept apart "
        "by a person"
    )


def test_decision_on_unknown_record_is_an_error(filled: Store) -> None:
    with pytest.raises(DedupError) as err:
        decide(filled, 1, 99, "merge", at=AT, by="ana")
    assert str(err.value) == (
        "record 99 does not exist or was withdrawn by its source; "
        "'casepool dedup --export FILE.csv' lists the records"
    )


def test_the_membership_export_is_as_readable_as_the_umask_allows(
    filled: Store, tmp_path: Path, umask: int
) -> None:
    export_membership(filled, tmp_path / "clusters.csv")
    assert (tmp_path / "clusters.csv").stat().st_mode & 0o777 == 0o666 & ~umask


def test_export_writes_one_row_per_record(filled: Store, tmp_path: Path) -> None:
    run_dedup(filled, clock=clock)
    out = tmp_path / "clusters.csv"
    assert export_membership(filled, out) == 3
    assert out.read_text(encoding="utf-8").splitlines() == [
        "source,source_id,cluster_id,is_primary,record_id",
        "pubmed,1,1,1,1",
        "pubmed,9,2,1,2",
        "embase,E1,1,0,3",
    ]


def test_keep_apart_inside_one_cluster_asks_for_an_undo_first(filled: Store) -> None:
    run_dedup(filled, clock=clock)
    with pytest.raises(DedupError) as err:
        decide(filled, 3, 1, "keep_apart", at=AT, by="ana")
    assert str(err.value) == (
        "records 1 and 3 are both in cluster 1; split it first with 'casepool dedup undo 1'"
    )


def test_withdrawn_primary_leaves_the_cluster_with_a_stand_in(filled: Store) -> None:
    run_dedup(filled, clock=clock)
    with filled.transaction() as tx:
        assert mark_deleted(tx, "pubmed", ["1"], at=AT) == 1
    assert membership(filled) == {2: (2, True), 3: (1, True)}
    result = counts(filled)
    assert (result.records_identified, result.duplicates_removed) == (2, 0)
    run_dedup(filled, clock=clock)  # the cluster keeps its name without its first record
    assert membership(filled) == {2: (2, True), 3: (1, True)}


def test_new_records_join_existing_clusters_on_rerun(filled: Store) -> None:
    run_dedup(filled, clock=clock)
    scopus = dataclasses.replace(EMBASE_COPY, source="scopus", source_id="S9")
    add_records(filled, "scopus", [scopus])
    assert membership(filled)[4] == (4, True)
    run_dedup(filled, clock=clock)
    assert membership(filled)[4] == (1, False)


# --- a decision recorded against a cluster stays with its paper ---------------------------------

NOTES = MetaData()
notes = Table(
    "test_cluster_notes",
    NOTES,
    Column("id", Integer, primary_key=True),
    Column("cluster_id", Integer, nullable=False),
    Column("note", Text, nullable=False),
)


def note_on(store: Store, cluster_id: int, text: str) -> None:
    """A plain row that names a cluster, as a screening decision will."""
    with store.transaction() as tx:
        NOTES.create_all(tx.connection)
        tx.connection.execute(insert(notes).values(cluster_id=cluster_id, note=text))


def paper_of(store: Store, note: str) -> Record:
    """The merged record of the cluster a note names, as the store resolves it now."""
    with store.read() as tx:
        cluster_id = tx.connection.execute(
            select(notes.c.cluster_id).where(notes.c.note == note)
        ).scalar_one()
    from review.dedup.workflow import membership as current

    resolved = current(store).resolve(cluster_id)
    assert resolved is not None, f"note {note!r} names cluster {cluster_id}, which is gone"
    return cluster_view(store, resolved)


PAPER_B = Record(
    source="wos",
    source_id="B1",
    title="Sodium thiosulfate for calciphylaxis in dialysis: a series of twelve patients",
    authors=ARTICLE.authors,
    journal="Kidney International",
    year=2020,
    volume="98",
    pages="301-9",
)


def test_a_decision_on_a_cluster_stays_with_its_paper_through_reruns_undo_and_imports(
    store: Store,
) -> None:
    add_records(store, "embase", [EMBASE_COPY, PAPER_B])  # records 1 and 2
    add_records(store, "pubmed", [ARTICLE])  # record 3 joins record 1's paper
    run_dedup(store, clock=clock)
    cluster = membership(store)[1][0]
    note_on(store, cluster, "include: the rituximab series")
    note_on(store, membership(store)[2][0], "exclude: calciphylaxis")
    assert paper_of(store, "include: the rituximab series").title == ARTICLE.title

    run_dedup(store, clock=clock)  # re-running changes no name
    assert membership(store)[3][0] == cluster

    scopus = dataclasses.replace(EMBASE_COPY, source="scopus", source_id="S7")
    add_records(store, "scopus", [scopus])  # a new duplicate of the same paper
    run_dedup(store, clock=clock)
    assert membership(store)[4][0] == cluster
    assert paper_of(store, "include: the rituximab series").title == ARTICLE.title

    undo_cluster(store, cluster, at=AT, by="ana")  # undo the merge
    assert membership(store)[1][0] == cluster
    assert paper_of(store, "include: the rituximab series").source_id == "E1"
    assert paper_of(store, "exclude: calciphylaxis").source_id == "B1"

    decide(store, 2, 1, "merge", at=AT, by="ana")  # a person joins the two papers' clusters
    with store.read() as tx:
        rows = tx.connection.execute(select(notes.c.note, notes.c.cluster_id)).all()
    assert len(rows) == 2  # nothing dropped or rewritten
    assert paper_of(store, "exclude: calciphylaxis").source_id == "E1"  # followed to the merge


def test_a_run_reports_each_of_its_steps_until_done(filled: Store) -> None:
    heard: list[tuple[str, int, int | None, str]] = []
    run_dedup(
        filled,
        clock=clock,
        progress=lambda phase, done, total, unit="records": heard.append(
            (phase, done, total, unit)
        ),
    )
    phases = list(dict.fromkeys(phase for phase, *_ in heard))
    assert phases == ["reading records", "preparing records", "comparing candidate pairs"]
    for phase in phases:
        last = [h for h in heard if h[0] == phase][-1]
        assert last[1] == last[2], f"{phase} never reached its total"
    assert {unit for phase, _, _, unit in heard if phase == "comparing candidate pairs"} == {
        "pairs"
    }
