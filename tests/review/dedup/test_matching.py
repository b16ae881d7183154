"""Pair verdicts and vetoes: what merges, what waits for a person, what never merges."""

from __future__ import annotations

import dataclasses

import pytest
from dedup_examples import ARTICLE, EMBASE_COPY, clusters_by_source_id, special_cases

from review.dedup.clusters import deduplicate
from review.dedup.features import (
    features,
)
from review.dedup.matching import compare
from review.records import Author, Record

# --- matching and vetoes -------------------------------------------------------------------


def test_special_cases_are_clustered_exactly_as_the_ground_truth() -> None:
    records, truth = special_cases()
    assert clusters_by_source_id(records) == truth


def test_abbreviated_journal_and_page_range_still_merge() -> None:
    verdict = compare(features(ARTICLE), features(EMBASE_COPY))
    assert verdict.verdict == "same"
    assert clusters_by_source_id([ARTICLE, EMBASE_COPY]) == {frozenset({"1", "E1"})}


def test_conflicting_doi_vetoes_an_otherwise_identical_pair() -> None:
    a = dataclasses.replace(ARTICLE, doi="10.1000/a1")
    b = dataclasses.replace(EMBASE_COPY, doi="10.1000/b2")
    assert compare(features(a), features(b)).reason == "different DOI"
    assert clusters_by_source_id([a, b]) == set()


def test_conflicting_pmid_vetoes_a_merge() -> None:
    a = dataclasses.replace(ARTICLE, pmid="111")
    b = dataclasses.replace(EMBASE_COPY, pmid="222")
    assert clusters_by_source_id([a, b]) == set()


def test_same_doi_merges_despite_other_differences() -> None:
    a = dataclasses.replace(ARTICLE, doi="https://doi.org/10.1000/X1", pages=None, volume=None)
    b = dataclasses.replace(EMBASE_COPY, doi="10.1000/x1", year=2020, journal="Other")
    assert compare(features(a), features(b)).reason == "same DOI"
    assert clusters_by_source_id([a, b]) == {frozenset({"1", "E1"})}


@pytest.mark.parametrize(
    "title",
    [
        "Erratum: Rituximab for calcinosis cutis in systemic sclerosis: a case series",
        "Comment on: Rituximab for calcinosis cutis in systemic sclerosis: a case series",
        "Rituximab for calcinosis cutis in systemic sclerosis: a case series - Reply",
        "Retraction: Rituximab for calcinosis cutis in systemic sclerosis: a case series",
    ],
)
def test_notice_is_never_merged_with_its_article(title: str) -> None:
    notice = dataclasses.replace(EMBASE_COPY, title=title, pages="130")
    assert clusters_by_source_id([ARTICLE, notice]) == set()


def test_conference_abstract_is_not_merged_with_its_article() -> None:
    abstract = dataclasses.replace(
        EMBASE_COPY,
        journal="Annals of the Rheumatic Diseases. Conference: EULAR 2018",
        year=2018,
        volume="77",
        pages="A1234",
    )
    assert compare(features(ARTICLE), features(abstract)).reason == "article vs conference"
    assert clusters_by_source_id([ARTICLE, abstract]) == set()


def test_chain_of_similar_records_does_not_join_two_papers() -> None:
    """B is close to A and to C, but A and C are two years apart: B may join one, not both."""
    base = dataclasses.replace(ARTICLE, volume=None, pages=None, journal="Rheumatology")
    a = dataclasses.replace(base, source_id="A", year=2018)
    b = dataclasses.replace(base, source_id="B", year=2019)
    c = dataclasses.replace(base, source_id="C", year=2020)
    clusters = clusters_by_source_id([a, b, c])
    assert all(not {"A", "C"} <= cluster for cluster in clusters)


