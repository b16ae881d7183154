"""CSV/TSV: the tools' column names, encodings, exact errors, neutralisation, round trips."""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from review.errors import ParseError
from review.records import Author, Record
from review.sources.names import parse_name
from review.sources.tabular import (
    EXPORT_COLUMNS,
    neutralise,
    read_delimited,
    record_cells,
    unneutralise,
)
from review.sources.xlsx import read_xlsx

DATA = Path(__file__).resolve().parents[2] / "data" / "import"
SHARED = Path(__file__).resolve().parents[4] / "shared" / "data"


def _read(name: str) -> tuple[Record, ...]:
    parsed = read_delimited((DATA / name).read_bytes(), name, source="s")
    assert parsed.rejects == ()
    return parsed.records


def test_rayyan_columns_and_and_separated_authors() -> None:
    first, second = _read("rayyan.csv")
    assert first.source_id == "rayyan-101"
    assert [a.display for a in first.authors] == ["Moreau, C", "Lefebvre, JP", "Van den Berg, AM"]
    assert (first.journal, first.issn, first.year, first.pages) == (
        "Clinical Rheumatology",
        "0770-3198",
        2021,
        "2451-2455",
    )
    assert first.keywords == ("calcinosis", "rituximab")
    assert ("publisher", "Springer") in first.extra
    assert ("notes", 'RAYYAN-INCLUSION: {"Ana"=>"Included"}') in first.extra
    assert second.doi is None and second.abstract is None


def test_covidence_windows_1252_crlf_is_decoded() -> None:
    parsed = read_delimited((DATA / "covidence.csv").read_bytes(), "covidence.csv", source="s")
    assert parsed.encoding == "Windows-1252"
    first, second = parsed.records
    assert first.title == "Calcinose cutanée et rituximab : à propos d’un cas"
    assert first.abstract == "Une femme de 54 ans – sclérodermie systémique."
    assert first.authors[1] == Author(last_name="Müller", initials="K")
    assert first.source_id == "#12"
    assert first.year == 2020
    assert ("Published Month", "Mar") in first.extra
    assert second.authors[1] == Author(last_name="Lefebvre", initials="JP")


def test_zotero_csv_with_bom() -> None:
    parsed = read_delimited((DATA / "zotero.csv").read_bytes(), "zotero.csv", source="s")
    assert parsed.encoding == "UTF-8 with BOM"
    (record,) = parsed.records
    assert record.source_id == "ABCD1234"
    assert record.record_type == "journalArticle"
    assert record.authors[1] == Author(last_name="Lefebvre", fore_name="Jean-Pierre", initials="JP")
    assert (record.journal, record.journal_iso) == ("Clinical Rheumatology", "Clin Rheumatol")
    assert record.keywords == ("Calcinosis", "Rituximab")
    assert record.abstract == "Calcinosis cutis is a disabling complication of systemic sclerosis."
    assert ("Extra", "PMID: 33541234") in record.extra


def test_asreview_csv_multiline_cell_labels_and_neutralised_cells() -> None:
    first, second, third = _read("asreview.csv")
    assert first.source_id == "0"
    assert first.pmid == "33541234"
    assert first.abstract == (
        "Calcinosis cutis is a disabling complication.\nSecond paragraph of the abstract."
    )
    assert ("included", "1") in first.extra
    assert second.title == '=HYPERLINK("http://example.org","click")'
    assert third.title == "-12 degrees: cold-induced calcinosis?"


def test_bib_dedupe_and_cohen_headers_are_understood() -> None:
    header = '"ID","title","year","author","pages","volume","number","ENTRYTYPE","journal"\n'
    row = (
        '"id_0000004","Complement dysfunction",2006,"Zipfel, P. F. and Skerka, C.",'
        '"548-555",18,5,"article","Curr Opin"\n'
    )
    (record,) = read_delimited((header + row).encode(), "pre.csv", source="s").records
    assert (record.source_id, record.year, record.issue, record.record_type) == (
        "id_0000004",
        2006,
        "5",
        "article",
    )
    assert [a.display for a in record.authors] == ["Zipfel, PF", "Skerka, C"]
    cohen = (
        "record_id,pubmedID,title,authors,abstract,year\n7,10051933,T,E J Reimer; G S Dunn,,1999\n"
    )
    (record,) = read_delimited(cohen.encode(), "ADHD.csv", source="s").records
    assert (record.source_id, record.pmid) == ("7", "10051933")
    assert record.authors == (
        Author(last_name="Reimer", initials="EJ"),
        Author(last_name="Dunn", initials="GS"),
    )


