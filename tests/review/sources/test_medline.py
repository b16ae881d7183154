"""MEDLINE/nbib: fields, per-author affiliations, exact errors, and the trip through RIS."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from review.records import Author, Record
from review.sources.medline import parse_medline, read_medline
from review.sources.ris import format_ris, parse_ris

DATA = Path(__file__).resolve().parents[2] / "data" / "import"


def _records() -> tuple[Record, ...]:
    parsed = read_medline((DATA / "pubmed.nbib").read_bytes(), "pubmed.nbib", source="pubmed")
    assert parsed.rejects == ()
    return parsed.records


def test_nbib_fields_are_read() -> None:
    first, second = _records()
    assert (first.pmid, first.source_id, first.pmcid) == ("33541234", "33541234", "PMC7999999")
    assert first.title == "Rituximab for calcinosis cutis in systemic sclerosis: a case report."
    assert first.abstract == (
        "INTRODUCTION: Calcinosis cutis is a disabling complication of systemic sclerosis. "
        "CASE: We report a woman aged 54 whose calcinosis regressed after four cycles of "
        "rituximab."
    )
    assert (first.journal, first.journal_iso) == ("Clinical rheumatology", "Clin Rheumatol")
    assert (first.year, first.volume, first.issue, first.pages) == (2021, "40", "6", "2451-2455")
    assert first.doi == "10.1007/s10067-021-05555-1"
    assert first.publication_types == ("Case Reports", "Journal Article")
    assert "Calcinosis/*drug therapy" in first.mesh
    assert first.keywords == ("B-cell depletion", "Calcinosis cutis")
    assert ("medline:DP", "2021 Jun") in first.extra
    assert ("medline:IS", "0770-3198 (Linking)") in first.extra
    assert ("medline:AID", "10.1007/s10067-021-05555-1 [doi]") not in first.extra
    assert second.abstract is None and second.year == 2019


def test_affiliations_stay_with_their_author_and_group_authors_are_kept() -> None:
    first, _ = _records()
    assert first.authors == (
        Author(
            last_name="Moreau",
            fore_name="Claire",
            initials="C",
            affiliations=("Department of Internal Medicine, University Hospital, Lyon, France.",),
        ),
        Author(
            last_name="Lefebvre",
            fore_name="Jean-Pierre",
            initials="JP",
            affiliations=(
                "Department of Rheumatology, University Hospital, Lyon, France.",
                "Inserm U1111, Lyon, France.",
            ),
        ),
        Author(last_name="Van den Berg", fore_name="Anna M", initials="AM"),
        Author(collective_name="French Calcinosis Study Group"),
    )


def test_au_lines_without_fau_are_read_as_medline_names() -> None:
    (record,) = parse_medline(
        "PMID- 1\nAU  - Smith JA\nAU  - Jones B\n", "x.nbib", source="s"
    ).records
    assert record.authors == (
        Author(last_name="Smith", initials="JA"),
        Author(last_name="Jones", initials="B"),
    )


def test_bad_pmid_and_bad_line_are_rejected_with_their_line() -> None:
    text = "PMID- 1\nTI  - Good\n\nPMID- abc\nTI  - Bad\n\nPMID- 3\nthis is not a tag line\n"
    parsed = parse_medline(text, "export.nbib", source="s")
    assert [r.title for r in parsed.records] == ["Good"]
    assert [r.message for r in parsed.rejects] == [
        "export.nbib, line 4: record 2 has PMID 'abc', which is not a PMID (digits)",
        "export.nbib, line 7: record 3 has a line that is neither 'TAG - value' nor a "
        "continuation indented by six spaces (line 8: 'this is not a tag line')",
    ]


def test_a_file_that_is_not_medline_is_rejected() -> None:
    parsed = parse_medline("", "empty.nbib", source="s")
    assert [r.message for r in parsed.rejects] == [
        "empty.nbib, line 1: no MEDLINE records ('PMID- ' lines); is it nbib?"
    ]


def test_crlf_and_utf16_nbib_read_like_the_original() -> None:
    text = (DATA / "pubmed.nbib").read_text(encoding="utf-8")
    crlf = read_medline(text.replace("\n", "\r\n").encode("utf-8"), "a.nbib", source="pubmed")
    utf16 = read_medline(text.encode("utf-16"), "b.nbib", source="pubmed")
    assert crlf.records == utf16.records == _records()


def test_nbib_records_keep_their_fields_through_ris_export_and_import() -> None:
    """nbib is import-only: its records must survive an export to RIS and back."""
    for record in _records():
        (back,) = parse_ris(format_ris(record), "x.ris", source="pubmed").records
        for name in (
            "source_id",
            "title",
            "abstract",
            "journal",
            "journal_iso",
            "year",
            "volume",
            "issue",
            "pages",
            "doi",
            "pmid",
            "pmcid",
            "issn",
            "language",
            "publication_types",
            "mesh",
            "keywords",
        ):
            assert getattr(back, name) == getattr(record, name), name
        assert back.authors == tuple(replace(a, affiliations=()) for a in record.authors)


def test_nbib_files_joined_with_their_byte_order_marks_still_parse() -> None:
    one = b"\xef\xbb\xbfPMID- 1\nTI  - One\n\n"
    two = b"\xef\xbb\xbfPMID- 2\nTI  - Two\n"
    parsed = read_medline(one + two, "merged.nbib", source="s")
    assert parsed.rejects == ()
    assert [r.title for r in parsed.records] == ["One", "Two"]