def test_titles_that_differ_only_in_a_number_wait_for_a_person() -> None:
    one = dataclasses.replace(ARTICLE, title="FOCUS 1: a randomised trial of ceftaroline")
    two = dataclasses.replace(
        EMBASE_COPY, title="FOCUS 2: a randomised trial of ceftaroline", pages="130-9"
    )
    assert compare(features(one), features(two)).reason == "titles differ in a number"
    result = deduplicate([(1, one), (2, two)])
    assert result.clusters == ()
    assert [(m.a, m.b) for m in result.uncertain] == [(1, 2)]


def test_same_title_without_corroboration_is_queued_not_merged() -> None:
    a = Record(source="scopus", source_id="S", title="Calcinosis cutis treated with rituximab")
    b = Record(source="wos", source_id="W", title="Calcinosis cutis treated with rituximab")
    result = deduplicate([(10, a), (20, b)])
    assert result.clusters == ()
    assert [(m.a, m.b) for m in result.uncertain] == [(10, 20)]


def test_identical_titles_meet_even_when_their_start_and_end_blocks_are_oversized() -> None:
    # 450 titles share the first and last 24 letters, so those blocks are not expanded;
    # two records with one identical title must still be compared.
    crowd = [
        Record(
            source="s",
            source_id=f"c{i}",
            title=f"Rituximab in the treatment of calcinosis, patient {i}: a systematic review "
            "and meta-analysis",
            year=2019,
        )
        for i in range(450)
    ]
    title = (
        "Rituximab in the treatment of calcinosis in the Lyon cohort: a systematic review "
        "and meta-analysis"
    )
    pair = [Record(source=s, source_id=s, title=title, year=2019) for s in ("a", "b")]
    result = deduplicate(list(enumerate([*crowd, *pair], start=1)))
    assert [(m.a, m.b, m.reason) for m in result.uncertain] == [
        (451, 452, "same title, too little else to confirm")
    ]


def test_number_typo_is_tolerated_at_the_same_volume_and_page() -> None:
    one = dataclasses.replace(ARTICLE, title="p16INK4a expression in cervical neoplasia grade 2")
    typo = dataclasses.replace(
        EMBASE_COPY, title="p6INK4a expression in cervical neoplasia grade 2"
    )
    assert compare(features(one), features(typo)).reason == "title, volume and pages agree"


def test_abstract_without_place_is_not_merged_on_title_authors_and_year_alone() -> None:
    """A supplement abstract and an article lacking volume and pages: ask, do not merge."""
    article = dataclasses.replace(ARTICLE, volume=None, pages=None, issue=None)
    abstract = dataclasses.replace(EMBASE_COPY, issue="Suppl. 1", pages="57-58", volume="26")
    assert compare(features(article), features(abstract)).verdict == "maybe"


def test_generic_title_with_several_conflicts_is_not_queued() -> None:
    a = Record(
        source="pubmed",
        source_id="A",
        title="Atypical hemolytic uremic syndrome",
        year=2009,
        authors=(Author("Noris", "M"),),
        journal="N Engl J Med",
        volume="361",
        pages="1676-87",
    )
    b = Record(
        source="embase",
        source_id="B",
        title="Atypical haemolytic uraemic syndrome",
        year=2010,
        authors=(Author("Kavanagh", "D"),),
        journal="Curr Opin Hematol",
        volume="17",
        pages="432-8",
    )
    verdict = compare(features(a), features(b))
    assert (verdict.verdict, verdict.reason) == (
        "distinct",
        "different authors, volume, pages, journal, year",
    )


def test_a_title_inside_another_is_queued_with_its_real_similarity() -> None:
    from rapidfuzz.distance import Indel

    short = Record(source="scopus", source_id="S", title="Calcinosis cutis and rituximab")
    long_ = Record(
        source="wos",
        source_id="W",
        title="Refractory calcinosis cutis and rituximab: a report of three patients",
    )
    verdict = compare(features(short), features(long_))
    assert verdict.verdict == "maybe"
    assert verdict.reason == "one title contains the other"
    expected = Indel.normalized_similarity(features(short).title, features(long_).title)
    assert verdict.score == pytest.approx(expected)
    assert 0.5 < verdict.score < 0.85