def test_web_of_science_tab_delimited_and_scopus_csv_headers() -> None:
    wos = (
        "PT\tAU\tTI\tSO\tDT\tDE\tAB\tSN\tJ9\tJI\tPY\tVL\tIS\tBP\tEP\tDI\tPM\tUT\r\n"
        "J\tMoreau, C; Lefebvre, JP\tRituximab for calcinosis\tCLINICAL RHEUMATOLOGY\tArticle\t"
        "calcinosis; rituximab\tAn abstract.\t0770-3198\tCLIN RHEUMATOL\tClin. Rheumatol.\t2021\t"
        "40\t6\t2451\t2455\t10.1007/s10067-021-05555-1\t33541234\tWOS:000612345600001\r\n"
    )
    data = codecs.BOM_UTF8 + wos.encode("utf-8")
    (record,) = read_delimited(data, "savedrecs.txt", source="s", delimiter="\t").records
    assert (record.source_id, record.journal, record.journal_iso) == (
        "WOS:000612345600001",
        "CLINICAL RHEUMATOLOGY",
        "Clin. Rheumatol.",
    )
    assert (record.pages, record.doi, record.pmid, record.record_type) == (
        "2451-2455",
        "10.1007/s10067-021-05555-1",
        "33541234",
        "Article",
    )
    assert record.keywords == ("calcinosis", "rituximab")
    assert record.extra == (("PT", "J"), ("J9", "CLIN RHEUMATOL"))
    scopus = (
        "Authors,Title,Year,Source title,Volume,Issue,Page start,Page end,DOI,Abstract,"
        "PubMed ID,Language of Original Document,Abbreviated Source Title,Document Type,EID\n"
        '"Moreau C., Lefebvre J.-P.",Rituximab,2021,Clinical Rheumatology,40,6,2451,2455,'
        "10.1007/s10067-021-05555-1,An abstract.,33541234,English,Clin. Rheumatol.,Article,"
        "2-s2.0-85101234567\n"
    )
    (record,) = read_delimited(scopus.encode(), "scopus.csv", source="s").records
    assert record.authors == (
        Author(last_name="Moreau", initials="C"),
        Author(last_name="Lefebvre", initials="JP"),
    )
    assert (record.source_id, record.pages, record.language) == (
        "2-s2.0-85101234567",
        "2451-2455",
        "English",
    )


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared data folder not present")
def test_every_shared_benchmark_and_screening_file_reads_without_rejects() -> None:
    files = [
        *SHARED.glob("dedup/*/records_pre_merged.csv"),
        SHARED / "screening/cohen2006/ADHD.csv",
    ]
    for path in files:
        parsed = read_delimited(path.read_bytes(), path.name, source="s")
        assert parsed.rejects == (), path
        assert all(r.source_id for r in parsed.records), path


def test_text_in_the_year_column_names_row_and_column() -> None:
    rows = ["title,year"] + [f"Paper {i},2001" for i in range(2, 812)] + ["Paper 812,n.d."]
    parsed = read_delimited("\n".join(rows).encode(), "records.csv", source="s")
    assert len(parsed.records) == 810
    assert [r.message for r in parsed.rejects] == [
        "records.csv, row 812, column 'year': 'n.d.' is not a year"
    ]


def test_bad_pmid_and_ragged_rows_are_rejected() -> None:
    text = 'Title,PMID\nA,123\nB,PMC99\nC,"4",extra cell\n'
    parsed = read_delimited(text.encode(), "r.csv", source="s")
    assert [r.message for r in parsed.rejects] == [
        "r.csv, row 3, column 'PMID': 'PMC99' is not a PMID",
        "r.csv, row 4: has 3 cells but the header has 2; a quote or delimiter inside a "
        "value is probably unbalanced",
    ]


def test_an_unclosed_quote_is_refused_instead_of_swallowing_the_rest_of_the_file() -> None:
    text = (
        'title,year,doi\nFirst,2019,10.1/a\n"Unclosed title,2020,10.1/b\nThird,2021,\nLast,2022,\n'
    )
    with pytest.raises(ParseError) as error:
        read_delimited(text.encode(), "export.csv", source="s")
    assert str(error.value) == (
        "export.csv, line 3: a quoted value starts here and is never closed, so the rest of "
        "the file would be read as one cell; close the quote (a quote inside a quoted value "
        'is written "") and import again'
    )


def test_quotes_that_close_or_sit_inside_a_cell_are_not_an_unclosed_quote() -> None:
    text = (
        'title,abstract,year\nA "quoted" word,"two\nlines, ""and"" a quote",2020\n'
        '"Closed" then text,"",2021\nLast,"multi\r\nline",2022\n'
    )
    parsed = read_delimited(text.encode(), "ok.csv", source="s")
    assert [r.title for r in parsed.records] == ['A "quoted" word', "Closed then text", "Last"]
    assert parsed.records[0].abstract == 'two\nlines, "and" a quote'


def test_an_unclosed_quote_past_the_field_size_limit_gets_the_same_advice() -> None:
    text = 'title,year\nA,2020\n"B,2021\n' + "".join(f"T{i},2022\n" for i in range(20_000))
    with pytest.raises(ParseError, match=r"^big\.csv, line 3: a quoted value starts here"):
        read_delimited(text.encode(), "big.csv", source="s")


