"""RIS: the database dialects, the known broken exports, exact errors, and the round trip."""

from __future__ import annotations

import codecs
import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from review.pages import split_pages
from review.records import Author, Record
from review.sources.names import format_name, parse_name
from review.sources.ris import format_ris, parse_ris, read_ris

DATA = Path(__file__).resolve().parents[2] / "data" / "import"


def _read(name: str, source: str = "test") -> list[Record]:
    parsed = read_ris((DATA / name).read_bytes(), name, source=source)
    assert parsed.rejects == ()
    return list(parsed.records)


def test_embase_a1_authors_n2_abstract_and_crlf_are_read() -> None:
    assert b"\r\n" in (DATA / "embase.ris").read_bytes()
    first, conference, letter = _read("embase.ris", "embase")
    assert first.source == "embase"
    assert first.source_id == "2021345678"
    assert first.title == "Rituximab for calcinosis cutis in systemic sclerosis: a case report"
    assert first.authors == (
        Author(last_name="Moreau", initials="C"),
        Author(last_name="Lefebvre", initials="JP"),
        Author(last_name="Van den Berg", initials="AM"),
    )
    assert first.abstract == (
        "Calcinosis cutis is a disabling complication of systemic sclerosis. We report a "
        "woman aged 54 whose calcinosis regressed after four cycles of rituximab."
    )
    assert (first.journal, first.journal_iso) == ("Clinical Rheumatology", "Clin. Rheumatol.")
    assert (first.year, first.volume, first.issue, first.pages) == (2021, "40", "6", "2451-2455")
    assert first.doi == "10.1007/s10067-021-05555-1"
    assert first.issn == "1434-9949 (electronic)"
    assert ("SN", "0770-3198") in first.extra
    assert ("U2", "L2011234567") in first.extra
    assert ("Y1", "2021//") in first.extra
    assert conference.publication_types == ("Conference Abstract",)
    assert conference.pages == "1203"
    assert letter.extra[-2:] == (("DB", "Embase"), ("DB", "Medline"))


def test_scopus_c2_is_the_pmid_and_j2_the_abbreviation() -> None:
    first, second = _read("scopus.ris")
    assert first.pmid == "33541234"
    assert first.source_id is None
    assert first.authors[1] == Author(last_name="Lefebvre", initials="JP")
    assert (first.journal, first.journal_iso) == ("Clinical Rheumatology", "Clin. Rheumatol.")
    assert first.abstract is not None and first.abstract.endswith("(ILAR).")
    assert second.pmid is None


def test_web_of_science_wrapped_abstract_and_accession_number() -> None:
    (record,) = _read("wos.ris")
    assert record.abstract == (
        "Calcinosis cutis is a disabling complication of systemic sclerosis. We report a "
        "woman aged 54 whose calcinosis regressed after four cycles of rituximab."
    )
    assert record.source_id == "WOS:000612345600001"
    assert record.authors[0] == Author(last_name="Moreau", fore_name="Claire", initials="C")
    assert record.journal_iso == "Clin. Rheumatol."
    assert record.year == 2021
    assert ("DA", "JUN 2021") in record.extra


def test_ovid_medline_accession_number_is_the_pmid_and_doi_url_is_normalised() -> None:
    (record,) = _read("ovid_medline.ris")
    assert record.pmid == "33541234"
    assert record.source_id == "33541234"
    assert record.doi == "10.1007/s10067-021-05555-1"
    assert record.authors[2] == Author(last_name="Van den Berg", initials="AM")


def test_zotero_and_endnote_dialects() -> None:
    (zotero,) = _read("zotero.ris")
    assert (zotero.journal, zotero.journal_iso, zotero.year) == (
        "Clinical Rheumatology",
        "Clin Rheumatol",
        2021,
    )
    (endnote,) = _read("endnote.ris")
    assert endnote.source_id == "118"
    assert endnote.pmcid == "PMC7999999"
    assert endnote.pages == "2451-2455"
    assert ("N1", "1434-9949\nMoreau, Claire\nJournal Article") in endnote.extra


def test_refworks_letters_are_joined_back_into_names() -> None:
    parsed = read_ris((DATA / "refworks.ris").read_bytes(), "refworks.ris", source="refworks")
    (record,) = parsed.records
    assert [a.display for a in record.authors] == [
        "Moreau, Claire",
        "Lefebvre, Jean-Pierre",
        "Van den Berg, Anna M.",
    ]
    assert parsed.notes == (
        "refworks.ris, line 1: record 1 had its authors split into 68 one-letter lines "
        "(a RefWorks round trip); joined back into 3 names",
    )


def test_refworks_letters_that_do_not_join_are_rejected_with_a_reason() -> None:
    lines = ["TY  - JOUR", *(f"A1  - {c}" for c in "['Moreau, C'"), "TI  - X", "ER  - "]
    parsed = parse_ris("\n".join(lines), "rw.ris", source="s")
    assert parsed.records == ()
    assert [r.message for r in parsed.rejects] == [
        "rw.ris, line 1: record 1 has 12 author lines of one character each "
        "(\"['Moreau, C'\"...), the damage a RefWorks round trip does, and they do not join "
        "back into names; export the record again from the database"
    ]


