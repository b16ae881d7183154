"""Clusters: constraints, primaries, stable names, merged view, order independence."""

from __future__ import annotations

import dataclasses

import pytest
from dedup_examples import ARTICLE, EMBASE_COPY, special_cases
from hypothesis import given, settings
from hypothesis import strategies as st

from review.dedup.clusters import Membership, deduplicate, merged_view, name_clusters
from review.dedup.decisions import Constraints
from review.records import Record

# --- primaries and constraints ---------------------------------------------------------------


def test_primary_is_the_pubmed_record_and_cluster_id_the_smallest_member() -> None:
    result = deduplicate([(7, EMBASE_COPY), (9, ARTICLE)])
    (cluster,) = result.clusters
    assert cluster.members == (7, 9)
    assert cluster.cluster_id == 7
    assert cluster.primary == 9
    assert result.n_duplicates == 1


def test_keep_apart_constraint_stops_a_confident_merge() -> None:
    result = deduplicate(
        [(1, ARTICLE), (2, EMBASE_COPY)], Constraints(keep_apart=frozenset({(1, 2)}))
    )
    assert result.clusters == ()
    assert result.uncertain == ()


def test_person_can_merge_across_an_automatic_veto() -> None:
    a = dataclasses.replace(ARTICLE, doi="10.1000/a1")
    b = dataclasses.replace(EMBASE_COPY, doi="10.1000/b2")
    result = deduplicate([(1, a), (2, b)], Constraints(merge=((1, 2),)))
    assert [c.members for c in result.clusters] == [(1, 2)]
    assert result.clusters[0].reasons == ((1, "primary"), (2, "merged by a person"))


# --- merged view ---------------------------------------------------------------------------


def test_merged_view_fills_the_abstract_from_another_member() -> None:
    view = merged_view([ARTICLE, EMBASE_COPY])
    assert view.abstract == "We describe five patients."
    assert view.source == "pubmed"
    assert view.journal == "Journal of Clinical Rheumatology"
    assert view.pages == "122-9"


def test_merged_view_of_one_record_is_that_record() -> None:
    assert merged_view([ARTICLE]) == ARTICLE
    with pytest.raises(ValueError, match="at least one record"):
        merged_view([])


# --- order independence --------------------------------------------------------------------


def _variants() -> list[Record]:
    records, _ = special_cases()
    extra = [
        ARTICLE,
        EMBASE_COPY,
        dataclasses.replace(EMBASE_COPY, source="scopus", source_id="S1", abstract=None),
        dataclasses.replace(ARTICLE, source_id="2", title="Erratum: " + (ARTICLE.title or "")),
        dataclasses.replace(ARTICLE, source_id="3", year=2021, volume="27", pages="1-5"),
    ]
    return records + extra


@settings(max_examples=40, deadline=None)
@given(st.permutations(list(range(len(_variants())))))
def test_clusters_do_not_depend_on_input_order(order: list[int]) -> None:
    records = _variants()
    baseline = deduplicate(list(enumerate(records)))
    shuffled = deduplicate([(i, records[i]) for i in order])
    assert {c.members for c in shuffled.clusters} == {c.members for c in baseline.clusters}
    assert {c.primary for c in shuffled.clusters} == {c.primary for c in baseline.clusters}
    assert shuffled.uncertain == baseline.uncertain


# --- stable names ---------------------------------------------------------------------------


def test_a_new_cluster_is_named_by_its_smallest_record() -> None:
    assert name_clusters([[3, 5], [4]], {}) == [3, 4]


def test_a_cluster_keeps_its_name_when_a_new_duplicate_joins() -> None:
    # cluster 7 = {7, 9}; record 2 was its own cluster and now joins it
    assert name_clusters([[2, 7, 9]], {7: 7, 9: 7}) == [2]
    # the oldest live name wins; but a later record joining keeps the cluster's name
    assert name_clusters([[7, 9, 12]], {7: 7, 9: 7}) == [7]


def test_a_reshuffle_keeps_each_name_with_the_record_it_was_given_to() -> None:
    previous = {1: 1, 2: 1, 3: 3, 4: 3}
    assert name_clusters([[1, 3], [2, 4]], previous) == [1, 2]
    assert name_clusters([[2, 3], [1, 4]], previous) == [3, 1]


def test_undoing_a_merge_gives_the_records_their_own_names_back() -> None:
    previous = {4: 4, 6: 4, 9: 4}
    assert name_clusters([[4], [6], [9]], previous) == [4, 6, 9]


def test_a_cluster_whose_anchor_was_withdrawn_keeps_its_name_where_its_members_are() -> None:
    previous = {5: 2, 6: 2, 8: 8}  # record 2 named the cluster and has been withdrawn
    assert name_clusters([[5, 6], [8]], previous) == [2, 8]
    assert name_clusters([[5], [6, 8]], previous) == [2, 8]


def test_names_are_unique_across_the_clusters_of_a_run() -> None:
    previous = {1: 1, 2: 1, 3: 1, 4: 4}
    names = name_clusters([[2], [3], [1, 4]], previous)
    assert len(set(names)) == 3
    assert names == [2, 3, 1]


def test_a_stored_name_is_resolved_to_where_its_record_went() -> None:
    current = Membership.from_rows([1, 2, 3], [(2, 1, False), (1, 1, True)])
    assert current.resolve(1) == 1
    assert current.resolve(2) == 1  # record 2's own cluster merged into cluster 1
    assert current.resolve(3) == 3
    assert current.resolve(99) is None


def test_renaming_follows_the_stored_names_through_deduplicate() -> None:
    records = [(3, EMBASE_COPY), (8, ARTICLE)]
    (cluster,) = deduplicate(records, previous={3: 8, 8: 8}).clusters
    assert cluster.cluster_id == 8
