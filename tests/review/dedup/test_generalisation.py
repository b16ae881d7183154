"""The classes of real-world record that the first rules got wrong on bibliographies they were
never tuned on, each both ways: the duplicates merge, the look-alikes never do.

Every record here was written for these tests (fictional titles, authors and DOIs); none is
copied from a benchmark set.
"""

from __future__ import annotations

import dataclasses

import pytest

from review.dedup.clusters import deduplicate
from review.records import Author, Record, doi_list, normalise_doi

EDITOR = (Author("Hartmann", "Elena"),)


def clusters(*records: Record) -> set[frozenset[int]]:
    """The clusters deduplicate forms, as sets of positions in ``records``."""
    result = deduplicate(list(enumerate(records)))
    return {frozenset(c.members) for c in result.clusters}


def merged(*records: Record) -> bool:
    return clusters(*records) == {frozenset(range(len(records)))}


def apart(*records: Record) -> bool:
    return clusters(*records) == set()


# --- 1. recurring titles -----------------------------------------------------------------------


def column(title: str, issue: str, pages: str, source: str = "embase", **extra: str) -> Record:
    return Record(
        source=source,
        source_id=f"{source}-{title}-{issue}-{pages}",
        title=title,
        authors=EDITOR,
        journal="Journal of Examples",
        year=2019,
        volume="41",
        issue=issue,
        pages=pages,
        **extra,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    "title",
    [
        "Editor's comments",
        "Letter from the editor",
        "In this issue",
        "Guest editorial",
        "Erratum",
        "Corrigendum",
        "Society news",
        "Meeting announcements",
        "From the editor's desk",
    ],
)
def test_a_recurring_title_in_another_issue_or_on_another_page_is_another_item(title: str) -> None:
    first = column(title, "1", "1")
    assert apart(first, column(title, "2", "1", source="wos"))
    assert apart(first, column(title, "1", "77", source="wos"))
    assert apart(first, dataclasses.replace(column(title, "1", "1", source="wos"), volume="42"))


def test_the_same_recurring_item_from_two_databases_still_merges() -> None:
    embase = column("Editor's comments", "3", "201", source="embase")
    wos = column("EDITOR'S COMMENTS", "3", "201-202", source="wos")
    assert merged(embase, wos)


def test_a_title_the_bibliography_prints_at_many_places_is_treated_as_recurring() -> None:
    images = [column("Images in rheumatology", "1", str(page)) for page in (11, 57, 93)]
    scopus = dataclasses.replace(images[0], source="scopus", source_id="s1", issue=None)
    assert clusters(*images, scopus) == {frozenset({0, 3})}


# --- 2. one DOI, several spellings -------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    [
        "10.1016/s0000-1111(17)30222-3",
        "http://dx.doi.org/10.1016/S0000-1111%2817%2930222-3",
        "https://doi.org/10.1016/S0000-1111(17)30222-3",
        "doi:10.1016/S0000-1111(17)30222-3.",
        "DOI: 10.1016/S0000-1111(17)30222-3;",
        "10.1016/S0000-1111(17)30222-3 10.1016/s0000-1111(17)30222-3",
    ],
)
def test_every_spelling_of_a_doi_is_the_same_doi(spelling: str) -> None:
    assert normalise_doi(spelling) == "10.1016/s0000-1111(17)30222-3"


def test_several_dois_in_one_field_and_non_dois() -> None:
    assert doi_list("10.1000/a1; https://doi.org/10.1000/B2") == ("10.1000/a1", "10.1000/b2")
    assert normalise_doi("NA") is None
    assert normalise_doi("https://www.example-journal.org/article/123") is None
    assert normalise_doi("10.1002/(SICI)1097-4636(199606)31:2<185::AID-JBM6>3.0.CO;2-M") == (
        "10.1002/(sici)1097-4636(199606)31:2<185::aid-jbm6>3.0.co;2-m"
    )


ARTICLE = Record(
    source="pubmed",
    source_id="1",
    title="Intralesional sodium thiosulfate for calcinosis cutis in limited systemic sclerosis",
    authors=(Author("Okafor", "Nnamdi"), Author("Lindqvist", "Maja"), Author("Duarte", "Rui")),
    journal="Journal of Examples",
    year=2020,
    volume="12",
    issue="4",
    pages="233-241",
)


def test_one_doi_spelled_two_ways_is_no_conflict_and_two_dois_are() -> None:
    a = dataclasses.replace(ARTICLE, doi="10.1016/s0000-1111(17)30222-3")
    b = dataclasses.replace(
        ARTICLE,
        source="embase",
        source_id="E1",
        doi="http://dx.doi.org/10.1016/S0000-1111%2817%2930222-3",
        pages="233-41",
    )
    assert merged(a, b)
    other = dataclasses.replace(b, doi="10.1016/s0000-1111(17)30999-9")
    assert apart(a, other)


def test_a_field_with_two_dois_matches_a_record_with_either() -> None:
    a = dataclasses.replace(ARTICLE, doi="10.1000/print.12; 10.1000/online.12")
    b = dataclasses.replace(
        ARTICLE, source="scopus", source_id="S1", doi="10.1000/online.12", title=None
    )
    assert merged(a, b)