def test_single_letter_author_names_are_not_mistaken_for_refworks_damage() -> None:
    text = "TY  - JOUR\nAU  - A\nAU  - B\nAU  - C\nER  - \n"
    (record,) = parse_ris(text, "x.ris", source="s").records
    assert [a.last_name for a in record.authors] == ["A", "B", "C"]


def test_semicolon_joined_authors_are_split() -> None:
    text = "TY  - JOUR\nAU  - Sanchez-Cordon, Pedro J.; Montoya, Maria\nER  - \n"
    (record,) = parse_ris(text, "x.ris", source="s").records
    assert [a.display for a in record.authors] == ["Sanchez-Cordon, Pedro J.", "Montoya, Maria"]


def test_record_without_ty_names_its_line_and_number() -> None:
    good = "TY  - JOUR\nTI  - One\nER  - \n\n"
    text = good + good + "\nT1  - Three\nA1  - Smith J.\nER  - \n" + good
    parsed = parse_ris(text, "embase.ris", source="s")
    assert len(parsed.records) == 3
    assert [r.message for r in parsed.rejects] == [
        "embase.ris, line 10: record 3 has no TY tag (it starts with T1); every RIS record "
        "starts with 'TY  - ' and ends with 'ER  - '"
    ]
    assert parsed.places == ("line 1", "line 5", "line 13")


def test_missing_er_before_next_record_and_at_end_of_file() -> None:
    text = "TY  - JOUR\nTI  - One\nTY  - JOUR\nTI  - Two\nER  - \nTY  - JOUR\nTI  - Three\n"
    parsed = parse_ris(text, "cut.ris", source="s")
    assert [r.title for r in parsed.records] == ["Two"]
    assert [r.message for r in parsed.rejects] == [
        "cut.ris, line 1: record 1 has no ER line before the next TY (line 3); "
        "the file was cut or joined badly",
        "cut.ris, line 6: record 3 has no ER line: the file ends inside it; the file was cut short",
    ]


def test_text_that_is_not_ris_is_rejected() -> None:
    parsed = parse_ris("@article{x,\n title={A}\n}\n", "refs.bib", source="s")
    assert parsed.records == ()
    assert parsed.rejects[0].message == (
        "refs.bib, line 1: '@article{x,' is not a RIS line ('XX  - value'); is this RIS?"
    )


def test_empty_ty_is_rejected() -> None:
    parsed = parse_ris("TY  - \nTI  - A\nER  - \n", "x.ris", source="s")
    assert parsed.rejects[0].message == (
        "x.ris, line 1: record 1 has an empty TY tag; give its reference type (JOUR, BOOK, ...)"
    )


def test_n2_abstract_is_kept_when_ab_is_missing_and_both_kept_when_they_differ() -> None:
    text = "TY  - JOUR\nN2  - From N2\nER  - \nTY  - JOUR\nAB  - First\nN2  - Second\nER  - \n"
    only_n2, both = parse_ris(text, "x.ris", source="s").records
    assert only_n2.abstract == "From N2"
    assert both.abstract == "First"
    assert both.extra == (("N2", "Second"),)


def test_encodings_utf16_latin1_and_bom_decode_to_the_same_record() -> None:
    text = (
        "TY  - JOUR\r\nTI  - Calcinose cutanée: réponse au rituximab\r\n"
        "AU  - Müller, Jürgen\r\nER  - \r\n"
    )
    variants = {
        "UTF-8": text.encode("utf-8"),
        "UTF-8 with BOM": codecs.BOM_UTF8 + text.encode("utf-8"),
        "UTF-16": text.encode("utf-16"),
        "Windows-1252": text.encode("cp1252"),
    }
    records = set()
    for expected, data in variants.items():
        parsed = read_ris(data, "x.ris", source="s")
        assert parsed.encoding == expected
        (record,) = parsed.records
        records.add(record)
    (record,) = records
    assert record.title == "Calcinose cutanée: réponse au rituximab"
    assert record.authors == (Author(last_name="Müller", fore_name="Jürgen", initials="J"),)


def test_casepool_bookkeeping_notes_are_not_read_back_but_labels_are() -> None:
    record = Record(source="s", record_type="JOUR", title="T")
    text = format_ris(
        record, ["casepool: record 4; source s; cluster 4 (primary)", "ASReview_relevant"]
    )
    (back,) = parse_ris(text, "x.ris", source="s").records
    assert back.extra == (("N1", "ASReview_relevant"),)


# ---------------------------------------------------------------- round trip (hypothesis)