def test_a_table_without_title_doi_or_pmid_is_refused() -> None:
    with pytest.raises(ParseError) as error:
        read_delimited(b"name,age\nx,3\n", "people.csv", source="s")
    assert str(error.value) == (
        "people.csv, row 1: no column for the title, DOI or PMID (the header has 'name', "
        "'age'); name one of them 'title', 'doi' or 'pmid'"
    )


def test_tsv_and_semicolon_csv() -> None:
    tsv = "title\tauthors\tyear\nA study\tSmith, J; Jones, K\t2020\n"
    (record,) = read_delimited(tsv.encode(), "x.tsv", source="s", delimiter="\t").records
    assert (record.title, len(record.authors), record.year) == ("A study", 2, 2020)
    semicolons = "title;year;doi\nA study;2020;10.1000/xyz\n"
    (record,) = read_delimited(semicolons.encode(), "x.csv", source="s").records
    assert (record.title, record.year, record.doi) == ("A study", 2020, "10.1000/xyz")


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+1", "'+1"),
        ("-5", "'-5"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'=x", "''=x"),
        ("'x", "'x"),
        ("plain", "plain"),
    ],
)
def test_neutralise_prefixes_formula_cells_and_is_reversed_exactly(
    value: str, written: str
) -> None:
    assert neutralise(value) == written
    assert unneutralise(neutralise(value)) == value


# ---------------------------------------------------------------- round trip (hypothesis)

_TEXT = (
    st.text(st.characters(blacklist_categories=("Cs", "Co", "Cn", "Cc")), min_size=1, max_size=30)
    .map(lambda s: " ".join(s.split()))
    .filter(bool)
)
_RISKY = st.sampled_from(["=1+1", "+x", "-5", "@SUM(A1)", "'=x", "'x", "''-y"])
_CELL = _TEXT | _RISKY
_OPTIONAL = st.none() | _CELL
_LIST_ITEM = _CELL.filter(lambda s: ";" not in s)
_NAME = _TEXT.filter(lambda s: ";" not in s and len(s) > 1).map(parse_name)
_AMBIGUOUS = st.sampled_from(["Smith and Jones Group", "A B, C De", "Moreau C., Lefebvre J."])
_ABSTRACT = st.none() | st.text(
    st.characters(blacklist_categories=("Cs", "Co", "Cn", "Cc")) | st.just("\n"),
    min_size=1,
    max_size=60,
).map(str.strip).filter(bool)

TABLE_RECORDS = st.builds(
    Record,
    source=st.just("s"),
    source_id=_OPTIONAL,
    title=_OPTIONAL,
    abstract=_ABSTRACT,
    authors=st.lists(_NAME | _AMBIGUOUS.map(parse_name), max_size=3).map(tuple),
    journal=_OPTIONAL,
    journal_iso=_OPTIONAL,
    year=st.none() | st.integers(1000, 2999),
    volume=_OPTIONAL,
    issue=_OPTIONAL,
    pages=_OPTIONAL,
    doi=st.none() | st.integers(1000, 99999).map(lambda n: f"10.{n}/abc.{n}"),
    pmid=st.none() | st.integers(1, 99_999_999).map(str),
    pmcid=st.none() | st.integers(1, 9_999_999).map(lambda n: f"PMC{n}"),
    issn=_OPTIONAL,
    language=_OPTIONAL,
    record_type=_OPTIONAL,
    url=_OPTIONAL,
    publication_types=st.lists(_LIST_ITEM, max_size=2).map(tuple),
    mesh=st.lists(_LIST_ITEM, max_size=2).map(tuple),
    keywords=st.lists(_LIST_ITEM, max_size=2).map(tuple),
    extra=st.lists(st.tuples(st.text(max_size=8), st.text(max_size=20)), max_size=3).map(tuple),
)


def _csv_bytes(records: list[Record]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for i, record in enumerate(records, start=1):
        writer.writerow(record_cells(record, casepool_id=i, cluster_id=i, is_primary=True))
    return out.getvalue().encode("utf-8")


@settings(max_examples=150, deadline=None)
@given(st.lists(TABLE_RECORDS, min_size=1, max_size=4))
def test_records_round_trip_through_csv_unchanged(records: list[Record]) -> None:
    parsed = read_delimited(_csv_bytes(records), "x.csv", source="s")
    assert parsed.rejects == ()
    assert list(parsed.records) == records


def _xlsx_bytes(records: list[Record]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("records")
    sheet.append(list(EXPORT_COLUMNS))
    for i, record in enumerate(records, start=1):
        sheet.append(record_cells(record, casepool_id=i, cluster_id=i, is_primary=True))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@settings(max_examples=30, deadline=None)
@given(st.lists(TABLE_RECORDS, min_size=1, max_size=3))
def test_records_round_trip_through_xlsx_unchanged(records: list[Record]) -> None:
    parsed = read_xlsx(_xlsx_bytes(records), "x.xlsx", source="s")
    assert parsed.rejects == ()
    assert list(parsed.records) == records