def test_a_doi_that_is_not_a_doi_is_missing_not_a_conflict() -> None:
    a = dataclasses.replace(ARTICLE, doi="10.1000/xyz.1")
    b = dataclasses.replace(ARTICLE, source="ebsco", source_id="X", doi="NA")
    assert b.doi is None
    assert merged(a, b)


# --- 3. Embase conference containers ------------------------------------------------------------


ABSTRACT = Record(
    source="embase",
    source_id="E7",
    title="Rituximab in refractory calcinosis: a multicentre retrospective cohort",
    authors=(Author("Brandt", "Ines"), Author("Costa", "Paulo")),
    journal="Journal of Examples. Conference: 12th Annual Meeting of the Example Society",
    year=2021,
    volume="73",
    issue="Suppl 1",
    publication_types=("Conference Abstract",),
)


@pytest.mark.parametrize(
    ("journal", "issue"),
    [
        ("Journal of Examples", "SUPPL. 1"),
        ("Journal of Examples Supplements", "Supplement 1"),
        ("Journal of Examples. Conference: 12th Annual Meeting", "S1"),
    ],
)
def test_one_conference_abstract_in_two_containers_merges(journal: str, issue: str) -> None:
    other = dataclasses.replace(
        ABSTRACT, source="wos", source_id="W7", journal=journal, issue=issue
    )
    assert merged(ABSTRACT, other)


def test_a_conference_abstract_stays_apart_from_its_full_article() -> None:
    article = dataclasses.replace(
        ABSTRACT,
        source="pubmed",
        source_id="31",
        journal="Journal of Examples",
        year=2022,
        volume="74",
        issue="2",
        pages="301-312",
        publication_types=("Journal Article",),
    )
    assert apart(ABSTRACT, article)


def test_abstracts_in_different_supplements_are_two_abstracts() -> None:
    other = dataclasses.replace(ABSTRACT, source="wos", source_id="W8", issue="Suppl 2")
    assert apart(ABSTRACT, other)


# --- 4. proceedings -----------------------------------------------------------------------------


PAPER = Record(
    source="aisel",
    source_id="A1",
    title="Algorithmic Control of Platform Workers: A Field Study of Ride-Hailing Drivers",
    authors=(Author("Marchetti", "Giulia"), Author("Osei", "Kwame")),
    year=2018,
    volume="2018-September",
    pages="115-129",
    record_type="inproceedings",
    extra=(("booktitle", "Proceedings of the International Conference on Examples"),),
)


def test_a_proceedings_paper_from_two_databases_merges() -> None:
    scopus = Record(
        source="scopus",
        source_id="S9",
        title="Algorithmic control of platform workers: a field study of ride-hailing drivers",
        authors=(Author("Marchetti", None, "G."), Author("Osei", None, "K.")),
        year=2018,
        volume="2018",
        pages="115--129",
        record_type="conference paper",
        extra=(("T2", "ICE 2018 Proceedings"),),
    )
    assert merged(PAPER, scopus)


def test_two_proceedings_papers_with_the_same_title_in_different_years_stay_apart() -> None:
    later = dataclasses.replace(PAPER, source="scopus", source_id="S10", year=2020, pages="5-19")
    assert apart(PAPER, later)


# --- 5. subtitles and truncation ----------------------------------------------------------------


LONG = Record(
    source="pubmed",
    source_id="77",
    title=(
        "Diminished control in crowdsourcing: an investigation of crowdworker multitasking "
        "behaviour across three platforms"
    ),
    authors=(Author("Gould", "Sandy"), Author("Cox", "Anna"), Author("Brumby", "Duncan")),
    journal="ACM Transactions on Examples",
    year=2016,
    volume="23",
    pages="1-29",
)


def test_a_title_without_its_subtitle_merges_when_authors_year_and_pages_agree() -> None:
    short = dataclasses.replace(
        LONG, source="acm", source_id="a1", title="Diminished control in crowdsourcing"
    )
    assert merged(LONG, short)


def test_a_title_cut_at_a_length_limit_merges() -> None:
    cut = dataclasses.replace(LONG, source="ebsco", source_id="e1", title=(LONG.title or "")[:64])
    assert merged(LONG, cut)


def test_a_shortened_title_with_other_pages_or_authors_does_not_merge() -> None:
    short = dataclasses.replace(
        LONG, source="acm", source_id="a2", title="Diminished control in crowdsourcing"
    )
    assert apart(LONG, dataclasses.replace(short, pages="30-58"))
    assert apart(LONG, dataclasses.replace(short, authors=(Author("Pereira", "Luis"),)))


def test_one_abstract_presented_at_two_meetings_in_two_journals_stays_two_records() -> None:
    """The same abstract in two journals' meeting supplements of one year is two
    presentations, even when neither record gives a volume or a page."""
    first = dataclasses.replace(ABSTRACT, volume=None, issue=None)
    second = dataclasses.replace(
        first,
        source="embase",
        source_id="E9",
        journal="Transplantation. Conference: World Transplant Congress",
    )
    assert apart(first, second)
