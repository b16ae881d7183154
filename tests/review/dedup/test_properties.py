"""Property tests: what keeps a record the same paper merges, what makes it another never does.

A generated article (or, for issue numbers, an editorial column, the kind of item that
recurs under one title) is copied into another database with any of the changes databases
make to the same paper: title case, punctuation and accents, authors' initials instead of
fore names, the DOI's spelling, the page range's format, the journal's abbreviation. That
copy must merge. With one change that makes it another paper on top (another first page,
another DOI, a year two apart, another issue of a recurring column) it must never merge.
"""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from review.dedup.clusters import deduplicate
from review.dedup.features import journal_tokens, journals_compatible
from review.records import Author, Record

WORDS = [
    "rituximab",
    "calcinosis",
    "systemic",
    "sclerosis",
    "refractory",
    "cutaneous",
    "ulcers",
    "outcomes",
    "cohort",
    "treatment",
    "response",
    "imaging",
    "fibrosis",
    "vasculopathy",
    "patients",
    "digital",
    "thiosulfate",
    "retrospective",
    "multicentre",
    "registry",
    "biopsy",
    "serum",
    "markers",
    "inflammation",
    "remission",
]
SURNAMES = ["Müller", "Østergaard", "Núñez", "Okafor", "Lindqvist", "Duarte", "Kowalczyk"]
FORE = ["Élodie Anne", "João", "Søren", "Maria José", "Kwame", "Ingrid", "Tomás"]
JOURNALS = [
    ("Journal of Clinical Rheumatology", "J Clin Rheumatol"),
    ("Annals of the Rheumatic Diseases", "Ann Rheum Dis"),
    ("Clinical and Experimental Rheumatology", "Clin Exp Rheumatol"),
    ("Seminars in Arthritis and Rheumatism", "Semin Arthritis Rheum"),
]
ACCENTS = str.maketrans("éèüöøñúáçó", "eeuoonuaco")


def test_the_journal_pairs_are_abbreviations_of_each_other() -> None:
    for full, short in JOURNALS:
        assert journals_compatible(journal_tokens(full), journal_tokens(short))


@st.composite
def articles(draw: st.DrawFn) -> Record:
    words = draw(st.lists(st.sampled_from(WORDS), min_size=7, max_size=14))
    people = draw(st.lists(st.integers(0, len(SURNAMES) - 1), min_size=1, max_size=4, unique=True))
    first = draw(st.integers(1, 1800))
    last = first + draw(st.integers(0, 25))
    journal = draw(st.sampled_from(JOURNALS))
    doi = draw(st.one_of(st.none(), st.integers(1000, 99999).map(lambda n: f"10.5555/ex.{n}")))
    return Record(
        source="pubmed",
        source_id="1",
        title=" ".join(words).capitalize() + ": a cohort study",
        authors=tuple(Author(SURNAMES[i], FORE[i]) for i in people),
        journal=journal[0],
        journal_iso=journal[1],
        year=draw(st.integers(1990, 2024)),
        volume=str(draw(st.integers(1, 150))),
        issue=str(draw(st.integers(1, 12))),
        pages=f"{first}-{last}" if last > first else str(first),
        doi=doi,
    )


@st.composite
def same_paper(draw: st.DrawFn, record: Record) -> Record:
    """The same paper as another database exports it."""
    title = record.title or ""
    changes: dict[str, object] = {"source": "embase", "source_id": "E1"}
    case = draw(st.sampled_from([str, str.upper, str.lower, str.title]))
    punctuation = draw(st.sampled_from(["", ".", " [article]"]))
    title = case(title).replace(":", draw(st.sampled_from([":", " -", ",", ""]))) + punctuation
    changes["title"] = title.translate(ACCENTS) if draw(st.booleans()) else title
    if draw(st.booleans()):
        changes["authors"] = tuple(
            Author(
                a.last_name.translate(ACCENTS) if draw(st.booleans()) else a.last_name,
                None,
                "".join(part[0] for part in (a.fore_name or "").split()),
            )
            for a in record.authors
            if a.last_name
        )
    if record.doi and draw(st.booleans()):
        spelling = draw(st.sampled_from(["https://doi.org/{}", "doi:{}", "DOI: {}.", "{}"]))
        changes["doi"] = spelling.format(record.doi.upper())
    first, _, last = (record.pages or "").partition("-")
    if last:
        dash = draw(st.sampled_from(["-", "--", " -- ", "–"]))
        changes["pages"] = f"{first}{dash}{draw(st.sampled_from([last, abbreviated(first, last)]))}"
    if draw(st.booleans()):
        changes["journal"] = record.journal_iso
    return dataclasses.replace(record, **changes)  # type: ignore[arg-type]


def abbreviated(first: str, last: str) -> str:
    """MEDLINE's last page: without the leading digits it shares with the first (205-26)."""
    shared = 0
    while shared < len(last) - 1 and len(first) == len(last) and first[shared] == last[shared]:
        shared += 1
    return last[shared:]


def merges(a: Record, b: Record) -> bool:
    result = deduplicate([(1, a), (2, b)])
    return any(set(c.members) == {1, 2} for c in result.clusters)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_what_keeps_a_record_the_same_paper_still_merges(data: st.DataObject) -> None:
    record = data.draw(articles())
    copy = data.draw(same_paper(record))
    assert merges(record, copy), (record, copy)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_what_makes_it_another_paper_never_merges(data: st.DataObject) -> None:
    record = data.draw(articles())
    copy = data.draw(same_paper(record))
    change = data.draw(st.sampled_from(["pages", "doi", "year"]))
    first = int((record.pages or "1").split("-")[0])
    if change == "pages":  # another paper does not carry this one's DOI either
        moved = first + 40 if first < 1700 else first - 40
        copy = dataclasses.replace(copy, pages=f"{moved}-{moved + 9}", doi=None)
    elif change == "doi":
        record = dataclasses.replace(record, doi=record.doi or "10.5555/ex.1")
        copy = dataclasses.replace(copy, doi="10.5555/other.2")
    else:
        copy = dataclasses.replace(copy, year=(record.year or 2000) + 2, doi=None)
    assert not merges(record, copy), (change, record, copy)


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(["Editor's comments", "In this issue", "Letter from the editor"]),
    st.integers(1, 11),
    st.booleans(),
)
def test_a_recurring_column_in_another_issue_never_merges(
    title: str, issue: int, abbreviated: bool
) -> None:
    column = Record(
        source="pubmed",
        source_id="1",
        title=title,
        authors=(Author("Hartmann", "Elena"),),
        journal="Journal of Clinical Rheumatology",
        year=2019,
        volume="25",
        issue=str(issue),
        pages="1",
    )
    same = dataclasses.replace(
        column,
        source="embase",
        source_id="E1",
        title=title.upper(),
        journal="J Clin Rheumatol" if abbreviated else column.journal,
    )
    assert merges(column, same)
    assert not merges(column, dataclasses.replace(same, issue=str(issue + 1)))