_TEXT = (
    st.text(
        st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Co", "Cn")),
        min_size=1,
        max_size=40,
    )
    .map(lambda s: " ".join(s.split()))
    .filter(bool)
)
_OPTIONAL = st.none() | _TEXT
_PARAGRAPHS = st.lists(
    _TEXT.filter(lambda s: not re.match(r"^[A-Z][A-Z0-9]  ?-( |$)", s)), min_size=1, max_size=3
).map("\n".join)
_NAME = _TEXT.filter(lambda s: ";" not in s and len(s) > 1).map(parse_name)
_DOI = st.builds(
    lambda registrant, suffix: f"10.{registrant}/{suffix}",
    st.integers(1000, 999999999),
    st.text("abcdefghijklmnopqrstuvwxyz0123456789-._()/", min_size=1, max_size=20).filter(
        lambda s: not s.endswith(".")
    ),
)
_SAFE_EXTRA_TAGS = ("CY", "PB", "AD", "U2", "C5", "DB", "N1", "L2", "ST", "ET", "C1", "C3")
_EXTRA = st.lists(
    st.tuples(st.sampled_from(_SAFE_EXTRA_TAGS), _TEXT).filter(
        lambda p: not (p[0] == "N1" and (p[1].lower().startswith(("pmid:", "pmcid:", "casepool:"))))
    ),
    max_size=4,
)

RIS_RECORDS = st.builds(
    Record,
    source=st.just("s"),
    source_id=_OPTIONAL,
    title=_OPTIONAL,
    abstract=st.none() | _PARAGRAPHS,
    authors=st.lists(_NAME, max_size=4).map(tuple),
    journal=_OPTIONAL,
    journal_iso=_OPTIONAL,
    year=st.none() | st.integers(1500, 2999),
    volume=_OPTIONAL,
    issue=_OPTIONAL,
    pages=_OPTIONAL,
    doi=st.none() | _DOI,
    pmid=st.none() | st.integers(1, 99_999_999).map(str),
    pmcid=st.none() | st.integers(1, 99_999_999).map(lambda n: f"PMC{n}"),
    issn=_OPTIONAL,
    language=_OPTIONAL,
    record_type=st.sampled_from(["JOUR", "BOOK", "CHAP", "CONF", "ABST"]),
    url=_OPTIONAL,
    publication_types=st.lists(_TEXT, max_size=3).map(tuple),
    mesh=st.lists(_TEXT, max_size=3).map(tuple),
    keywords=st.lists(_TEXT, max_size=3).map(tuple),
    extra=_EXTRA.map(tuple),
)


def _in_full(pages: str | None) -> str | None:
    """The pages field as RIS carries it back: an abbreviated last page written in full."""
    first, last = split_pages(pages)
    return pages if last is None else f"{first}-{last}"


@settings(max_examples=150, deadline=None)
@given(st.lists(RIS_RECORDS, min_size=1, max_size=4))
def test_records_round_trip_through_ris_unchanged(records: list[Record]) -> None:
    text = "\n".join(format_ris(r) for r in records)
    parsed = parse_ris(text, "x.ris", source="s")
    assert parsed.rejects == ()
    assert list(parsed.records) == [replace(r, pages=_in_full(r.pages)) for r in records]


@pytest.mark.parametrize(
    ("pages", "lines"),
    [
        ("244-55", "SP  - 244\nEP  - 255\n"),
        ("113-25", "SP  - 113\nEP  - 125\n"),
        ("1021-4", "SP  - 1021\nEP  - 1024\n"),
        ("e24", "SP  - e24\n"),
        ("S1-S2", "SP  - S1\nEP  - S2\n"),
        ("A-F24_1-10", "SP  - A\nEP  - F24_1-10\n"),
    ],
)
def test_ris_export_writes_medline_abbreviated_last_pages_in_full(pages: str, lines: str) -> None:
    text = format_ris(Record(source="s", record_type="JOUR", title="T", pages=pages))
    assert lines in text
    assert text.count("SP  - ") == 1 and text.count("EP  - ") == lines.count("EP  - ")


@settings(max_examples=200, deadline=None)
@given(_TEXT)
def test_parsed_author_names_survive_formatting(text: str) -> None:
    author = parse_name(text)
    assert parse_name(format_name(author)) == author


def test_every_fixture_round_trips_through_ris() -> None:
    for path in sorted(DATA.glob("*.ris")):
        records = _read(path.name)
        text = "".join(format_ris(r) for r in records)
        again = parse_ris(text, path.name, source="test").records
        assert list(again) == records, path.name


def test_record_types_that_are_not_ris_codes_get_a_code_and_come_back() -> None:
    for kept, code in (("Journal Article", "JOUR"), ("inproceedings", "CPAPER"), ("misc", "GEN")):
        text = format_ris(Record(source="s", record_type=kept, title="T"))
        assert text.startswith(f"TY  - {code}\n")
        assert f"N1  - casepool-type: {kept}\n" in text
        (back,) = parse_ris(text, "x.ris", source="s").records
        assert back.record_type == kept
    assert format_ris(Record(source="s")).startswith("TY  - JOUR\n")


def test_files_joined_with_their_byte_order_marks_still_parse() -> None:
    one = codecs.BOM_UTF8 + b"TY  - JOUR\r\nTI  - One\r\nER  - \r\n"
    two = codecs.BOM_UTF8 + b"TY  - JOUR\r\nTI  - Two\r\nER  - \r\n"
    parsed = read_ris(one + two, "merged.ris", source="s")
    assert parsed.rejects == ()
    assert [r.title for r in parsed.records] == ["One", "Two"]
